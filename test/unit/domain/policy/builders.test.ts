import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../../src/domain/errors.js";
import {
  createLifecycle,
  removeRetentionRule,
  setRetentionRule,
} from "../../../../src/domain/policy/lifecycle.js";
import { createSchedule, setTriggerSchedule } from "../../../../src/domain/policy/schedule.js";
import {
  createAbsoluteCriteria,
  createGenericCriteria,
  removeTag,
  setTag,
} from "../../../../src/domain/policy/tagging.js";
import { defaultPolicyTemplate } from "../../../../src/domain/policy/template.js";
import type { AzureBackupRule } from "../../../../src/domain/policy/types.js";

function problemOf(act: () => unknown): { path: string; code: string; message: string } {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    const problem = (error as InvalidInputError).problems[0];
    if (problem) return problem;
  }
  throw new Error("expected an InvalidInputError");
}

describe("defaultPolicyTemplate", () => {
  it("gives the Flexible Server template its own name and datasource type", () => {
    const template = defaultPolicyTemplate("AzureDatabaseForPostgreSQLFlexibleServer");

    expect(template.name).toBe("OssFlexiblePolicy1");
    expect(template.datasourceTypes).toEqual(["Microsoft.DBforPostgreSQL/flexibleServers"]);
  });

  it("names the supported kinds when given another", () => {
    expect(problemOf(() => defaultPolicyTemplate("AzureDisk")).message).toContain(
      "AzureDatabaseForPostgreSQLFlexibleServer",
    );
  });

  it("returns a fresh object each time, so editing one template never changes the next", () => {
    const first = defaultPolicyTemplate("AzureDatabaseForPostgreSQL");
    first.policyRules.pop();

    expect(defaultPolicyTemplate("AzureDatabaseForPostgreSQL").policyRules).toHaveLength(2);
  });
});

describe("createSchedule", () => {
  it("keeps a given offset instead of adding +00:00", () => {
    expect(
      createSchedule({
        intervalType: "Weekly",
        intervalCount: 1,
        scheduleDays: ["2021-08-15T22:00:00+05:30"],
      }),
    ).toEqual(["R/2021-08-15T22:00:00+05:30/P1W"]);
  });

  it("writes PT{n}H for hourly schedules and refuses counts the service refuses", () => {
    expect(
      createSchedule({
        intervalType: "Hourly",
        intervalCount: 4,
        scheduleDays: ["2021-08-15T00:00:00"],
      }),
    ).toEqual(["R/2021-08-15T00:00:00+00:00/PT4H"]);
    expect(
      problemOf(() =>
        createSchedule({
          intervalType: "Hourly",
          intervalCount: 5,
          scheduleDays: ["2021-08-15T00:00:00"],
        }),
      ).path,
    ).toBe("--interval-count");
    expect(
      problemOf(() =>
        createSchedule({
          intervalType: "Weekly",
          intervalCount: 2,
          scheduleDays: ["2021-08-15T00:00:00"],
        }),
      ).path,
    ).toBe("--interval-count");
  });

  it("names a schedule day that is not a date and time", () => {
    const problem = problemOf(() =>
      createSchedule({ intervalType: "Weekly", intervalCount: 1, scheduleDays: ["Sunday"] }),
    );

    expect(problem).toMatchObject({ path: "--schedule-days", code: "SCHEDULE_DAY_INVALID" });
  });
});

describe("setTriggerSchedule", () => {
  it("refuses a daily schedule for PostgreSQL with the CLI's message", () => {
    const policy = defaultPolicyTemplate("AzureDatabaseForPostgreSQL");

    const problem = problemOf(() =>
      setTriggerSchedule(policy, ["R/2021-08-15T22:00:00+00:00/P1D"]),
    );

    expect(problem.message).toContain(
      "Daily Backup Schedule is not supported for AzureDatabaseForPostgreSQL policy",
    );
  });

  it("does not change the policy it was given", () => {
    const policy = defaultPolicyTemplate("AzureDatabaseForPostgreSQL");
    const before = structuredClone(policy);

    setTriggerSchedule(policy, ["R/2021-08-16T22:00:00+00:00/P1W"]);

    expect(policy).toEqual(before);
  });
});

