/**
 * `pgprotect policy calendar`: the retention calendar drawn offline from a policy file, as the API
 * draws it, written to stdout as SVG; a bad file or date is one readable line and a non-zero exit.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { XMLParser } from "fast-xml-parser";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runPgprotect } from "../../support/cliHarness.js";

/** Sundays 22:00 UTC, kept a month; a month's first backup six months in the vault, then two years in the archive. */
const monthlyArchiveSpec = {
  datasourceType: "AzureDatabaseForPostgreSQL",
  schedule: { days: ["Sunday"], time: "22:00" },
  retention: { default: "P1M", monthly: { vault: "P6M", archive: "P24M" } },
};

interface DayCell {
  readonly "@_data-date": string;
  readonly "@_data-backups": string;
  readonly "@_data-vault-store": string;
  readonly "@_data-archive-store": string;
  readonly "@_data-deletions": string;
  readonly title: string;
}

interface ParsedCalendar {
  readonly svg: {
    readonly title: string;
    readonly desc: string;
    readonly g: ReadonlyArray<Record<string, unknown>>;
  };
}

/** The SVG as XML: a parse error fails the test, as a viewer would refuse the file. */
function parseCalendar(svgText: string): { title: string; days: DayCell[]; legend: string[] } {
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@_" });
  const parsed = parser.parse(svgText, true) as ParsedCalendar;
  const groups = parsed.svg.g;
  const days = groups.filter((g) => g["@_class"] === "day") as unknown as DayCell[];
  const legend = groups.find((g) => g["@_class"] === "legend") as
    { g: Array<{ text: string | { "#text": string } }> } | undefined;
  const legendTexts = (legend?.g ?? []).map((item) =>
    typeof item.text === "string" ? item.text : item.text["#text"],
  );
  return { title: parsed.svg.title, days, legend: legendTexts };
}

