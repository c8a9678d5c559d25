import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  defaultUseMonitor,
  parseSchedule,
  parseTimeSpan,
  ScheduleError,
} from "../../../src/timers/ncrontab.js";

/** Local time, as the host evaluates schedules. */
const at = (year: number, month: number, day: number, hour = 0, minute = 0, second = 0) =>
  new Date(year, month - 1, day, hour, minute, second);

function occurrences(expression: string, from: Date, count: number): Date[] {
  const schedule = parseSchedule(expression);
  const found: Date[] = [];
  let cursor = from;
  for (let index = 0; index < count; index += 1) {
    cursor = schedule.nextAfter(cursor);
    found.push(cursor);
  }
  return found;
}

describe("NCRONTAB schedules", () => {
  test("the first field is seconds", () => {
    expect(occurrences("*/15 * * * * *", at(2026, 1, 1, 10, 0, 0), 3)).toEqual([
      at(2026, 1, 1, 10, 0, 15),
      at(2026, 1, 1, 10, 0, 30),
      at(2026, 1, 1, 10, 0, 45),
    ]);
  });

  test("every five minutes fires on the minute, strictly after the given time", () => {
    expect(occurrences("0 */5 * * * *", at(2026, 1, 1, 10, 5, 0), 2)).toEqual([
      at(2026, 1, 1, 10, 10),
      at(2026, 1, 1, 10, 15),
    ]);
  });

  test("lists and ranges combine", () => {
    expect(occurrences("0 0 9-10,17 * * *", at(2026, 1, 1, 8), 4)).toEqual([
      at(2026, 1, 1, 9),
      at(2026, 1, 1, 10),
      at(2026, 1, 1, 17),
      at(2026, 1, 2, 9),
    ]);
  });

  test("day and month names are accepted", () => {
    // 2026-01-05 is a Monday.
    expect(occurrences("0 30 2 * Jan-Feb mon-wed", at(2026, 1, 1), 4)).toEqual([
      at(2026, 1, 5, 2, 30),
      at(2026, 1, 6, 2, 30),
      at(2026, 1, 7, 2, 30),
      at(2026, 1, 12, 2, 30),
    ]);
  });

  test("when both day-of-month and day-of-week are restricted, both must match", () => {
    // Friday the 13th, not every 13th and every Friday (which Vixie cron would do).
    const fridays13 = occurrences("0 0 0 13 * 5", at(2026, 1, 1), 3);

    expect(fridays13).toEqual([at(2026, 2, 13), at(2026, 3, 13), at(2026, 11, 13)]);
    expect(fridays13.every((date) => date.getDay() === 5 && date.getDate() === 13)).toBe(true);
  });

  test("a start value with a step runs to the end of the field", () => {
    expect(occurrences("0 10/20 * * * *", at(2026, 1, 1, 0, 0), 3)).toEqual([
      at(2026, 1, 1, 0, 10),
      at(2026, 1, 1, 0, 30),
      at(2026, 1, 1, 0, 50),
    ]);
  });

  test("a leap day schedule finds the next February 29", () => {
    expect(occurrences("0 0 12 29 2 *", at(2026, 1, 1), 1)).toEqual([at(2028, 2, 29, 12)]);
  });

  test("every occurrence satisfies every field, for any start time", () => {
    const schedule = parseSchedule("5 */7 3-20/4 1-20 * 1-5");
    fc.assert(
      fc.property(
        fc.date({ min: new Date(2000, 0, 1), max: new Date(2090, 0, 1), noInvalidDate: true }),
        (from) => {
          const next = schedule.nextAfter(from);
          expect(next.getTime()).toBeGreaterThan(from.getTime());
          expect(next.getSeconds()).toBe(5);
          expect(next.getMinutes() % 7).toBe(0);
          expect([3, 7, 11, 15, 19]).toContain(next.getHours());
          expect(next.getDate()).toBeLessThanOrEqual(20);
          expect(next.getDay()).toBeGreaterThanOrEqual(1);
          expect(next.getDay()).toBeLessThanOrEqual(5);
        },
      ),
      { numRuns: 200 },
    );
  });

  test.each([
    ["0 */5 * * *", /expected six fields/],
    ["0 0 24 * * *", /hour 24 is outside 0-23/],
    ["0 0 0 * * 7", /day-of-week 7 is outside 0-6/],
    ["0 0 0 L * *", /not a valid day/],
    ["0 0 0 ? * *", /not a valid day/],
    ["0 0 0 10-5 * *", /runs backwards/],
    ["0 0 0 31 2 *", /never fires/],
    ["*/0 * * * * *", /invalid step/],
  ])("rejects %s", (expression, message) => {
    expect(() => parseSchedule(expression)).toThrow(ScheduleError);
    expect(() => parseSchedule(expression)).toThrow(message);
  });
});

describe("TimeSpan schedules", () => {
  test("hh:mm:ss is a constant interval from the given time", () => {
    expect(occurrences("00:05:00", at(2026, 1, 1, 10, 2, 30), 2)).toEqual([
      at(2026, 1, 1, 10, 7, 30),
      at(2026, 1, 1, 10, 12, 30),
    ]);
  });

  test("days and fractions parse", () => {
    expect(parseTimeSpan("1.02:03:04.5")).toBe(((26 * 60 + 3) * 60 + 4) * 1000 + 500);
    expect(parseTimeSpan("25:00:00")).toBeUndefined();
    expect(() => parseSchedule("00:00:00")).toThrow(/must be positive/);
  });
});

describe("the default useMonitor", () => {
  test("is on for schedules at most once a minute and off for faster ones", () => {
    const now = at(2026, 1, 1);

    expect(defaultUseMonitor(parseSchedule("0 * * * * *"), now)).toBe(true);
    expect(defaultUseMonitor(parseSchedule("*/30 * * * * *"), now)).toBe(false);
    expect(defaultUseMonitor(parseSchedule("00:00:10"), now)).toBe(false);
  });
});
