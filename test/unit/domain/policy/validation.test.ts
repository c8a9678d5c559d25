import { describe, expect, it } from "vitest";
import { createLifecycle, setRetentionRule } from "../../../../src/domain/policy/lifecycle.js";
import { setTriggerSchedule } from "../../../../src/domain/policy/schedule.js";
import { createAbsoluteCriteria, setTag } from "../../../../src/domain/policy/tagging.js";
import { defaultPolicyTemplate } from "../../../../src/domain/policy/template.js";
import type { BackupPolicy } from "../../../../src/domain/policy/types.js";
import { assertValidPolicy, validatePolicy } from "../../../../src/domain/policy/validation.js";
import { InvalidInputError } from "../../../../src/domain/errors.js";

const flexible = () => defaultPolicyTemplate("AzureDatabaseForPostgreSQLFlexibleServer");
const single = () => defaultPolicyTemplate("AzureDatabaseForPostgreSQL");

function codes(policy: unknown): string[] {
  return validatePolicy(policy).problems.map((p) => p.code);
}

function withMonthlyArchive(policy: BackupPolicy, archive = 24): BackupPolicy {
  const vault = createLifecycle({
    retentionDurationCount: 6,
    retentionDurationType: "Months",
    sourceDatastore: "VaultStore",
    targetDatastore: "ArchiveStore",
    copyOption: "CopyOnExpiryOption",
  });
  const archived = createLifecycle({
    retentionDurationCount: archive,
    retentionDurationType: "Months",
    sourceDatastore: "ArchiveStore",
  });
  return setTag(setRetentionRule(policy, "Monthly", [vault, archived]), "Monthly", [
    createAbsoluteCriteria("FirstOfMonth"),
  ]);
}