describe("pgprotect policy calendar", () => {
  let dir: string;
  let policyFile: string;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "pgprotect-calendar-"));
    writeFileSync(path.join(dir, "spec.json"), JSON.stringify(monthlyArchiveSpec));
    const compiled = await runPgprotect(["policy", "compile", "--spec", "spec.json"], dir);
    expect(compiled.exitCode).toBe(0);
    policyFile = path.join(dir, "policy.json");
    writeFileSync(policyFile, compiled.stdout);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("draws every UTC day of the window, a backup each Sunday, and each backup's tier and expiry", async () => {
    const run = await runPgprotect(
      [
        "policy",
        "calendar",
        "--policy",
        "policy.json",
        "--from",
        "2027-01-01",
        "--to",
        "2027-03-01",
        "--name",
        "monthly-archive",
      ],
      dir,
    );

    expect(run.exitCode).toBe(0);
    expect(run.stderr).toBe("");
    const calendar = parseCalendar(run.stdout);
    expect(calendar.title).toBe(
      "Retention calendar of policy monthly-archive, 2027-01-01 to 2027-02-28 (UTC days)",
    );
    expect(calendar.days).toHaveLength(59);
    const backupDays = calendar.days
      .filter((day) => day["@_data-backups"] !== "0")
      .map((day) => day["@_data-date"]);
    expect(backupDays).toEqual([
      "2027-01-03",
      "2027-01-10",
      "2027-01-17",
      "2027-01-24",
      "2027-01-31",
      "2027-02-07",
      "2027-02-14",
      "2027-02-21",
      "2027-02-28",
    ]);
    const day = (date: string) => calendar.days.find((cell) => cell["@_data-date"] === date);
    // The month's first backup is tagged Monthly: six months in the vault, then two years archived.
    expect(day("2027-01-03")?.title).toContain(
      "backup at 22:00, tag Monthly (rule Monthly): VaultStore until 2027-07-03 22:00, ArchiveStore from 2027-07-03 22:00 until 2029-07-03 22:00; expires 2029-07-03 22:00",
    );
    // The others are kept a month in the vault only, and expire on the day a month later.
    expect(day("2027-01-10")?.title).toContain(
      "tag Default (rule Default): VaultStore until 2027-02-10 22:00; expires 2027-02-10 22:00",
    );
    expect(day("2027-02-10")?.["@_data-deletions"]).toBe("1");
    expect(day("2027-02-10")?.title).toContain("the backup of 2027-01-10 22:00 expires");
    // On 10 January the vault holds the backups of the 3rd and the 10th; nothing is archived yet.
    expect(day("2027-01-10")?.["@_data-vault-store"]).toBe("2");
    expect(calendar.days.every((cell) => cell["@_data-archive-store"] === "0")).toBe(true);
    expect(calendar.legend).toEqual([
      "VaultStore holds recovery points (upper half)",
      "ArchiveStore holds recovery points (lower half)",
      "a backup is taken",
      "a recovery point expires",
    ]);
  });

  it("draws the archive tier once the first copies move there, for a whole --year", async () => {
    const run = await runPgprotect(
      ["policy", "calendar", "--policy", "policy.json", "--year", "2027"],
      dir,
    );

    expect(run.exitCode).toBe(0);
    const calendar = parseCalendar(run.stdout);
    expect(calendar.days).toHaveLength(365);
    const firstArchived = calendar.days.find((cell) => cell["@_data-archive-store"] !== "0");
    expect(firstArchived?.["@_data-date"]).toBe("2027-07-03");
    expect(firstArchived?.title).toContain("held this day:");
    expect(firstArchived?.title).toContain("1 in ArchiveStore");
  });

  it("reads the policy from standard input and titles it with the resource's own name", async () => {
    const resource = {
      name: "weekly-<gold>",
      properties: JSON.parse(
        (await runPgprotect(["policy", "compile", "--spec", "spec.json"], dir)).stdout,
      ) as unknown,
    };

    const run = await runPgprotect(
      ["policy", "calendar", "--policy", "-", "--from", "2027-01-01", "--to", "2027-01-08"],
      dir,
      JSON.stringify(resource),
    );

    expect(run.exitCode).toBe(0);
    expect(parseCalendar(run.stdout).title).toBe(
      "Retention calendar of policy weekly-<gold>, 2027-01-01 to 2027-01-07 (UTC days)",
    );
  });

  it("says in one line what is wrong with a date, a file or a policy, prints no SVG, and exits non-zero", async () => {
    writeFileSync(path.join(dir, "broken.json"), "{ not json");
    writeFileSync(path.join(dir, "no-schedule.json"), JSON.stringify({ policyRules: [] }));
    const calendar = (...args: string[]) => runPgprotect(["policy", "calendar", ...args], dir);

    const runs = {
      badDate: await calendar("--policy", "policy.json", "--from", "first of May"),
      badYear: await calendar("--policy", "policy.json", "--year", "next"),
      tooLong: await calendar(
        "--policy",
        "policy.json",
        "--from",
        "2027-01-01",
        "--to",
        "2040-01-01",
      ),
      missingFile: await calendar("--policy", "nowhere.json"),
      brokenFile: await calendar("--policy", "broken.json"),
      notAPolicy: await calendar("--policy", "no-schedule.json"),
      yearAndFrom: await calendar(
        "--policy",
        "policy.json",
        "--year",
        "2027",
        "--from",
        "2027-01-01",
      ),
      noPolicy: await calendar(),
    };

    for (const [name, run] of Object.entries(runs)) {
      expect(run.stdout, name).toBe("");
      expect(run.stderr.trim().split("\n"), name).toHaveLength(1);
      expect(run.stderr, name).toMatch(/^pgprotect policy calendar: /);
    }
    expect(runs.badDate.exitCode).toBe(1);
    expect(runs.badDate.stderr).toContain("from: 'first of May' is not an instant");
    expect(runs.badYear.exitCode).toBe(1);
    expect(runs.badYear.stderr).toContain("'next' is not a year");
    expect(runs.tooLong.exitCode).toBe(1);
    expect(runs.missingFile.exitCode).toBe(1);
    expect(runs.missingFile.stderr).toContain("--policy: file 'nowhere.json' not found");
    expect(runs.brokenFile.exitCode).toBe(1);
    expect(runs.brokenFile.stderr).toContain("'broken.json' is not valid JSON");
    expect(runs.notAPolicy.exitCode).toBe(1);
    expect([runs.yearAndFrom.exitCode, runs.noPolicy.exitCode]).toEqual([2, 2]);
    expect(runs.noPolicy.stderr).toContain("--policy");
  });

  it("lists its options and the exit codes in its help", async () => {
    const run = await runPgprotect(["policy", "calendar", "--help"], dir);

    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("--from");
    expect(run.stdout).toContain("--year");
    expect(run.stdout).toMatch(/Exit codes: 0 done; 1 .*; 2 wrong command line/);
  });
});
