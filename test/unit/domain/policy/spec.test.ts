import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../../src/domain/errors.js";
import { compilePolicySpec, normaliseDuration } from "../../../../src/domain/policy/spec.js";
import type { AzureBackupRule, AzureRetentionRule } from "../../../../src/domain/policy/types.js";
import { validatePolicy } from "../../../../src/domain/policy/validation.js";

function problemsOf(spec: unknown) {
  try {
    compilePolicySpec(spec);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as InvalidInputError).problems;
  }
  throw new Error("expected the spec to be refused");
}

describe("compilePolicySpec", () => {
  it("compiles a weekly backup with monthly and yearly archive rules into a policy that validates clean", () => {
    const policy = compilePolicySpec({
      schedule: { days: ["Sunday"], time: "22:00" },
      retention: {
        default: "3 months",
        monthly: { vault: "6M", archive: "24 months" },
        yearly: { vault: "P1Y", archive: "P9Y" },
      },
    });

    const backup = policy.policyRules[0] as AzureBackupRule;
    const rules = policy.policyRules.slice(1) as AzureRetentionRule[];
    expect(policy.datasourceTypes).toEqual(["Microsoft.DBforPostgreSQL/flexibleServers"]);
    expect(backup.trigger.schedule).toEqual({
      repeatingTimeIntervals: ["R/2021-08-15T22:00:00+00:00/P1W"],
      timeZone: "UTC",
    });
    expect(
      backup.trigger.taggingCriteria.map((t) => [t.tagInfo.tagName, t.taggingPriority]),
    ).toEqual([
      ["Default", 99],
      ["Monthly", 15],
      ["Yearly", 10],
    ]);
    expect(rules.map((r) => [r.name, r.lifecycles.map((l) => l.deleteAfter.duration)])).toEqual([
      ["Default", ["P3M"]],
      ["Monthly", ["P6M", "P24M"]],
      ["Yearly", ["P1Y", "P9Y"]],
    ]);
    expect(validatePolicy(policy).problems).toEqual([]);
  });

  it("writes the schedule in a named zone with that zone's offset on the anchor date", () => {
    const policy = compilePolicySpec({
      datasourceType: "AzureDatabaseForPostgreSQL",
      schedule: { days: ["Monday", "Thursday"], time: "02:30", timeZone: "Europe/Berlin" },
      retention: { default: "P3M" },
    });

    expect((policy.policyRules[0] as AzureBackupRule).trigger.schedule).toEqual({
      repeatingTimeIntervals: [
        "R/2021-08-16T02:30:00+02:00/P1W",
        "R/2021-08-19T02:30:00+02:00/P1W",
      ],
      timeZone: "Europe/Berlin",
    });
  });

  it("uses the given days instead of the first of the period when a rule says on which days", () => {
    const policy = compilePolicySpec({
      schedule: { days: ["Sunday"], time: "01:00" },
      retention: {
        default: "P1M",
        monthly: { vault: "P1Y", on: { weeksOfMonth: ["Last"], daysOfWeek: ["Sunday"] } },
      },
    });

    expect((policy.policyRules[0] as AzureBackupRule).trigger.taggingCriteria[1]?.criteria).toEqual(
      [
        {
          daysOfTheWeek: ["Sunday"],
          objectType: "ScheduleBasedBackupCriteria",
          weeksOfTheMonth: ["Last"],
        },
      ],
    );
  });

  it("points at every bad field of the spec by JSON path", () => {
    const problems = problemsOf({
      schedule: { days: ["Sundy"], time: "25:00" },
      retention: { default: "forever" },
    });

    expect(problems.map((p) => p.path).sort()).toEqual([
      "$.retention.default",
      "$.schedule.days[0]",
      "$.schedule.time",
    ]);
  });

  it("refuses two backups a week for a Flexible Server, saying why", () => {
    const problems = problemsOf({
      schedule: { days: ["Sunday", "Wednesday"], time: "22:00" },
      retention: { default: "P3M" },
    });

    expect(problems.map((p) => p.code)).toEqual(["SCHEDULE_FLEXIBLE_SERVER_WEEKLY_LIMIT"]);
  });
});

describe("normaliseDuration", () => {
  it("reads ISO, shorthand and words, and refuses the rest", () => {
    expect(
      ["P6M", "6M", "6 months", "1 year", "p30d", "0 days", "6 fortnights"].map(normaliseDuration),
    ).toEqual(["P6M", "P6M", "P6M", "P1Y", "P30D", undefined, undefined]);
  });
});
