import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../../src/domain/errors.js";
import {
  backupRuleOf,
  frequencyOfInterval,
  parseRepeatingInterval,
  scheduleOccurrences,
} from "../../../../src/domain/policy/schedule.js";
import type { BackupPolicy } from "../../../../src/domain/policy/types.js";

const ms = (iso: string): number => Date.parse(iso);
const isos = (instants: readonly number[]): string[] =>
  instants.map((at) => new Date(at).toISOString());

describe("parseRepeatingInterval", () => {
  it("reads the seed's interval: start wall-clock time, offset and a one-week period", () => {
    // Act
    const interval = parseRepeatingInterval("R/2021-08-15T22:00:00+00:00/P1W");
    // Assert
    expect(interval?.startWallMs).toBe(Date.UTC(2021, 7, 15, 22, 0, 0));
    expect(interval?.offsetMinutes).toBe(0);
    expect(interval?.period.weeks).toBe(1);
    expect(interval?.repetitions).toBeUndefined();
  });

  it("keeps an explicit +05:30 offset and leaves a missing one undefined", () => {
    // Act
    const india = parseRepeatingInterval("R/2026-01-04T02:00:00+05:30/P1W");
    const bare = parseRepeatingInterval("R/2026-01-04T02:00/P1W");
    // Assert
    expect(india?.offsetMinutes).toBe(330);
    expect(bare?.offsetMinutes).toBeUndefined();
    expect(bare?.startWallMs).toBe(Date.UTC(2026, 0, 4, 2, 0));
  });

  it("accepts 29 February in a leap year and refuses it in a common year", () => {
    // Act
    const leap = parseRepeatingInterval("R/2028-02-29T10:00:00+00:00/P1W");
    const common = parseRepeatingInterval("R/2027-02-29T10:00:00+00:00/P1W");
    // Assert
    expect(leap?.startWallMs).toBe(Date.UTC(2028, 1, 29, 10));
    expect(common).toBeUndefined();
  });

  it.each([
    "2021-08-15T22:00:00+00:00/P1W",
    "R/2021-08-15 22:00:00+00:00/P1W",
    "R/2021-13-01T22:00:00+00:00/P1W",
    "R/2021-04-31T22:00:00+00:00/P1W",
    "R/2021-08-15T24:00:00+00:00/P1W",
    "R/2021-08-15T22:00:00+00:00/P0D",
    "R/2021-08-15T22:00:00+15:00/P1W",
    "R/2021-08-15T22:00:00+00:00/1W",
  ])("refuses '%s'", (text) => {
    // Act
    const interval = parseRepeatingInterval(text);
    // Assert
    expect(interval).toBeUndefined();
  });
});

describe("frequencyOfInterval", () => {
  it.each([
    ["R/2021-08-15T22:00:00+00:00/P1W", "Weekly"],
    ["R/2021-08-15T22:00:00+00:00/P7D", "Weekly"],
    ["R/2021-08-15T22:00:00+00:00/P1D", "Daily"],
    ["R/2021-08-15T22:00:00+00:00/PT4H", "Hourly"],
    ["R/2021-08-15T22:00:00+00:00/P1M", undefined],
  ])("calls %s %s", (text, expected) => {
    // Arrange
    const interval = parseRepeatingInterval(text);
    if (!interval) throw new Error("fixture must parse");
    // Act
    const frequency = frequencyOfInterval(interval);
    // Assert
    expect(frequency).toBe(expected);
  });
});

