import { describe, expect, it } from "vitest";
import {
  anomalyVerdict,
  isStuck,
  median,
  percentile95,
  stuckThreshold,
} from "../../../../src/domain/history/alarms.js";

const minute = 60_000;
const hour = 60 * minute;

describe("percentile95", () => {
  it("takes the nearest rank, so the answer is a value some run had", () => {
    // Arrange: twenty runs of 1..20 minutes.
    const runs = Array.from({ length: 20 }, (_, index) => (index + 1) * minute);

    // Act
    const p95 = percentile95(runs);

    // Assert: rank ceil(0.95 * 20) = 19.
    expect(p95).toBe(19 * minute);
  });

  it("answers the one run when there is one, and nothing when there is none", () => {
    expect(percentile95([7])).toBe(7);
    expect(percentile95([])).toBeUndefined();
  });
});

describe("median", () => {
  it("averages the two middle values of an even count", () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5, 1, 3])).toBe(3);
  });
});

describe("stuckThreshold", () => {
  const rule = { factor: 3, floorMinutes: 30, ceilingHours: 24 };

  it("allows three times the 95th percentile of earlier runs when that lies between floor and ceiling", () => {
    // Arrange: runs of about 40 minutes, one of 50.
    const runs = [40, 41, 39, 42, 50].map((m) => m * minute);

    // Act
    const threshold = stuckThreshold(runs, rule);

    // Assert
    expect(threshold).toEqual({
      thresholdMs: 150 * minute,
      p95Ms: 50 * minute,
      runs: 5,
      basis: "history",
    });
  });

  it("never judges sooner than the floor, however quick earlier runs were", () => {
    const threshold = stuckThreshold([5_000, 6_000], rule);

    expect(threshold.thresholdMs).toBe(30 * minute);
    expect(threshold.basis).toBe("floor");
  });

  it("judges by the ceiling when earlier runs were slow, or when there are none", () => {
    expect(stuckThreshold([20 * hour], rule)).toMatchObject({
      thresholdMs: 24 * hour,
      basis: "ceiling",
    });
    expect(stuckThreshold([], rule)).toEqual({ thresholdMs: 24 * hour, runs: 0, basis: "ceiling" });
  });

  it("calls a job stuck only once it has run past the threshold", () => {
    const threshold = stuckThreshold([10 * minute], rule);

    expect(isStuck(0, 30 * minute, threshold)).toBe(false);
    expect(isStuck(0, 30 * minute + 1, threshold)).toBe(true);
  });
});

describe("anomalyVerdict", () => {
  const rule = { sizeDropRatio: 0.5, durationRatio: 3 };
  const usual = [
    { bytes: 1_000_000, durationMs: 10 * minute },
    { bytes: 1_100_000, durationMs: 11 * minute },
    { bytes: 900_000, durationMs: 9 * minute },
  ];

  it("finds a backup under half its instance's usual size, with the numbers side by side", () => {
    // Act
    const verdict = anomalyVerdict({ bytes: 100_000, durationMs: 10 * minute }, usual, rule);

    // Assert
    expect(verdict.anomalous).toBe(true);
    expect(verdict.findings).toEqual([
      { measure: "size", observed: 100_000, usual: 1_000_000, ratio: 0.1, limit: 0.5 },
    ]);
    expect(verdict.baselineRuns).toEqual({ size: 3, duration: 3 });
  });

  it("finds a backup taking more than three times the usual duration", () => {
    const verdict = anomalyVerdict({ bytes: 1_000_000, durationMs: 31 * minute }, usual, rule);

    expect(verdict.findings.map((finding) => finding.measure)).toEqual(["duration"]);
    expect(verdict.findings[0]?.ratio).toBeCloseTo(3.1);
  });

  it("lets a backup within the thresholds pass, and judges nothing without earlier backups", () => {
    expect(anomalyVerdict({ bytes: 600_000, durationMs: 25 * minute }, usual, rule).anomalous).toBe(
      false,
    );
    expect(anomalyVerdict({ bytes: 1, durationMs: 10 * hour }, [], rule)).toEqual({
      anomalous: false,
      findings: [],
      baselineRuns: { size: 0, duration: 0 },
    });
  });

  it("does not judge the duration of a backup that took under a minute", () => {
    const quick = [{ bytes: 1_000, durationMs: 1_000 }];

    const verdict = anomalyVerdict({ bytes: 1_000, durationMs: 30_000 }, quick, rule);

    expect(verdict.anomalous).toBe(false);
  });
});
