import { describe, expect, it } from "vitest";
import type { BackupPolicy, BackupSchedule } from "../../../../src/domain/policy/types.js";
import { DATABASE_DATASOURCE_TYPE } from "../../../../src/domain/protection/naming.js";
import {
  dueOccurrences,
  retentionActions,
  scheduledBackupPlan,
  taggedBackupPlan,
  type RetentionPlanEntry,
} from "../../../../src/providers/local/scheduler.js";

const ms = (text: string): number => Date.parse(text);
const iso = (at: number): string => new Date(at).toISOString();

/** Sundays 06:30 and Wednesdays 18:00 UTC. */
const twiceWeekly: BackupSchedule = {
  timeZone: "UTC",
  repeatingTimeIntervals: ["R/2026-01-04T06:30:00+00:00/P1W", "R/2026-01-07T18:00:00+00:00/P1W"],
};

const vaultStore = { dataStoreType: "VaultStore", objectType: "DataStoreInfoBase" };
const archiveStore = { dataStoreType: "ArchiveStore", objectType: "DataStoreInfoBase" };

/** Monthly (first of month) kept 3 months in the vault, then 6 in the archive; Default 2 weeks. */
const policy: BackupPolicy = {
  objectType: "BackupPolicy",
  datasourceTypes: [DATABASE_DATASOURCE_TYPE],
  policyRules: [
    {
      name: "BackupWeekly",
      objectType: "AzureBackupRule",
      backupParameters: { backupType: "Full", objectType: "AzureBackupParams" },
      dataStore: vaultStore,
      trigger: {
        objectType: "ScheduleBasedTriggerContext",
        schedule: twiceWeekly,
        taggingCriteria: [
          { isDefault: true, taggingPriority: 99, tagInfo: { tagName: "Default" } },
          {
            isDefault: false,
            taggingPriority: 15,
            tagInfo: { tagName: "Monthly" },
            criteria: [
              { objectType: "ScheduleBasedBackupCriteria", absoluteCriteria: ["FirstOfMonth"] },
            ],
          },
        ],
      },
    },
    {
      name: "Default",
      objectType: "AzureRetentionRule",
      isDefault: true,
      lifecycles: [
        {
          deleteAfter: { objectType: "AbsoluteDeleteOption", duration: "P2W" },
          sourceDataStore: vaultStore,
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
          deleteAfter: { objectType: "AbsoluteDeleteOption", duration: "P3M" },
          sourceDataStore: vaultStore,
          targetDataStoreCopySettings: [
            { copyAfter: { objectType: "CopyOnExpiryOption" }, dataStore: archiveStore },
          ],
        },
        {
          deleteAfter: { objectType: "AbsoluteDeleteOption", duration: "P6M" },
          sourceDataStore: archiveStore,
        },
      ],
    },
  ],
};

describe("dueOccurrences: which scheduled backups a tick runs", () => {
  it("runs nothing before the first occurrence after the watermark", () => {
    // Act
    const due = dueOccurrences(
      twiceWeekly,
      ms("2026-01-05T00:00:00Z"),
      ms("2026-01-07T17:59:59.999Z"),
    );

    // Assert
    expect(due).toEqual({ run: undefined, missed: [] });
  });

  it("runs an occurrence that falls exactly on the tick, and one exactly on the watermark", () => {
    // Act
    const onTick = dueOccurrences(
      twiceWeekly,
      ms("2026-01-05T00:00:00Z"),
      ms("2026-01-07T18:00:00Z"),
    );
    const onWatermark = dueOccurrences(
      twiceWeekly,
      ms("2026-01-07T18:00:00Z"),
      ms("2026-01-08T00:00:00Z"),
    );

    // Assert
    expect(onTick.run && iso(onTick.run)).toBe("2026-01-07T18:00:00.000Z");
    expect(onWatermark.run && iso(onWatermark.run)).toBe("2026-01-07T18:00:00.000Z");
  });

  it("after three weeks without a tick runs one catch-up backup for the most recent occurrence and lists the others as missed", () => {
    // Act
    const due = dueOccurrences(twiceWeekly, ms("2026-01-05T00:00:00Z"), ms("2026-01-26T12:00:00Z"));

    // Assert
    expect(due.run && iso(due.run)).toBe("2026-01-25T06:30:00.000Z");
    expect(due.missed.map(iso)).toEqual([
      "2026-01-07T18:00:00.000Z",
      "2026-01-11T06:30:00.000Z",
      "2026-01-14T18:00:00.000Z",
      "2026-01-18T06:30:00.000Z",
      "2026-01-21T18:00:00.000Z",
    ]);
  });

  it("runs nothing when the clock is behind the watermark", () => {
    // Act
    const due = dueOccurrences(twiceWeekly, ms("2026-02-01T00:00:00Z"), ms("2026-01-20T00:00:00Z"));

    // Assert
    expect(due).toEqual({ run: undefined, missed: [] });
  });
});