describe("createLifecycle", () => {
  it("writes the duration as P{count}{unit} and the copy as a one-item list, as the contract types it", () => {
    const lifecycle = createLifecycle({
      retentionDurationCount: 6,
      retentionDurationType: "Months",
      sourceDatastore: "VaultStore",
      targetDatastore: "ArchiveStore",
      copyOption: "CopyOnExpiryOption",
    });

    expect(lifecycle).toEqual({
      deleteAfter: { duration: "P6M", objectType: "AbsoluteDeleteOption" },
      sourceDataStore: { dataStoreType: "VaultStore", objectType: "DataStoreInfoBase" },
      targetDataStoreCopySettings: [
        {
          copyAfter: { objectType: "CopyOnExpiryOption" },
          dataStore: { dataStoreType: "ArchiveStore", objectType: "DataStoreInfoBase" },
        },
      ],
    });
  });

  it("needs a duration for a custom copy", () => {
    const problem = problemOf(() =>
      createLifecycle({
        retentionDurationCount: 6,
        retentionDurationType: "Months",
        sourceDatastore: "VaultStore",
        targetDatastore: "ArchiveStore",
        copyOption: "CustomCopyOption",
      }),
    );

    expect(problem.path).toBe("--copy-after-duration");
  });

  it("refuses a target datastore without a copy option", () => {
    const problem = problemOf(() =>
      createLifecycle({
        retentionDurationCount: 6,
        retentionDurationType: "Months",
        sourceDatastore: "VaultStore",
        targetDatastore: "ArchiveStore",
      }),
    );

    expect(problem.code).toBe("LIFECYCLE_COPY_INCOMPLETE");
  });
});

describe("retention rules", () => {
  const lifecycle = createLifecycle({
    retentionDurationCount: 1,
    retentionDurationType: "Years",
    sourceDatastore: "VaultStore",
  });

  it("replaces the lifecycles of an existing rule instead of adding a second", () => {
    const policy = setRetentionRule(
      defaultPolicyTemplate("AzureDatabaseForPostgreSQL"),
      "Default",
      [lifecycle],
    );

    expect(policy.policyRules).toHaveLength(2);
    expect(policy.policyRules[1]).toMatchObject({
      name: "Default",
      isDefault: true,
      lifecycles: [lifecycle],
    });
  });

  it("refuses to name a rule Daily for PostgreSQL, and to remove the Default rule", () => {
    const policy = defaultPolicyTemplate("AzureDatabaseForPostgreSQL");

    expect(problemOf(() => setRetentionRule(policy, "Daily", [lifecycle])).code).toBe(
      "RETENTION_RULE_NAME_UNSUPPORTED",
    );
    expect(problemOf(() => removeRetentionRule(policy, "Default")).code).toBe(
      "RETENTION_RULE_DEFAULT_REQUIRED",
    );
  });

  it("removes a named rule", () => {
    const policy = setRetentionRule(defaultPolicyTemplate("AzureDatabaseForPostgreSQL"), "Yearly", [
      lifecycle,
    ]);

    expect(removeRetentionRule(policy, "Yearly").policyRules.map((r) => r.name)).toEqual([
      "BackupWeekly",
      "Default",
    ]);
  });
});

describe("tags", () => {
  const tagsOf = (policy: ReturnType<typeof defaultPolicyTemplate>) =>
    (policy.policyRules[0] as AzureBackupRule).trigger.taggingCriteria;

  it("gives a new tag the service's priority and id", () => {
    const policy = setTag(defaultPolicyTemplate("AzureDatabaseForPostgreSQL"), "Yearly", [
      createAbsoluteCriteria("FirstOfYear"),
    ]);

    expect(tagsOf(policy)[1]).toEqual({
      criteria: [{ absoluteCriteria: ["FirstOfYear"], objectType: "ScheduleBasedBackupCriteria" }],
      isDefault: false,
      tagInfo: { id: "Yearly_", tagName: "Yearly" },
      taggingPriority: 10,
    });
  });

  it("replaces the criteria of an existing tag with the right key casing", () => {
    const once = setTag(defaultPolicyTemplate("AzureDatabaseForPostgreSQL"), "Monthly", [
      createAbsoluteCriteria("FirstOfMonth"),
    ]);

    const twice = setTag(once, "Monthly", [createGenericCriteria({ daysOfWeek: ["Sunday"] })]);

    expect(tagsOf(twice)).toHaveLength(2);
    expect(tagsOf(twice)[1]?.criteria).toEqual([
      { daysOfTheWeek: ["Sunday"], objectType: "ScheduleBasedBackupCriteria" },
    ]);
    expect(Object.keys(tagsOf(twice)[1] ?? {})).not.toContain("Criteria");
  });

  it("writes days of the month as the service's Day objects, Last included", () => {
    expect(createGenericCriteria({ daysOfMonth: ["1", "Last"] }).daysOfMonth).toEqual([
      { date: 1, isLast: false },
      { isLast: true },
    ]);
  });

  it("refuses day 29 of the month, which some months lack", () => {
    expect(problemOf(() => createGenericCriteria({ daysOfMonth: ["29"] })).path).toBe(
      "--days-of-month",
    );
  });

  it("refuses to remove the Default tag", () => {
    expect(
      problemOf(() => removeTag(defaultPolicyTemplate("AzureDatabaseForPostgreSQL"), "Default"))
        .code,
    ).toBe("TAG_DEFAULT_REQUIRED");
  });
});
