import { describe, expect, it } from "vitest";
import { occurrencesBetween, parseCronSchedule } from "../../../../src/domain/plans/cron.js";
import { InvalidInputError } from "../../../../src/domain/errors.js";

const utc = (text: string) => new Date(`${text}Z`);
const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

describe("NCRONTAB schedules of backup plans", () => {
  it("lists the occurrences in a window, excluding its start and including its end", () => {
    const schedule = parseCronSchedule("0 */30 * * * *");

    const found = occurrencesBetween(
      schedule,
      utc("2026-03-01T10:00:00"),
      utc("2026-03-01T11:00:00"),
    );

    expect(iso(found)).toEqual(["2026-03-01T10:30:00.000Z", "2026-03-01T11:00:00.000Z"]);
  });

  it("honours seconds, names of days and months, and ranges", () => {
    const schedule = parseCronSchedule("15 0 22 * Mar Mon-Fri");

    const found = occurrencesBetween(
      schedule,
      utc("2026-03-06T00:00:00"),
      utc("2026-03-10T00:00:00"),
    );

    // 6 March 2026 is a Friday; the 7th and 8th are a weekend.
    expect(iso(found)).toEqual(["2026-03-06T22:00:15.000Z", "2026-03-09T22:00:15.000Z"]);
  });

  it("requires both the day of month and the day of week to match, as NCRONTAB does", () => {
    const schedule = parseCronSchedule("0 0 0 13 * Fri");

    const found = occurrencesBetween(
      schedule,
      utc("2026-01-01T00:00:00"),
      utc("2026-12-31T00:00:00"),
    );

    expect(iso(found)).toEqual([
      "2026-02-13T00:00:00.000Z",
      "2026-03-13T00:00:00.000Z",
      "2026-11-13T00:00:00.000Z",
    ]);
  });

  it.each([
    ["0 0 22 * *", "six fields"],
    ["0 0 25 * * *", "hour 25"],
    ["0 0 22 * * Funday", "Funday"],
    ["0 0 22 5-1 * *", "backwards"],
  ])("rejects %s, naming the problem", (expression, words) => {
    expect(() => parseCronSchedule(expression)).toThrow(InvalidInputError);
    expect(() => parseCronSchedule(expression)).toThrow(words);
  });
});
