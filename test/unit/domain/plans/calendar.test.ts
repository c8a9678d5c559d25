import { describe, expect, it } from "vitest";
import { dueOccurrence } from "../../../../src/domain/plans/plans.js";
import {
  daysInMonth,
  firstBusinessDayOfMonth,
  lastBusinessDayOfMonth,
  refinementAllows,
} from "../../../../src/domain/plans/calendar.js";

const utc = (text: string) => new Date(`${text}Z`);

describe("the last business day of the month", () => {
  it.each([
    ["2024-02-10T00:00:00", 29, "a leap-year February ending on a Thursday"],
    ["2025-02-10T00:00:00", 28, "a February ending on a Friday"],
    ["2026-02-10T00:00:00", 27, "a month ending on a Saturday"],
    ["2026-05-10T00:00:00", 29, "a month ending on a Sunday"],
    ["2026-11-10T00:00:00", 30, "a month ending on a Monday"],
    ["2100-02-10T00:00:00", 26, "a century year that is not a leap year, ending on a Sunday"],
  ])("falls on day %s -> %i (%s)", (date, expected) => {
    expect(lastBusinessDayOfMonth(utc(date))).toBe(expected);
  });

  it("counts 29 days in February of leap years and 28 otherwise", () => {
    expect(daysInMonth(utc("2024-02-01T00:00:00"))).toBe(29);
    expect(daysInMonth(utc("2000-02-01T00:00:00"))).toBe(29);
    expect(daysInMonth(utc("2100-02-01T00:00:00"))).toBe(28);
    expect(daysInMonth(utc("2026-02-01T00:00:00"))).toBe(28);
  });
});

describe("the first business day of the month", () => {
  it("skips a weekend at the start of the month", () => {
    expect(firstBusinessDayOfMonth(utc("2026-08-20T00:00:00"))).toBe(3);
  });

  it("is the first when the month starts on a weekday", () => {
    expect(firstBusinessDayOfMonth(utc("2026-09-20T00:00:00"))).toBe(1);
  });
});

describe("refining a schedule's occurrences", () => {
  it("keeps every occurrence without a refinement", () => {
    expect(refinementAllows(undefined, utc("2026-05-30T22:00:00"))).toBe(true);
  });

  it("keeps the last day of the month only on that day", () => {
    expect(refinementAllows("lastDayOfMonth", utc("2026-05-31T22:00:00"))).toBe(true);
    expect(refinementAllows("lastDayOfMonth", utc("2026-05-30T22:00:00"))).toBe(false);
  });

  it("runs a nightly month-end plan on Friday the 29th when the month ends on a Sunday", () => {
    // Arrange
    const plan = {
      schedule: "0 0 22 * * *",
      calendar: "lastBusinessDayOfMonth" as const,
      catchUpHours: 1,
    };

    // Act
    const friday = dueOccurrence(plan, utc("2026-05-29T22:03:00"));
    const saturday = dueOccurrence(plan, utc("2026-05-30T22:03:00"));
    const sunday = dueOccurrence(plan, utc("2026-05-31T22:03:00"));

    // Assert
    expect(friday?.toISOString()).toBe("2026-05-29T22:00:00.000Z");
    expect(saturday).toBeUndefined();
    expect(sunday).toBeUndefined();
  });

  it("runs the month-end plan on the leap day of a leap year", () => {
    const plan = {
      schedule: "0 0 22 * * *",
      calendar: "lastBusinessDayOfMonth" as const,
      catchUpHours: 1,
    };

    expect(dueOccurrence(plan, utc("2024-02-28T22:05:00"))).toBeUndefined();
    expect(dueOccurrence(plan, utc("2024-02-29T22:05:00"))?.toISOString()).toBe(
      "2024-02-29T22:00:00.000Z",
    );
  });
});
