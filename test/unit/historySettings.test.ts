import { describe, expect, it } from "vitest";
import { alarmRules } from "../../src/application/jobHistory.js";
import { loadConfig } from "../../src/config.js";
import { ConfigurationError } from "../../src/domain/errors.js";

/** The problems loading these settings reports, by setting. */
function problemsOf(settings: Record<string, string>): string[] {
  try {
    loadConfig(settings);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as ConfigurationError).problems.map(
      (problem) => `${problem.path}: ${problem.message}`,
    );
  }
}

describe("the job history and alarm settings", () => {
  it("default to 400 days, 30 minutes to 24 hours, half the size and three times the duration", () => {
    const rules = alarmRules(loadConfig({}));

    expect(rules).toEqual({
      stuck: { factor: 3, floorMinutes: 30, ceilingHours: 24 },
      anomaly: { sizeDropRatio: 0.5, durationRatio: 3 },
    });
    expect(loadConfig({}).HISTORY_RETENTION_DAYS).toBeUndefined();
  });

  it("read the thresholds as numbers when given", () => {
    const config = loadConfig({
      HISTORY_RETENTION_DAYS: "730",
      STUCK_JOB_FLOOR_MINUTES: "10",
      STUCK_JOB_CEILING_HOURS: "6",
      ANOMALY_SIZE_DROP_RATIO: "0.25",
      ANOMALY_DURATION_RATIO: "4.5",
    });

    expect(config.HISTORY_RETENTION_DAYS).toBe(730);
    expect(alarmRules(config)).toEqual({
      stuck: { factor: 3, floorMinutes: 10, ceilingHours: 6 },
      anomaly: { sizeDropRatio: 0.25, durationRatio: 4.5 },
    });
  });

  it("refuse a size ratio outside 0 to 1, a duration ratio of 1 or less, and a floor above the ceiling", () => {
    expect(problemsOf({ ANOMALY_SIZE_DROP_RATIO: "1.5" })).toEqual([
      "ANOMALY_SIZE_DROP_RATIO: ANOMALY_SIZE_DROP_RATIO must be above 0 and below 1",
    ]);
    expect(problemsOf({ ANOMALY_DURATION_RATIO: "1" })).toEqual([
      "ANOMALY_DURATION_RATIO: ANOMALY_DURATION_RATIO must be above 1 and below 1000",
    ]);
    expect(problemsOf({ ANOMALY_DURATION_RATIO: "three" })).toEqual([
      "ANOMALY_DURATION_RATIO: ANOMALY_DURATION_RATIO must be a decimal number such as 0.5",
    ]);
    expect(problemsOf({ STUCK_JOB_FLOOR_MINUTES: "180", STUCK_JOB_CEILING_HOURS: "2" })).toEqual([
      "STUCK_JOB_FLOOR_MINUTES: STUCK_JOB_FLOOR_MINUTES must not exceed STUCK_JOB_CEILING_HOURS",
    ]);
  });
});
