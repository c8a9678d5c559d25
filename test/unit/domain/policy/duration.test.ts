import { describe, expect, it } from "vitest";
import {
  addDuration,
  formatRetentionDuration,
  isZeroDuration,
  nominalDays,
  parseIsoDuration,
  type IsoDuration,
} from "../../../../src/domain/policy/duration.js";

const ms = (iso: string): number => Date.parse(iso);
const iso = (epochMs: number): string => new Date(epochMs).toISOString();

function duration(text: string): IsoDuration {
  const parsed = parseIsoDuration(text);
  if (!parsed) throw new Error(`not a duration: ${text}`);
  return parsed;
}

describe("parseIsoDuration", () => {
  it("reads every unit the service writes", () => {
    // Act
    const parsed = parseIsoDuration("P1Y2M3W4DT5H6M7.5S");
    // Assert
    expect(parsed).toEqual({
      years: 1,
      months: 2,
      weeks: 3,
      days: 4,
      hours: 5,
      minutes: 6,
      seconds: 7.5,
    });
  });

  it("tells months from minutes by the T separator", () => {
    // Act
    const months = parseIsoDuration("P6M");
    const minutes = parseIsoDuration("PT6M");
    // Assert
    expect(months?.months).toBe(6);
    expect(months?.minutes).toBe(0);
    expect(minutes?.minutes).toBe(6);
    expect(minutes?.months).toBe(0);
  });

  it.each(["", "P", "PT", "P1DT", "3M", "P-1M", "P1.5M", "P1M1Y", "p3m", "P3M "])(
    "refuses '%s'",
    (text) => {
      // Act
      const parsed = parseIsoDuration(text);
      // Assert
      expect(parsed).toBeUndefined();
    },
  );
});

describe("formatRetentionDuration", () => {
  it("writes a count and the unit's letter, as the CLI's create-lifecycle does", () => {
    // Act
    const texts = [
      formatRetentionDuration(6, "Months"),
      formatRetentionDuration(24, "Months"),
      formatRetentionDuration(10, "Years"),
      formatRetentionDuration(4, "Weeks"),
      formatRetentionDuration(30, "Days"),
    ];
    // Assert
    expect(texts).toEqual(["P6M", "P24M", "P10Y", "P4W", "P30D"]);
  });
});

describe("isZeroDuration and nominalDays", () => {
  it("calls P0D zero and P0DT1S not", () => {
    // Act
    const zero = isZeroDuration(duration("P0D"));
    const second = isZeroDuration(duration("P0DT1S"));
    // Assert
    expect(zero).toBe(true);
    expect(second).toBe(false);
  });

  it("counts a year as 365 days, a month as 30 and a week as 7, as the service's limits do", () => {
    // Act
    const days = nominalDays(duration("P10Y"));
    const mixed = nominalDays(duration("P1Y1M1W1DT12H"));
    // Assert
    expect(days).toBe(3650);
    expect(mixed).toBe(365 + 30 + 7 + 1 + 0.5);
  });
});

describe("addDuration", () => {
  it("clamps 31 January + P1M to 28 February in a common year and 29 February in a leap year", () => {
    // Act
    const common = addDuration(ms("2027-01-31T22:00:00Z"), duration("P1M"));
    const leap = addDuration(ms("2028-01-31T22:00:00Z"), duration("P1M"));
    // Assert
    expect(iso(common)).toBe("2027-02-28T22:00:00.000Z");
    expect(iso(leap)).toBe("2028-02-29T22:00:00.000Z");
  });

  it("clamps 29 February + P1Y to 28 February, and + P4Y lands on 29 February again", () => {
    // Act
    const oneYear = addDuration(ms("2028-02-29T06:30:00Z"), duration("P1Y"));
    const fourYears = addDuration(ms("2028-02-29T06:30:00Z"), duration("P4Y"));
    // Assert
    expect(iso(oneYear)).toBe("2029-02-28T06:30:00.000Z");
    expect(iso(fourYears)).toBe("2032-02-29T06:30:00.000Z");
  });

  it("clamps 31 March + P6M to 30 September, and 31 August + P6M to the end of February", () => {
    // Act
    const september = addDuration(ms("2026-03-31T00:00:00Z"), duration("P6M"));
    const february = addDuration(ms("2026-08-31T00:00:00Z"), duration("P6M"));
    // Assert
    expect(iso(september)).toBe("2026-09-30T00:00:00.000Z");
    expect(iso(february)).toBe("2027-02-28T00:00:00.000Z");
  });

  it("does not clamp twice: 31 January + P2M is 31 March", () => {
    // Act
    const result = addDuration(ms("2026-01-31T12:00:00Z"), duration("P2M"));
    // Assert
    expect(iso(result)).toBe("2026-03-31T12:00:00.000Z");
  });

  it("rolls months over the year end", () => {
    // Act
    const result = addDuration(ms("2026-11-15T08:00:00Z"), duration("P24M"));
    // Assert
    expect(iso(result)).toBe("2028-11-15T08:00:00.000Z");
  });

  it("adds weeks and days as exact lengths, across a leap day", () => {
    // Act
    const weeks = addDuration(ms("2028-02-25T10:00:00Z"), duration("P1W"));
    const days = addDuration(ms("2028-02-28T10:00:00Z"), duration("P2D"));
    // Assert
    expect(iso(weeks)).toBe("2028-03-03T10:00:00.000Z");
    expect(iso(days)).toBe("2028-03-01T10:00:00.000Z");
  });

  it("does month arithmetic on the wall-clock date of the given offset", () => {
    // Arrange: 30 Jan 20:00 UTC is already 31 Jan 01:30 at +05:30.
    const at = ms("2026-01-30T20:00:00Z");
    // Act
    const inUtc = addDuration(at, duration("P1M"), 0);
    const inIndia = addDuration(at, duration("P1M"), 330);
    // Assert: UTC clamps 30 Jan + 1 month to 28 Feb 20:00; at +05:30, 31 Jan 01:30 + 1 month is
    // 28 Feb 01:30 there, i.e. 27 Feb 20:00 UTC.
    expect(iso(inUtc)).toBe("2026-02-28T20:00:00.000Z");
    expect(iso(inIndia)).toBe("2026-02-27T20:00:00.000Z");
  });

  it("lands on a different UTC date when the offset moves the wall date across a month end", () => {
    // Arrange: 30 Apr 23:00 UTC is 1 May 04:30 at +05:30.
    const at = ms("2026-04-30T23:00:00Z");
    // Act
    const inUtc = addDuration(at, duration("P1M"), 0);
    const inIndia = addDuration(at, duration("P1M"), 330);
    // Assert: UTC gives 30 May; +05:30 gives 1 Jun 04:30 local = 31 May 23:00 UTC.
    expect(iso(inUtc)).toBe("2026-05-30T23:00:00.000Z");
    expect(iso(inIndia)).toBe("2026-05-31T23:00:00.000Z");
  });

  it("reads the date in a negative offset's wall clock, where it is still 28 February", () => {
    // Arrange: 1 Mar 02:00 UTC is 28 Feb 23:00 at -03:00.
    const at = ms("2027-03-01T02:00:00Z");
    // Act
    const result = addDuration(at, duration("P1Y"), -180);
    // Assert: 28 Feb 2028 23:00 at -03:00 (in UTC the same P1Y would give 1 Mar 2028 02:00).
    expect(iso(result)).toBe("2028-02-29T02:00:00.000Z");
    expect(iso(addDuration(at, duration("P1Y"), 0))).toBe("2028-03-01T02:00:00.000Z");
  });
});