const vaultStore = { dataStoreType: "VaultStore", objectType: "DataStoreInfoBase" };
const archiveStore = { dataStoreType: "ArchiveStore", objectType: "DataStoreInfoBase" };
const brokenEverywhere = {
  objectType: "BackupPolicy",
  datasourceTypes: ["Microsoft.DBforPostgreSQL/flexibleServers", "Microsoft.Sql/servers"],
  policyRules: [
    {
      name: "BackupWeekly",
      objectType: "AzureBackupRule",
      backupParameters: { objectType: "AzureBackupParams", backupType: "Incremental" },
      dataStore: vaultStore,
      trigger: {
        objectType: "ScheduleBasedTriggerContext",
        schedule: {
          timeZone: "UTC",
          repeatingTimeIntervals: [
            "R/2021-08-15T06:30:00+00:00/P1D",
            "R/2021-08-16T06:30:00+00:00/P1W",
          ],
        },
        taggingCriteria: [
          { isDefault: true, taggingPriority: 99, tagInfo: { tagName: "Default" } },
          {
            isDefault: false,
            taggingPriority: 25,
            tagInfo: { tagName: "Weekly", id: "Weekly" },
            criteria: [{ objectType: "ScheduleBasedBackupCriteria", daysOfTheWeek: ["Friday"] }],
          },
        ],
      },
    },
    { name: "Extra", objectType: "AzureBackupRule" },
    "not a rule",
    {
      name: "Default",
      objectType: "AzureRetentionRule",
      isDefault: true,
      lifecycles: [
        {
          sourceDataStore: vaultStore,
          deleteAfter: { objectType: "AbsoluteDeleteOption", duration: "P11Y" },
          targetDataStoreCopySettings: [],
        },
      ],
    },
    {
      name: "Monthly",
      objectType: "AzureRetentionRule",
      isDefault: false,
      lifecycles: [
        {
          sourceDataStore: vaultStore,
          deleteAfter: { objectType: "AbsoluteDeleteOption", duration: "P6M" },
          targetDataStoreCopySettings: [
            {
              copyAfter: { objectType: "CustomCopyOption", duration: "P200D" },
              dataStore: archiveStore,
            },
          ],
        },
        {
          sourceDataStore: archiveStore,
          deleteAfter: { objectType: "AbsoluteDeleteOption", duration: "P100D" },
        },
      ],
    },
  ],
};
describe("validatePolicy", () => {
  it("accepts both default templates as they are", () => {
    expect(validatePolicy(flexible())).toEqual({
      valid: true,
      problems: [],
      datasourceKind: "AzureDatabaseForPostgreSQLFlexibleServer",
    });
    expect(validatePolicy(single()).valid).toBe(true);
  });

  it("accepts a monthly archive rule with its tag", () => {
    expect(validatePolicy(withMonthlyArchive(single())).problems).toEqual([]);
  });

  it("rejects a daily schedule, naming the interval and saying backups run weekly", () => {
    const policy = flexible();
    const rule = policy.policyRules[0] as {
      trigger: { schedule: { repeatingTimeIntervals: string[] } };
    };
    rule.trigger.schedule.repeatingTimeIntervals = ["R/2021-08-15T06:30:00+00:00/P1D"];

    const [problem] = validatePolicy(policy).problems;

    expect(problem).toMatchObject({
      path: "$.policyRules[0].trigger.schedule.repeatingTimeIntervals[0]",
      code: "SCHEDULE_FREQUENCY_UNSUPPORTED",
      severity: "error",
    });
    expect(problem?.message).toContain("once a week");
  });

  it("rejects a second weekly backup for a Flexible Server, which the service would fail every week", () => {
    const policy = setTriggerSchedule(flexible(), [
      "R/2021-08-15T22:00:00+00:00/P1W",
      "R/2021-08-18T22:00:00+00:00/P1W",
    ]);

    expect(codes(policy)).toEqual(["SCHEDULE_FLEXIBLE_SERVER_WEEKLY_LIMIT"]);
  });

  it("allows several weekly backups of a single-server database", () => {
    const policy = setTriggerSchedule(single(), [
      "R/2021-08-15T22:00:00+00:00/P1W",
      "R/2021-08-18T22:00:00+00:00/P1W",
    ]);

    expect(validatePolicy(policy).valid).toBe(true);
  });

  it("rejects malformed and compact interval forms the service refuses", () => {
    const policy = single();
    const rule = policy.policyRules[0] as {
      trigger: { schedule: { repeatingTimeIntervals: string[] } };
    };
    rule.trigger.schedule.repeatingTimeIntervals = [
      "R/2021-08-15T1430Z/P1W",
      "R/2021-02-30T10:00:00Z/P1W",
      "2021-08-15T10:00:00Z",
    ];

    expect(codes(policy)).toEqual([
      "SCHEDULE_INTERVAL_INVALID",
      "SCHEDULE_INTERVAL_INVALID",
      "SCHEDULE_INTERVAL_INVALID",
    ]);
  });

  it("reports a retention rule without a tag, and a tag without a retention rule, by name", () => {
    const ruleOnly = setRetentionRule(single(), "Weekly", [
      createLifecycle({
        retentionDurationCount: 8,
        retentionDurationType: "Weeks",
        sourceDatastore: "VaultStore",
      }),
    ]);
    const tagOnly = setTag(single(), "Yearly", [createAbsoluteCriteria("FirstOfYear")]);

    const ruleProblems = validatePolicy(ruleOnly).problems;
    const tagProblems = validatePolicy(tagOnly).problems;

    expect(ruleProblems.map((p) => p.code)).toEqual(["RETENTION_RULE_WITHOUT_TAG"]);
    expect(ruleProblems[0]?.message).toContain("'Weekly'");
    expect(tagProblems.map((p) => p.code)).toEqual(["TAG_WITHOUT_RETENTION_RULE"]);
    expect(tagProblems[0]?.path).toBe(
      "$.policyRules[0].trigger.taggingCriteria[1].tagInfo.tagName",
    );
  });

  it("rejects retention longer than 10 years, in one lifecycle or vault and archive together", () => {
    const tooLong = setRetentionRule(single(), "Default", [
      createLifecycle({
        retentionDurationCount: 11,
        retentionDurationType: "Years",
        sourceDatastore: "VaultStore",
      }),
    ]);
    const together = withMonthlyArchive(single(), 120);

    expect(codes(tooLong)).toEqual(["RETENTION_DURATION_TOO_LONG"]);
    expect(codes(together)).toEqual(["RETENTION_TOTAL_TOO_LONG"]);
  });

  it("rejects an archive lifecycle nothing copies into, and a copy with no archive lifecycle", () => {
    const unreachable = setRetentionRule(single(), "Default", [
      createLifecycle({
        retentionDurationCount: 3,
        retentionDurationType: "Months",
        sourceDatastore: "VaultStore",
      }),
      createLifecycle({
        retentionDurationCount: 1,
        retentionDurationType: "Years",
        sourceDatastore: "ArchiveStore",
      }),
    ]);
    const nowhere = setRetentionRule(single(), "Default", [
      createLifecycle({
        retentionDurationCount: 3,
        retentionDurationType: "Months",
        sourceDatastore: "VaultStore",
        targetDatastore: "ArchiveStore",
        copyOption: "CopyOnExpiryOption",
      }),
    ]);

    expect(codes(unreachable)).toEqual(["RETENTION_ARCHIVE_UNREACHABLE"]);
    expect(codes(nowhere)).toEqual(["RETENTION_ARCHIVE_LIFECYCLE_MISSING"]);
  });

  it("warns, without failing, when archived backups would be deleted inside the 180-day early-deletion period", () => {
    const result = validatePolicy(withMonthlyArchive(single(), 3));

    expect(result.valid).toBe(true);
    expect(result.problems).toMatchObject([
      { code: "RETENTION_ARCHIVE_EARLY_DELETION", severity: "warning" },
    ]);
  });

  it("warns when a weekday tag can never match the schedule's days", () => {
    const policy = setTag(
      setRetentionRule(single(), "Weekly", [
        createLifecycle({
          retentionDurationCount: 8,
          retentionDurationType: "Weeks",
          sourceDatastore: "VaultStore",
        }),
      ]),
      "Weekly",
      [{ objectType: "ScheduleBasedBackupCriteria", daysOfTheWeek: ["Monday"] }],
    );

    expect(validatePolicy(policy).problems).toMatchObject([
      { code: "TAG_NEVER_MATCHES", severity: "warning" },
    ]);
  });

  it("rejects a tag with the wrong priority and a Daily tag, which PostgreSQL does not support", () => {
    const policy = withMonthlyArchive(single());
    const tags = (
      policy.policyRules[0] as {
        trigger: { taggingCriteria: { taggingPriority: number; tagInfo: { tagName: string } }[] };
      }
    ).trigger.taggingCriteria;
    tags[1]!.taggingPriority = 10;
    tags.push({
      taggingPriority: 25,
      tagInfo: { tagName: "Daily" },
      criteria: [{ objectType: "ScheduleBasedBackupCriteria", absoluteCriteria: ["FirstOfDay"] }],
      isDefault: false,
    } as never);

    expect(codes(policy)).toEqual([
      "TAG_PRIORITY_MISMATCH",
      "TAG_NAME_UNSUPPORTED",
      "TAG_WITHOUT_RETENTION_RULE",
    ]);
  });

  it("lists problems section by section, in the order the policy reads, because the answer lists only the first ones", () => {
    // Act
    const problems = validatePolicy(brokenEverywhere).problems.map((p) => [
      p.severity,
      p.path,
      p.code,
    ]);

    // Assert
    expect(problems).toEqual([
      ["error", "$.datasourceTypes[1]", "POLICY_DATASOURCE_TYPE_UNSUPPORTED"],
      ["error", "$.policyRules[2]", "POLICY_RULE_INVALID"],
      ["error", "$.policyRules[1]", "POLICY_BACKUP_RULE_DUPLICATE"],
      ["error", "$.policyRules[0].backupParameters.backupType", "POLICY_BACKUP_TYPE_UNSUPPORTED"],
      [
        "error",
        "$.policyRules[0].trigger.schedule.repeatingTimeIntervals[0]",
        "SCHEDULE_FREQUENCY_UNSUPPORTED",
      ],
      [
        "error",
        "$.policyRules[0].trigger.schedule.repeatingTimeIntervals",
        "SCHEDULE_FLEXIBLE_SERVER_WEEKLY_LIMIT",
      ],
      ["warning", "$.policyRules[0].trigger.taggingCriteria[1].tagInfo.id", "TAG_ID_MISMATCH"],
      [
        "error",
        "$.policyRules[0].trigger.taggingCriteria[1].taggingPriority",
        "TAG_PRIORITY_MISMATCH",
      ],
      [
        "warning",
        "$.policyRules[0].trigger.taggingCriteria[1].criteria[0].daysOfTheWeek",
        "TAG_NEVER_MATCHES",
      ],
      [
        "error",
        "$.policyRules[3].lifecycles[0].deleteAfter.duration",
        "RETENTION_DURATION_TOO_LONG",
      ],
      [
        "error",
        "$.policyRules[4].lifecycles[0].targetDataStoreCopySettings",
        "RETENTION_COPY_TOO_LATE",
      ],
      [
        "warning",
        "$.policyRules[4].lifecycles[1].deleteAfter.duration",
        "RETENTION_ARCHIVE_EARLY_DELETION",
      ],
      ["error", "$.policyRules[4].name", "RETENTION_RULE_WITHOUT_TAG"],
      [
        "error",
        "$.policyRules[0].trigger.taggingCriteria[1].tagInfo.tagName",
        "TAG_WITHOUT_RETENTION_RULE",
      ],
    ]);
  });

  it("locates problems under $.properties when given a policy resource", () => {
    const resource = { id: "/x", name: "p", properties: { ...single(), objectType: "Policy" } };

    expect(validatePolicy(resource).problems[0]?.path).toBe("$.properties.objectType");
  });

  it("does not change the policy it validates", () => {
    const policy = withMonthlyArchive(single());
    const before = structuredClone(policy);

    validatePolicy(policy);

    expect(policy).toEqual(before);
  });
});

describe("assertValidPolicy", () => {
  it("throws POLICY_INVALID listing only the errors", () => {
    const policy = { ...single(), datasourceTypes: ["Microsoft.Sql/servers"] };

    expect(() => assertValidPolicy(policy)).toThrow(InvalidInputError);
    try {
      assertValidPolicy(policy);
    } catch (error) {
      expect((error as InvalidInputError).code).toBe("POLICY_INVALID");
      expect((error as InvalidInputError).problems.map((p) => p.path)).toEqual([
        "$.datasourceTypes[0]",
      ]);
    }
  });
});
