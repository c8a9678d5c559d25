import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../../src/domain/errors.js";
import {
  maxWhatIfBackups,
  maxWhatIfWindowDays,
  whatIf,
} from "../../../../src/domain/policy/simulation.js";
import { defaultPolicyTemplate } from "../../../../src/domain/policy/template.js";
import {
  maxReportedProblems,
  reportValidation,
  validatePolicy,
} from "../../../../src/domain/policy/validation.js";
import type { BackupPolicy } from "../../../../src/domain/policy/types.js";

const template = (): BackupPolicy =>
  structuredClone(defaultPolicyTemplate("AzureDatabaseForPostgreSQL"));

function refusal(run: () => unknown): InvalidInputError {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidInputError) return error;
    throw error;
  }
  throw new Error("expected the what-if to be refused");
}

describe("the bounds of a what-if", () => {
  it("refuses a window beyond ten years with SIMULATION_WINDOW_TOO_LONG naming the limit", () => {
    const error = refusal(() =>
      whatIf({ policy: template(), from: "2000-01-01T00:00:00Z", to: "2400-01-01T00:00:00Z" }),
    );

    expect(error.code).toBe("SIMULATION_WINDOW_TOO_LONG");
    expect(error.httpStatus).toBe(400);
    expect(error.problems[0]?.message).toContain(`at most ${maxWhatIfWindowDays} days`);
  });

  it("simulates a window of exactly ten years", () => {
    const answer = whatIf({
      policy: template(),
      from: "2026-01-01T00:00:00Z",
      to: "2035-12-31T00:00:00Z",
    });

    expect(answer.simulation.backups.length).toBeGreaterThan(500);
  });

  it("refuses a schedule of thousands of weekly intervals with SIMULATION_TOO_MANY_BACKUPS before computing them", () => {
    const policy = template();
    const rule = policy.policyRules.find((r) => "trigger" in r) as {
      trigger: { schedule: { repeatingTimeIntervals: string[] } };
    };
    rule.trigger.schedule.repeatingTimeIntervals = Array.from({ length: 5000 }, (_, i) => {
      const minutes = String(i % 60).padStart(2, "0");
      const hours = String(Math.floor(i / 60) % 24).padStart(2, "0");
      const day = String(1 + Math.floor(i / 1440)).padStart(2, "0");
      return `R/2026-02-${day}T${hours}:${minutes}:00+00:00/P1W`;
    });

    const error = refusal(() =>
      whatIf({ policy, from: "2026-03-01T00:00:00Z", to: "2027-03-01T00:00:00Z" }),
    );

    expect(error.code).toBe("SIMULATION_TOO_MANY_BACKUPS");
    expect(error.problems[0]?.message).toContain(`at most ${maxWhatIfBackups}`);
  });
});

describe("a validation answer", () => {
  it("lists the first problems and counts them all", () => {
    const policy = template();
    const rule = policy.policyRules.find((r) => "trigger" in r) as {
      trigger: { schedule: { repeatingTimeIntervals: string[] } };
    };
    rule.trigger.schedule.repeatingTimeIntervals = Array.from(
      { length: 5000 },
      (_, i) => `daily ${i}`,
    );

    const answer = reportValidation(validatePolicy(policy));

    expect(answer.valid).toBe(false);
    expect(answer.problems).toHaveLength(maxReportedProblems);
    expect(answer.problemCount).toBeGreaterThanOrEqual(5000);
    expect(answer.problemsTruncated).toBe(true);
  });

  it("says nothing was left out when every problem is listed", () => {
    const answer = reportValidation(validatePolicy(template()));

    expect(answer).toMatchObject({ valid: true, problemCount: 0, problemsTruncated: false });
  });
});