describe("scheduledBackupPlan: tag and lifecycle of a scheduled backup", () => {
  it("tags the first backup of a month Monthly only when no earlier backup of that month really happened", () => {
    // Arrange: Wednesday 4 February; Sunday 1 February ran, or it did not.
    const occurrence = ms("2026-02-04T18:00:00Z");

    // Act
    const afterSunday = scheduledBackupPlan(policy, occurrence, [ms("2026-02-01T06:30:00Z")]);
    const sundayMissed = scheduledBackupPlan(policy, occurrence, [ms("2026-01-28T18:00:00Z")]);

    // Assert
    expect(afterSunday).toMatchObject({ tag: "Default", rule: "Default" });
    expect(iso(afterSunday.vaultTo)).toBe("2026-02-18T18:00:00.000Z");
    expect(sundayMissed).toMatchObject({ tag: "Monthly", rule: "Monthly" });
    expect(iso(sundayMissed.vaultTo)).toBe("2026-05-04T18:00:00.000Z");
    expect(sundayMissed.archiveFrom && iso(sundayMissed.archiveFrom)).toBe(
      "2026-05-04T18:00:00.000Z",
    );
    expect(sundayMissed.archiveTo && iso(sundayMissed.archiveTo)).toBe("2026-11-04T18:00:00.000Z");
  });

  it("refuses an instant that is not an occurrence of the schedule", () => {
    // Act / Assert
    expect(() => scheduledBackupPlan(policy, ms("2026-02-04T18:00:01Z"), [])).toThrow(
      /not an occurrence/,
    );
  });
});

describe("taggedBackupPlan: lifecycle of an ad-hoc recovery point", () => {
  it("keeps a point under its retention tag from its own time", () => {
    // Act
    const plan = taggedBackupPlan(policy, ms("2026-03-31T10:15:00Z"), "Monthly");

    // Assert: calendar months clamp to the month's end
    expect(plan).toMatchObject({ tag: "Monthly", rule: "Monthly" });
    expect(iso(plan.vaultTo)).toBe("2026-06-30T10:15:00.000Z");
    expect(plan.archiveTo && iso(plan.archiveTo)).toBe("2026-12-30T10:15:00.000Z");
  });

  it("refuses a tag the policy has no retention rule for", () => {
    // Act / Assert
    expect(() => taggedBackupPlan(policy, ms("2026-03-31T10:15:00Z"), "Yearly")).toThrow();
  });
});

describe("retentionActions: lifecycle steps due at an instant", () => {
  const onExpiry: RetentionPlanEntry = {
    anchor: ms("2026-02-01T06:30:00Z"),
    tag: "Monthly",
    rule: "Monthly",
    vaultTo: ms("2026-05-01T06:30:00Z"),
    archiveFrom: ms("2026-05-01T06:30:00Z"),
    archiveTo: ms("2026-11-01T06:30:00Z"),
  };

  it("keeps the vault copy until the last millisecond before its deletion", () => {
    // Act
    const actions = retentionActions(
      onExpiry,
      { vault: true, archive: false },
      ms("2026-05-01T06:29:59.999Z"),
    );

    // Assert
    expect(actions).toEqual([]);
  });

  it("copies to the archive before deleting the vault copy when the copy is made on expiry", () => {
    // Act
    const actions = retentionActions(onExpiry, { vault: true, archive: false }, onExpiry.vaultTo);

    // Assert
    expect(actions).toEqual(["copyToArchive", "deleteFromVault"]);
  });

  it("skips an archive copy whose time in the archive is already over, and deletes what is due", () => {
    // Act
    const late = retentionActions(
      onExpiry,
      { vault: true, archive: false },
      ms("2026-11-01T06:30:00Z"),
    );
    const archived = retentionActions(
      onExpiry,
      { vault: false, archive: true },
      ms("2026-11-01T06:30:00Z"),
    );

    // Assert
    expect(late).toEqual(["deleteFromVault"]);
    expect(archived).toEqual(["deleteFromArchive"]);
  });

  it("keeps an archive copy the rule does not make only as long as the vault copy", () => {
    // Arrange
    const vaultOnly: RetentionPlanEntry = {
      ...onExpiry,
      archiveFrom: undefined,
      archiveTo: undefined,
    };

    // Act
    const before = retentionActions(
      vaultOnly,
      { vault: true, archive: true },
      ms("2026-05-01T06:29:59.999Z"),
    );
    const at = retentionActions(vaultOnly, { vault: true, archive: true }, vaultOnly.vaultTo);

    // Assert
    expect(before).toEqual([]);
    expect(at).toEqual(["deleteFromVault", "deleteFromArchive"]);
  });
});
