import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../../src/domain/errors.js";
import {
  calendarColours,
  calendarWindow,
  retentionCalendar,
} from "../../../../src/domain/policy/retentionCalendar.js";
import { compilePolicySpec } from "../../../../src/domain/policy/spec.js";

/** Sundays 22:00 UTC; the first backup of a month kept 6 months in the vault, then 24 in the archive; others 3 months. */
const policy = compilePolicySpec({
  datasourceType: "AzureDatabaseForPostgreSQL",
  schedule: { days: ["Sunday"], time: "22:00" },
  retention: { default: "P3M", monthly: { vault: "P6M", archive: "P24M" } },
});

interface DayCell {
  readonly date: string;
  readonly backups: number;
  readonly vaultStore: number;
  readonly archiveStore: number;
  readonly deletions: number;
  readonly title: string;
  readonly upperFill: string;
  readonly lowerFill: string;
}

type Node = Record<string, unknown>;
const list = (value: unknown): Node[] =>
  value === undefined ? [] : Array.isArray(value) ? (value as Node[]) : [value as Node];

/** Parses the SVG as XML, as any consumer would, and reads its day cells. */
function parseCalendar(svg: string): { root: Node; days: DayCell[] } {
  expect(XMLValidator.validate(svg)).toBe(true);
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@_" });
  const root = (parser.parse(svg) as { svg: Node }).svg;
  const days = list(root.g)
    .filter((g) => g["@_class"] === "day")
    .map((g): DayCell => {
      const rects = list(g.rect);
      return {
        date: String(g["@_data-date"]),
        backups: Number(g["@_data-backups"]),
        vaultStore: Number(g["@_data-vault-store"]),
        archiveStore: Number(g["@_data-archive-store"]),
        deletions: Number(g["@_data-deletions"]),
        title: String(g.title),
        upperFill: String(rects[0]?.["@_fill"]),
        lowerFill: String(rects[1]?.["@_fill"]),
      };
    });
  return { root, days };
}

describe("the retention calendar", () => {
  const svg = retentionCalendar({
    policy,
    policyName: "weekly-monthly",
    from: "2027-01-01",
    to: "2028-01-01",
  });
  const { root, days } = parseCalendar(svg);
  const day = (date: string): DayCell => {
    const found = days.find((d) => d.date === date);
    expect(found, date).toBeDefined();
    return found as DayCell;
  };

  it("draws one cell per UTC day of the window, and a backup on every Sunday", () => {
    expect(days).toHaveLength(365);
    expect(days[0]?.date).toBe("2027-01-01");
    expect(days.at(-1)?.date).toBe("2027-12-31");
    const backupDays = days.filter((d) => d.backups > 0).map((d) => d.date);
    expect(backupDays).toHaveLength(52);
    expect(backupDays.every((date) => new Date(`${date}T00:00:00Z`).getUTCDay() === 0)).toBe(true);
  });

  it("says in each backup day's text which tier keeps the backup until when, and when it expires", () => {
    expect(day("2027-01-03").title).toContain(
      "backup at 22:00, tag Monthly (rule Monthly): VaultStore until 2027-07-03 22:00, ArchiveStore from 2027-07-03 22:00 until 2029-07-03 22:00; expires 2029-07-03 22:00",
    );
    expect(day("2027-01-10").title).toContain(
      "backup at 22:00, tag Default (rule Default): VaultStore until 2027-04-10 22:00; expires 2027-04-10 22:00",
    );
  });

  it("marks the day a recovery point expires, clamped to the month's end", () => {
    expect(day("2027-04-10")).toMatchObject({ deletions: 1 });
    expect(day("2027-04-10").title).toContain("the backup of 2027-01-10 22:00 expires");
    expect(day("2027-04-30").title).toContain("the backup of 2027-01-31 22:00 expires");
    expect(day("2027-04-11")).toMatchObject({ deletions: 0 });
  });

  it("counts the recovery points each tier holds and colours the tier's half of the cell", () => {
    expect(day("2027-01-02")).toMatchObject({
      vaultStore: 0,
      archiveStore: 0,
      upperFill: calendarColours.empty,
    });
    expect(day("2027-01-03")).toMatchObject({
      vaultStore: 1,
      upperFill: calendarColours.vaultStore,
      lowerFill: calendarColours.empty,
    });
    expect(day("2027-01-10")).toMatchObject({ vaultStore: 2 });
    expect(day("2027-07-02")).toMatchObject({ archiveStore: 0 });
    expect(day("2027-07-03")).toMatchObject({
      archiveStore: 1,
      lowerFill: calendarColours.archiveStore,
    });
    expect(day("2027-07-03").title).toContain("1 in ArchiveStore");
  });

  it("has a title, a description and a legend naming both tiers", () => {
    expect(root.title).toBe(
      "Retention calendar of policy weekly-monthly, 2027-01-01 to 2027-12-31 (UTC days)",
    );
    expect(String(root.desc)).toContain("52 backups taken in the window");
    const legend = list(root.g).find((g) => g["@_class"] === "legend");
    const texts = list(legend?.g).map((item) => String((item.text as Node)["#text"]));
    expect(texts).toEqual([
      "VaultStore holds recovery points (upper half)",
      "ArchiveStore holds recovery points (lower half)",
      "a backup is taken",
      "a recovery point expires",
    ]);
  });

  it("escapes a policy name so the SVG stays well-formed XML", () => {
    const named = retentionCalendar({
      policy,
      policyName: `<a href="x">&`,
      from: "2027-01-01",
      to: "2027-02-01",
    });

    expect(parseCalendar(named).root.title).toBe(
      `Retention calendar of policy <a href="x">&, 2027-01-01 to 2027-01-31 (UTC days)`,
    );
  });

  it("refuses a window longer than ten years, as the simulator does", () => {
    expect(() => retentionCalendar({ policy, from: "2027-01-01", to: "2038-01-01" })).toThrowError(
      expect.objectContaining({ code: "SIMULATION_WINDOW_TOO_LONG" }),
    );
  });
});

describe("the retention calendar's window", () => {
  const now = new Date("2026-12-07T15:40:00Z");

  it("is the next twelve months from today by default", () => {
    expect(calendarWindow({}, now)).toEqual({
      from: Date.parse("2026-12-07T00:00:00Z"),
      to: Date.parse("2027-12-07T00:00:00Z"),
    });
  });

  it("is a whole UTC year when a year is given", () => {
    expect(calendarWindow({ year: "2027" }, now)).toEqual({
      from: Date.parse("2027-01-01T00:00:00Z"),
      to: Date.parse("2028-01-01T00:00:00Z"),
    });
  });

  it("refuses a year that is not a year, and an instant that is not one", () => {
    expect(() => calendarWindow({ year: "27" }, now)).toThrowError(InvalidInputError);
    expect(() => calendarWindow({ year: "0999" }, now)).toThrowError(
      expect.objectContaining({ code: "CALENDAR_YEAR_INVALID" }),
    );
    expect(() => calendarWindow({ from: "2027-02-30" }, now)).toThrowError(
      expect.objectContaining({ code: "SIMULATION_INSTANT_INVALID" }),
    );
  });
});
