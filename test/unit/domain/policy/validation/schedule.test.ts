import { describe, expect, it } from "vitest";
import { datasourceManifests } from "../../../../../src/domain/policy/datasources.js";
import { PolicyProblems } from "../../../../../src/domain/policy/validation/problems.js";
import { validateSchedule } from "../../../../../src/domain/policy/validation/schedule.js";

const single = datasourceManifests.AzureDatabaseForPostgreSQL;

describe("validateSchedule", () => {
  it("hands back the weekdays of the well-formed intervals, for the tags to be checked against", () => {
    // Arrange
    const problems = new PolicyProblems();
    const schedule = {
      timeZone: "UTC",
      repeatingTimeIntervals: [
        "R/2021-08-15T06:30:00+00:00/P1W",
        "not an interval",
        "R/2021-08-18T06:30:00+00:00/P1W",
      ],
    };

    // Act
    const weekdays = validateSchedule(schedule, "$.schedule", single, problems);

    // Assert
    expect([...weekdays].sort()).toEqual([0, 3]);
    expect(problems.list.map((p) => [p.path, p.code])).toEqual([
      ["$.schedule.repeatingTimeIntervals[1]", "SCHEDULE_INTERVAL_INVALID"],
    ]);
  });

  it("finds two intervals at the same instant even when written with different offsets", () => {
    // Arrange
    const problems = new PolicyProblems();
    const schedule = {
      repeatingTimeIntervals: [
        "R/2021-08-15T06:30:00+00:00/P1W",
        "R/2021-08-15T12:00:00+05:30/P1W",
      ],
    };

    // Act
    validateSchedule(schedule, "$.schedule", single, problems);

    // Assert
    expect(problems.list.map((p) => p.code)).toEqual(["SCHEDULE_INTERVAL_DUPLICATE"]);
  });
});