describe("scheduleOccurrences", () => {
  it("fires the seed's Sunday, Wednesday and Friday 22:00 UTC schedule in time order", () => {
    // Arrange
    const schedule = {
      repeatingTimeIntervals: [
        "R/2021-08-15T22:00:00+00:00/P1W",
        "R/2021-08-18T22:00:00+00:00/P1W",
        "R/2021-08-20T22:00:00+00:00/P1W",
      ],
      timeZone: "UTC",
    };
    // Act
    const instants = scheduleOccurrences(
      schedule,
      ms("2026-02-27T00:00:00Z"),
      ms("2026-03-09T00:00:00Z"),
    );
    // Assert: Fri 27 Feb, Sun 1 Mar, Wed 4 Mar, Fri 6 Mar, Sun 8 Mar.
    expect(isos(instants)).toEqual([
      "2026-02-27T22:00:00.000Z",
      "2026-03-01T22:00:00.000Z",
      "2026-03-04T22:00:00.000Z",
      "2026-03-06T22:00:00.000Z",
      "2026-03-08T22:00:00.000Z",
    ]);
  });

  it("includes an occurrence at the window's start and excludes one at its end", () => {
    // Arrange
    const schedule = {
      repeatingTimeIntervals: ["R/2026-01-04T22:00:00+00:00/P1W"],
      timeZone: "UTC",
    };
    // Act
    const instants = scheduleOccurrences(
      schedule,
      ms("2026-01-11T22:00:00Z"),
      ms("2026-01-25T22:00:00Z"),
    );
    // Assert
    expect(isos(instants)).toEqual(["2026-01-11T22:00:00.000Z", "2026-01-18T22:00:00.000Z"]);
  });

  it("fires nothing before the interval's start", () => {
    // Arrange
    const schedule = {
      repeatingTimeIntervals: ["R/2026-01-04T22:00:00+00:00/P1W"],
      timeZone: "UTC",
    };
    // Act
    const instants = scheduleOccurrences(
      schedule,
      ms("2025-12-01T00:00:00Z"),
      ms("2026-01-12T00:00:00Z"),
    );
    // Assert
    expect(isos(instants)).toEqual(["2026-01-04T22:00:00.000Z", "2026-01-11T22:00:00.000Z"]);
  });

  it("keeps 22:00 Berlin wall-clock time when daylight saving starts and ends", () => {
    // Arrange: Sundays 22:00 in Berlin; summer time from 29 Mar to 25 Oct 2026.
    const schedule = {
      repeatingTimeIntervals: ["R/2026-03-22T22:00:00+01:00/P1W"],
      timeZone: "Europe/Berlin",
    };
    // Act
    const spring = scheduleOccurrences(
      schedule,
      ms("2026-03-22T00:00:00Z"),
      ms("2026-04-06T00:00:00Z"),
    );
    const autumn = scheduleOccurrences(
      schedule,
      ms("2026-10-18T00:00:00Z"),
      ms("2026-11-02T00:00:00Z"),
    );
    // Assert
    expect(isos(spring)).toEqual([
      "2026-03-22T21:00:00.000Z",
      "2026-03-29T20:00:00.000Z",
      "2026-04-05T20:00:00.000Z",
    ]);
    expect(isos(autumn)).toEqual([
      "2026-10-18T20:00:00.000Z",
      "2026-10-25T21:00:00.000Z",
      "2026-11-01T21:00:00.000Z",
    ]);
  });

  it("runs a 02:30 Berlin backup at 03:30 on the night 02:30 does not exist", () => {
    // Arrange
    const schedule = {
      repeatingTimeIntervals: ["R/2026-03-22T02:30:00+01:00/P1W"],
      timeZone: "Europe/Berlin",
    };
    // Act
    const instants = scheduleOccurrences(
      schedule,
      ms("2026-03-22T00:00:00Z"),
      ms("2026-04-06T00:00:00Z"),
    );
    // Assert: 22 Mar 02:30 CET, 29 Mar 03:30 CEST, 5 Apr 02:30 CEST.
    expect(isos(instants)).toEqual([
      "2026-03-22T01:30:00.000Z",
      "2026-03-29T01:30:00.000Z",
      "2026-04-05T00:30:00.000Z",
    ]);
  });

  it("fires an interval with an explicit +05:30 offset at that offset under a UTC schedule", () => {
    // Arrange
    const schedule = {
      repeatingTimeIntervals: ["R/2026-01-04T02:00:00+05:30/P1W"],
      timeZone: "UTC",
    };
    // Act
    const instants = scheduleOccurrences(
      schedule,
      ms("2026-01-01T00:00:00Z"),
      ms("2026-01-15T00:00:00Z"),
    );
    // Assert: Sunday 02:00 at +05:30 is Saturday 20:30 UTC.
    expect(isos(instants)).toEqual(["2026-01-03T20:30:00.000Z", "2026-01-10T20:30:00.000Z"]);
  });

  it("fires a monthly period on the clamped day without drifting after a short month", () => {
    // Arrange
    const schedule = {
      repeatingTimeIntervals: ["R/2026-01-31T12:00:00+00:00/P1M"],
      timeZone: "UTC",
    };
    // Act
    const instants = scheduleOccurrences(
      schedule,
      ms("2026-01-01T00:00:00Z"),
      ms("2026-05-01T00:00:00Z"),
    );
    // Assert: each occurrence counts months from the start, so March is back on the 31st.
    expect(isos(instants)).toEqual([
      "2026-01-31T12:00:00.000Z",
      "2026-02-28T12:00:00.000Z",
      "2026-03-31T12:00:00.000Z",
      "2026-04-30T12:00:00.000Z",
    ]);
  });

  it("merges intervals that fire at the same instant into one occurrence", () => {
    // Arrange
    const schedule = {
      repeatingTimeIntervals: [
        "R/2026-01-04T22:00:00+00:00/P1W",
        "R/2026-01-11T22:00:00+00:00/P1W",
      ],
      timeZone: "UTC",
    };
    // Act
    const instants = scheduleOccurrences(
      schedule,
      ms("2026-01-01T00:00:00Z"),
      ms("2026-01-19T00:00:00Z"),
    );
    // Assert
    expect(isos(instants)).toEqual([
      "2026-01-04T22:00:00.000Z",
      "2026-01-11T22:00:00.000Z",
      "2026-01-18T22:00:00.000Z",
    ]);
  });

  it("finds the same occurrences ten years after the start as walking there week by week would", () => {
    // Arrange
    const schedule = {
      repeatingTimeIntervals: ["R/2021-08-15T22:00:00+00:00/P1W"],
      timeZone: "UTC",
    };
    const start = ms("2021-08-15T22:00:00Z");
    const expected: number[] = [];
    for (let at = start; at < ms("2031-09-01T00:00:00Z"); at += 7 * 86_400_000) {
      if (at >= ms("2031-08-01T00:00:00Z")) expected.push(at);
    }
    // Act
    const instants = scheduleOccurrences(
      schedule,
      ms("2031-08-01T00:00:00Z"),
      ms("2031-09-01T00:00:00Z"),
    );
    // Assert
    expect(instants).toEqual(expected);
    expect(instants).toHaveLength(5); // Sundays 3, 10, 17, 24 and 31 August 2031
  });

  it("names the interval that cannot be read", () => {
    // Arrange
    const schedule = {
      repeatingTimeIntervals: ["R/2026-01-04T22:00:00+00:00/P1W", "weekly"],
      timeZone: "UTC",
    };
    // Act
    let error: unknown;
    try {
      scheduleOccurrences(schedule, 0, 1);
    } catch (caught) {
      error = caught;
    }
    // Assert
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).problems[0]?.path).toBe(
      "$.schedule.repeatingTimeIntervals[1]",
    );
  });

  it("refuses a time zone it does not know", () => {
    // Arrange
    const schedule = {
      repeatingTimeIntervals: ["R/2026-01-04T22:00:00+00:00/P1W"],
      timeZone: "Atlantis/Standard",
    };
    // Act
    const act = () => scheduleOccurrences(schedule, 0, 1);
    // Assert
    expect(act).toThrow(/unknown schedule time zone/);
  });
});

describe("backupRuleOf", () => {
  it("refuses a policy without a backup rule", () => {
    // Arrange
    const policy: BackupPolicy = {
      objectType: "BackupPolicy",
      datasourceTypes: [],
      policyRules: [],
    };
    // Act
    const act = () => backupRuleOf(policy);
    // Assert
    expect(act).toThrow(InvalidInputError);
  });
});
