import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../../src/domain/errors.js";
import {
  formatSimulationTable,
  parseInstant,
  recoveryPointsAt,
  simulatePolicy,
  simulationToJson,
  type SimulatedBackup,
} from "../../../../src/domain/policy/simulation.js";
import type {
  AzureRetentionRule,
  BackupPolicy,
  ScheduleBasedBackupCriteria,
  SourceLifeCycle,
  TaggingCriteria,
} from "../../../../src/domain/policy/types.js";

const ms = (iso: string): number => Date.parse(iso);

function vaultLifecycle(
  duration: string,
  copyAfter?: { objectType: string; duration?: string },
): SourceLifeCycle {
  return {
    deleteAfter: { duration, objectType: "AbsoluteDeleteOption" },
    sourceDataStore: { dataStoreType: "VaultStore", objectType: "DataStoreInfoBase" },
    targetDataStoreCopySettings: copyAfter
      ? { copyAfter, dataStore: { dataStoreType: "ArchiveStore", objectType: "DataStoreInfoBase" } }
      : [],
  };
}

function archiveLifecycle(duration: string): SourceLifeCycle {
  return {
    deleteAfter: { duration, objectType: "AbsoluteDeleteOption" },
    sourceDataStore: { dataStoreType: "ArchiveStore", objectType: "DataStoreInfoBase" },
  };
}

function retentionRule(name: string, lifecycles: SourceLifeCycle[]): AzureRetentionRule {
  return { name, objectType: "AzureRetentionRule", isDefault: name === "Default", lifecycles };
}

function tag(
  name: string,
  priority: number,
  criteria: Partial<ScheduleBasedBackupCriteria>[],
): TaggingCriteria {
  return {
    isDefault: false,
    taggingPriority: priority,
    tagInfo: { tagName: name, id: `${name}_` },
    criteria: criteria.map((c) => ({ objectType: "ScheduleBasedBackupCriteria", ...c })),
  };
}

const defaultTag: TaggingCriteria = {
  isDefault: true,
  taggingPriority: 99,
  tagInfo: { tagName: "Default", id: "Default_" },
};

function policyOf(
  intervals: string[],
  timeZone: string,
  tags: TaggingCriteria[],
  rules: AzureRetentionRule[],
): BackupPolicy {
  return {
    objectType: "BackupPolicy",
    datasourceTypes: ["Microsoft.DBforPostgreSQL/servers/databases"],
    name: "TestPolicy",
    policyRules: [
      {
        name: "BackupWeekly",
        objectType: "AzureBackupRule",
        backupParameters: { backupType: "Full", objectType: "AzureBackupParams" },
        dataStore: { dataStoreType: "VaultStore", objectType: "DataStoreInfoBase" },
        trigger: {
          objectType: "ScheduleBasedTriggerContext",
          schedule: { repeatingTimeIntervals: intervals, timeZone },
          taggingCriteria: [...tags, defaultTag],
        },
      },
      ...rules,
    ],
  };
}

/** The seed's policy at the end of its workflow (AddedRetentionRuleAndTag.JSON). */
const seedPolicy: BackupPolicy = {
  datasourceTypes: ["Microsoft.DBforPostgreSQL/servers/databases"],
  name: "OssPolicy1",
  objectType: "BackupPolicy",
  policyRules: [
    {
      backupParameters: { backupType: "Full", objectType: "AzureBackupParams" },
      dataStore: { dataStoreType: "VaultStore", objectType: "DataStoreInfoBase" },
      name: "BackupWeekly",
      objectType: "AzureBackupRule",
      trigger: {
        objectType: "ScheduleBasedTriggerContext",
        schedule: {
          repeatingTimeIntervals: [
            "R/2021-08-15T22:00:00+00:00/P1W",
            "R/2021-08-18T22:00:00+00:00/P1W",
            "R/2021-08-20T22:00:00+00:00/P1W",
          ],
          timeZone: "UTC",
        },
        taggingCriteria: [
          { isDefault: true, tagInfo: { id: "Default_", tagName: "Default" }, taggingPriority: 99 },
          {
            criteria: [
              { absoluteCriteria: ["FirstOfMonth"], objectType: "ScheduleBasedBackupCriteria" },
            ],
            isDefault: false,
            tagInfo: { tagName: "Monthly" },
            taggingPriority: 15,
          },
        ],
      },
    },
    {
      isDefault: true,
      lifecycles: [vaultLifecycle("P3M")],
      name: "Default",
      objectType: "AzureRetentionRule",
    },
    {
      isDefault: false,
      lifecycles: [
        {
          deleteAfter: { duration: "P6M", objectType: "AbsoluteDeleteOption" },
          sourceDataStore: { dataStoreType: "VaultStore", objectType: "DataStoreInfoBase" },
          targetDataStoreCopySettings: {
            copyAfter: { objectType: "CopyOnExpiryOption" },
            dataStore: { dataStoreType: "ArchiveStore", objectType: "DataStoreInfoBase" },
          },
        },
        archiveLifecycle("P24M"),
      ],
      name: "Monthly",
      objectType: "AzureRetentionRule",
    },
  ],
};

function backupAt(backups: readonly SimulatedBackup[], iso: string): SimulatedBackup {
  const found = backups.find((b) => b.at === ms(iso));
  if (!found) throw new Error(`no backup at ${iso}`);
  return found;
}

describe("simulatePolicy over the seed's policy for 2026", () => {
  const simulation = simulatePolicy(seedPolicy, {
    from: "2026-01-01T00:00:00Z",
    to: "2027-01-01T00:00:00Z",
  });

  it("takes a backup every Sunday, Wednesday and Friday at 22:00 UTC, 52 of each in 2026", () => {
    // Arrange: 2026 starts and ends on a Thursday, so each weekday occurs 52 times.
    // Act
    const days = simulation.backups.map((b) => new Date(b.at).getUTCDay());
    // Assert
    expect(simulation.backups).toHaveLength(156);
    expect(days.filter((d) => d === 0)).toHaveLength(52);
    expect(days.filter((d) => d === 3)).toHaveLength(52);
    expect(days.filter((d) => d === 5)).toHaveLength(52);
    expect(
      simulation.backups.every((b) => new Date(b.at).toISOString().endsWith("T22:00:00.000Z")),
    ).toBe(true);
  });

  it("tags the first backup of each month Monthly and every other backup Default", () => {
    // Arrange: the 1st of each month in 2026 and the next Sunday, Wednesday or Friday on or after it.
    const expectedMonthly = [
      "2026-01-02", // Thu 1 Jan -> Fri 2
      "2026-02-01", // Sunday
      "2026-03-01", // Sunday
      "2026-04-01", // Wednesday
      "2026-05-01", // Friday
      "2026-06-03", // Mon 1 Jun -> Wed 3
      "2026-07-01", // Wednesday
      "2026-08-02", // Sat 1 Aug -> Sun 2
      "2026-09-02", // Tue 1 Sep -> Wed 2
      "2026-10-02", // Thu 1 Oct -> Fri 2
      "2026-11-01", // Sunday
      "2026-12-02", // Tue 1 Dec -> Wed 2
    ].map((day) => `${day}T22:00:00.000Z`);
    // Act
    const monthly = simulation.backups.filter((b) => b.tag === "Monthly");
    // Assert
    expect(monthly.map((b) => new Date(b.at).toISOString())).toEqual(expectedMonthly);
    expect(monthly.every((b) => b.rule === "Monthly")).toBe(true);
    expect(
      simulation.backups.filter((b) => b.tag === "Default" && b.rule === "Default"),
    ).toHaveLength(144);
  });

  it("keeps the January Monthly backup 6 months in the vault, then 24 months in the archive", () => {
    // Act
    const backup = backupAt(simulation.backups, "2026-01-02T22:00:00Z");
    // Assert
    expect(backup.vaultTo).toBe(ms("2026-07-02T22:00:00Z"));
    expect(backup.archiveFrom).toBe(ms("2026-07-02T22:00:00Z"));
    expect(backup.archiveTo).toBe(ms("2028-07-02T22:00:00Z"));
  });

  it("keeps a Default backup 3 months in the vault and never archives it", () => {
    // Act
    const backup = backupAt(simulation.backups, "2026-01-04T22:00:00Z");
    // Assert
    expect(backup.tag).toBe("Default");
    expect(backup.vaultTo).toBe(ms("2026-04-04T22:00:00Z"));
    expect(backup.archiveFrom).toBeUndefined();
    expect(backup.archiveTo).toBeUndefined();
  });

  it("clamps the 29 November backup's 3 months to 28 February of a common year", () => {
    // Act
    const backup = backupAt(simulation.backups, "2026-11-29T22:00:00Z");
    // Assert
    expect(backup.vaultTo).toBe(ms("2027-02-28T22:00:00Z"));
  });

  it("gives the December Monthly backup deletion instants after the window ends", () => {
    // Act
    const backup = backupAt(simulation.backups, "2026-12-02T22:00:00Z");
    // Assert
    expect(backup.vaultTo).toBe(ms("2027-06-02T22:00:00Z"));
    expect(backup.archiveTo).toBe(ms("2029-06-02T22:00:00Z"));
  });

  it("moves a Monthly backup from the vault to the archive exactly at its vault expiry", () => {
    // Arrange
    const expiry = ms("2026-07-02T22:00:00Z");
    const january = ms("2026-01-02T22:00:00Z");
    // Act
    const before = recoveryPointsAt(simulation, expiry - 1);
    const at = recoveryPointsAt(simulation, expiry);
    // Assert
    expect(before.VaultStore.map((b) => b.at)).toContain(january);
    expect(before.ArchiveStore.map((b) => b.at)).not.toContain(january);
    expect(at.VaultStore.map((b) => b.at)).not.toContain(january);
    expect(at.ArchiveStore.map((b) => b.at)).toEqual([january]);
  });

  it("holds 43 recovery points in the vault on 15 June 2026", () => {
    // Arrange: Default backups from Sun 15 Mar 22:00 to Sun 14 Jun (14 Sundays, 13 Wednesdays,
    // 13 Fridays = 40, of which Apr 1, May 1 and Jun 3 are Monthly) plus the Monthly backups of
    // Jan 2, Feb 1 and Mar 1, still inside their 6 months.
    // Act
    const points = recoveryPointsAt(simulation, "2026-06-15T00:00:00Z");
    // Assert
    expect(points.VaultStore).toHaveLength(43);
    expect(
      points.VaultStore.filter((b) => b.tag === "Monthly").map((b) => new Date(b.at).getUTCMonth()),
    ).toEqual([0, 1, 2, 3, 4, 5]);
    expect(points.ArchiveStore).toHaveLength(0);
  });
});

describe("simulatePolicy with a window that starts mid-month", () => {
  const window = { from: "2026-03-10T00:00:00Z", to: "2026-04-10T00:00:00Z" };

  it("does not tag the first backup in the window Monthly when the schedule already ran that month", () => {
    // Act
    const simulation = simulatePolicy(seedPolicy, window);
    // Assert: Wed 11 Mar follows Sun 1 Mar; Wed 1 Apr is the first of April.
    expect(new Date(simulation.backups[0]?.at ?? 0).toISOString()).toBe("2026-03-11T22:00:00.000Z");
    expect(
      simulation.backups
        .filter((b) => b.tag === "Monthly")
        .map((b) => new Date(b.at).toISOString()),
    ).toEqual(["2026-04-01T22:00:00.000Z"]);
  });

  it("tags the first backup in the window Monthly when the history says nothing ran before", () => {
    // Act
    const simulation = simulatePolicy(seedPolicy, { ...window, history: [] });
    // Assert
    expect(
      simulation.backups
        .filter((b) => b.tag === "Monthly")
        .map((b) => new Date(b.at).toISOString()),
    ).toEqual(["2026-03-11T22:00:00.000Z", "2026-04-01T22:00:00.000Z"]);
  });

  it("reads first-of-month from an explicit history of earlier backups", () => {
    // Arrange: only a backup on 8 March ran this month before the window.
    const history = ["2026-03-08T22:00:00Z", "2026-02-27T22:00:00Z"];
    // Act
    const simulation = simulatePolicy(seedPolicy, { ...window, history });
    // Assert
    expect(
      simulation.backups
        .filter((b) => b.tag === "Monthly")
        .map((b) => new Date(b.at).toISOString()),
    ).toEqual(["2026-04-01T22:00:00.000Z"]);
  });
});

describe("simulatePolicy at calendar boundaries", () => {
  it("keeps a backup taken on 29 February for P1Y until 28 February of the next year", () => {
    // Arrange
    const policy = policyOf(
      ["R/2028-02-29T10:00:00+00:00/P1W"],
      "UTC",
      [],
      [retentionRule("Default", [vaultLifecycle("P1Y")])],
    );
    // Act
    const simulation = simulatePolicy(policy, {
      from: "2028-02-29T00:00:00Z",
      to: "2028-03-01T00:00:00Z",
    });
    // Assert
    expect(simulation.backups).toHaveLength(1);
    expect(simulation.backups[0]?.vaultTo).toBe(ms("2029-02-28T10:00:00Z"));
  });

  it("keeps a backup taken on 31 January for P1M until 29 February in a leap year", () => {
    // Arrange
    const policy = policyOf(
      ["R/2028-01-31T08:00:00+00:00/P1W"],
      "UTC",
      [],
      [retentionRule("Default", [vaultLifecycle("P1M")])],
    );
    // Act
    const simulation = simulatePolicy(policy, {
      from: "2028-01-31T00:00:00Z",
      to: "2028-02-01T00:00:00Z",
    });
    // Assert
    expect(simulation.backups[0]?.vaultTo).toBe(ms("2028-02-29T08:00:00Z"));
  });

  it("tags the Sunday backup, not the Saturday one, as the first of the week (weeks start on Sunday)", () => {
    // Arrange: Saturday 23:00 and Sunday 01:00 UTC every week; Weekly = FirstOfWeek.
    const policy = policyOf(
      ["R/2026-01-03T23:00:00+00:00/P1W", "R/2026-01-04T01:00:00+00:00/P1W"],
      "UTC",
      [tag("Weekly", 20, [{ absoluteCriteria: ["FirstOfWeek"] }])],
      [
        retentionRule("Default", [vaultLifecycle("P4W")]),
        retentionRule("Weekly", [vaultLifecycle("P12W")]),
      ],
    );
    // Act
    const simulation = simulatePolicy(policy, {
      from: "2026-01-05T00:00:00Z",
      to: "2026-01-19T00:00:00Z",
    });
    // Assert
    expect(simulation.backups.map((b) => [new Date(b.at).toISOString(), b.tag])).toEqual([
      ["2026-01-10T23:00:00.000Z", "Default"], // Saturday: the week began with Sun 4 Jan 01:00
      ["2026-01-11T01:00:00.000Z", "Weekly"],
      ["2026-01-17T23:00:00.000Z", "Default"],
      ["2026-01-18T01:00:00.000Z", "Weekly"],
    ]);
  });

  it("tags a Saturday backup as the first of the week when it is the first backup since Sunday", () => {
    // Arrange: the first week of the schedule starts on a Saturday.
    const policy = policyOf(
      ["R/2026-01-03T23:00:00+00:00/P1W", "R/2026-01-04T01:00:00+00:00/P1W"],
      "UTC",
      [tag("Weekly", 20, [{ absoluteCriteria: ["FirstOfWeek"] }])],
      [
        retentionRule("Default", [vaultLifecycle("P4W")]),
        retentionRule("Weekly", [vaultLifecycle("P12W")]),
      ],
    );
    // Act
    const simulation = simulatePolicy(policy, {
      from: "2026-01-01T00:00:00Z",
      to: "2026-01-05T00:00:00Z",
    });
    // Assert
    expect(simulation.backups.map((b) => b.tag)).toEqual(["Weekly", "Weekly"]);
  });

  it("matches the last day of the month and the last week in February of a leap year", () => {
    // Arrange: daily backups; Monthly = last day of the month, Weekly = last week of the month.
    const policy = policyOf(
      ["R/2028-02-01T12:00:00+00:00/P1D"],
      "UTC",
      [
        tag("Monthly", 15, [{ daysOfMonth: [{ isLast: true }] }]),
        tag("Weekly", 20, [{ weeksOfTheMonth: ["Last"] }]),
      ],
      [
        retentionRule("Default", [vaultLifecycle("P1W")]),
        retentionRule("Weekly", [vaultLifecycle("P4W")]),
        retentionRule("Monthly", [vaultLifecycle("P1Y")]),
      ],
    );
    // Act
    const simulation = simulatePolicy(policy, {
      from: "2028-02-20T00:00:00Z",
      to: "2028-03-02T00:00:00Z",
    });
    // Assert: 29 Feb is last; 23-28 Feb are the last 7 days with it; 1 Mar is neither.
    const tags = simulation.backups.map(
      (b) => `${new Date(b.at).toISOString().slice(5, 10)} ${b.tag}`,
    );
    expect(tags).toEqual([
      "02-20 Default",
      "02-21 Default",
      "02-22 Default",
      "02-23 Weekly",
      "02-24 Weekly",
      "02-25 Weekly",
      "02-26 Weekly",
      "02-27 Weekly",
      "02-28 Weekly",
      "02-29 Monthly",
      "03-01 Default",
    ]);
  });

  it("combines fields with AND and values with OR, and criteria of one tag with OR", () => {
    // Arrange: Yearly = (a Sunday in the first week of January or July) or (a 15th that is a Monday).
    const policy = policyOf(
      ["R/2026-01-01T06:00:00+00:00/P1D"],
      "UTC",
      [
        tag("Yearly", 10, [
          {
            daysOfTheWeek: ["Sunday"],
            weeksOfTheMonth: ["First"],
            monthsOfYear: ["January", "July"],
          },
          { daysOfMonth: [{ date: 15 }], daysOfTheWeek: ["Monday"] },
        ]),
      ],
      [
        retentionRule("Default", [vaultLifecycle("P1W")]),
        retentionRule("Yearly", [vaultLifecycle("P1Y")]),
      ],
    );
    // Act
    const simulation = simulatePolicy(policy, {
      from: "2026-01-01T00:00:00Z",
      to: "2027-01-01T00:00:00Z",
    });
    // Assert: first Sundays of Jan and Jul 2026 are 4 Jan and 5 Jul; the only 15th that is a
    // Monday in 2026 is 15 Jun (1 Jun is the only 1st that is a Monday).
    expect(
      simulation.backups
        .filter((b) => b.tag === "Yearly")
        .map((b) => new Date(b.at).toISOString().slice(0, 10)),
    ).toEqual(["2026-01-04", "2026-06-15", "2026-07-05"]);
  });
});

describe("simulatePolicy in time zones", () => {
  it("keeps 00:30 wall-clock time in Europe/Berlin across daylight saving and reads Sunday there", () => {
    // Arrange: Sunday 00:30 in Berlin is Saturday 23:30 UTC in winter and 22:30 UTC in summer.
    const policy = policyOf(
      ["R/2026-03-22T00:30:00+01:00/P1W"],
      "Europe/Berlin",
      [tag("Weekly", 20, [{ daysOfTheWeek: ["Sunday"] }])],
      [
        retentionRule("Default", [vaultLifecycle("P1W")]),
        retentionRule("Weekly", [vaultLifecycle("P4W")]),
      ],
    );
    // Act
    const simulation = simulatePolicy(policy, {
      from: "2026-03-20T00:00:00Z",
      to: "2026-04-06T00:00:00Z",
    });
    // Assert
    expect(simulation.backups.map((b) => [new Date(b.at).toISOString(), b.tag])).toEqual([
      ["2026-03-21T23:30:00.000Z", "Weekly"],
      ["2026-03-28T23:30:00.000Z", "Weekly"], // 29 Mar: the switch happens at 02:00, after the backup
      ["2026-04-04T22:30:00.000Z", "Weekly"],
    ]);
  });

  it("reads the first of the month in Europe/Berlin, where it starts an hour before UTC", () => {
    // Arrange: daily 00:30 Berlin; 1 Nov 2026 00:30 CET is 31 Oct 23:30 UTC.
    const policy = policyOf(
      ["R/2026-10-20T00:30:00+02:00/P1D"],
      "W. Europe Standard Time",
      [tag("Monthly", 15, [{ absoluteCriteria: ["FirstOfMonth"] }])],
      [
        retentionRule("Default", [vaultLifecycle("P1W")]),
        retentionRule("Monthly", [vaultLifecycle("P6M")]),
      ],
    );
    // Act
    const simulation = simulatePolicy(policy, {
      from: "2026-10-30T00:00:00Z",
      to: "2026-11-03T00:00:00Z",
    });
    // Assert
    expect(simulation.backups.map((b) => [new Date(b.at).toISOString(), b.tag])).toEqual([
      ["2026-10-30T23:30:00.000Z", "Default"],
      ["2026-10-31T23:30:00.000Z", "Monthly"],
      ["2026-11-01T23:30:00.000Z", "Default"],
      ["2026-11-02T23:30:00.000Z", "Default"],
    ]);
  });

  it("reads calendar criteria at +05:30 when the schedule names that offset", () => {
    // Arrange: Sunday 02:00 at +05:30 is Saturday 20:30 UTC; 1 Feb 2026 is a Sunday.
    const policy = policyOf(
      ["R/2026-01-04T02:00:00+05:30/P1W"],
      "+05:30",
      [
        tag("Monthly", 15, [{ absoluteCriteria: ["FirstOfMonth"] }]),
        tag("Weekly", 20, [{ daysOfTheWeek: ["Sunday"] }]),
      ],
      [
        retentionRule("Default", [vaultLifecycle("P1W")]),
        retentionRule("Weekly", [vaultLifecycle("P4W")]),
        retentionRule("Monthly", [vaultLifecycle("P1M")]),
      ],
    );
    // Act
    const simulation = simulatePolicy(policy, {
      from: "2026-01-20T00:00:00Z",
      to: "2026-02-10T00:00:00Z",
    });
    // Assert
    expect(simulation.backups.map((b) => [new Date(b.at).toISOString(), b.tag])).toEqual([
      ["2026-01-24T20:30:00.000Z", "Weekly"],
      ["2026-01-31T20:30:00.000Z", "Monthly"],
      ["2026-02-07T20:30:00.000Z", "Weekly"],
    ]);
    // P1M from 1 Feb 02:00 at +05:30 is 1 Mar 02:00 at +05:30.
    expect(simulation.backups[1]?.vaultTo).toBe(ms("2026-02-28T20:30:00Z"));
  });
});

describe("simulatePolicy copy options", () => {
  function copyPolicy(copyAfter: { objectType: string; duration?: string }): BackupPolicy {
    return policyOf(
      ["R/2026-01-04T22:00:00+00:00/P1W"],
      "UTC",
      [tag("Monthly", 15, [{ absoluteCriteria: ["FirstOfMonth"] }])],
      [
        retentionRule("Default", [vaultLifecycle("P3M")]),
        retentionRule("Monthly", [vaultLifecycle("P6M", copyAfter), archiveLifecycle("P1Y")]),
      ],
    );
  }
  const window = { from: "2026-01-01T00:00:00Z", to: "2026-01-10T00:00:00Z" };

  it("copies to the archive at creation with ImmediateCopyOption and keeps the vault copy too", () => {
    // Act
    const [backup] = simulatePolicy(
      copyPolicy({ objectType: "ImmediateCopyOption" }),
      window,
    ).backups;
    // Assert
    expect(backup?.vaultTo).toBe(ms("2026-07-04T22:00:00Z"));
    expect(backup?.archiveFrom).toBe(ms("2026-01-04T22:00:00Z"));
    expect(backup?.archiveTo).toBe(ms("2027-01-04T22:00:00Z"));
  });

  it("copies to the archive after the custom duration with CustomCopyOption", () => {
    // Act
    const [backup] = simulatePolicy(
      copyPolicy({ objectType: "CustomCopyOption", duration: "P2M" }),
      window,
    ).backups;
    // Assert
    expect(backup?.archiveFrom).toBe(ms("2026-03-04T22:00:00Z"));
    expect(backup?.archiveTo).toBe(ms("2027-03-04T22:00:00Z"));
  });

  it("reports a custom copy that would start after the vault copy is deleted", () => {
    // Act
    const act = () =>
      simulatePolicy(copyPolicy({ objectType: "CustomCopyOption", duration: "P7M" }), window);
    // Assert
    expect(act).toThrow(InvalidInputError);
    expect(act).toThrow(/after its vault copy is deleted/);
  });

  it("reports an archive copy without an ArchiveStore lifecycle, naming the rule's path", () => {
    // Arrange
    const policy = policyOf(
      ["R/2026-01-04T22:00:00+00:00/P1W"],
      "UTC",
      [tag("Monthly", 15, [{ absoluteCriteria: ["FirstOfMonth"] }])],
      [
        retentionRule("Default", [vaultLifecycle("P3M")]),
        retentionRule("Monthly", [vaultLifecycle("P6M", { objectType: "CopyOnExpiryOption" })]),
      ],
    );
    // Act
    let error: unknown;
    try {
      simulatePolicy(policy, window);
    } catch (caught) {
      error = caught;
    }
    // Assert
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).problems).toContainEqual(
      expect.objectContaining({
        path: "$.policyRules[2].lifecycles",
        code: "POLICY_LIFECYCLE_ARCHIVE_MISSING",
      }),
    );
  });
});

describe("simulatePolicy ad-hoc backups", () => {
  it("tags an ad-hoc backup by its override, keeps it out of first-of-month, and lists it in time order", () => {
    // Arrange: an ad-hoc Monthly backup on 1 Mar 10:00, before the scheduled Sunday 1 Mar 22:00.
    const adhoc = [
      { at: "2026-03-01T10:00:00Z", ruleName: "BackupWeekly", retentionTagOverride: "Monthly" },
    ];
    // Act
    const simulation = simulatePolicy(seedPolicy, {
      from: "2026-02-27T00:00:00Z",
      to: "2026-03-02T00:00:00Z",
      adhoc,
    });
    // Assert
    expect(simulation.backups.map((b) => [new Date(b.at).toISOString(), b.tag, b.adhoc])).toEqual([
      ["2026-02-27T22:00:00.000Z", "Default", false],
      ["2026-03-01T10:00:00.000Z", "Monthly", true],
      ["2026-03-01T22:00:00.000Z", "Monthly", false],
    ]);
    expect(simulation.backups[1]?.archiveFrom).toBe(ms("2026-09-01T10:00:00Z"));
  });

  it("keeps an ad-hoc backup without an override under the Default rule", () => {
    // Act
    const simulation = simulatePolicy(seedPolicy, {
      from: "2026-03-02T00:00:00Z",
      to: "2026-03-03T00:00:00Z",
      adhoc: [{ at: "2026-03-02T09:00:00Z" }],
    });
    // Assert
    expect(simulation.backups).toEqual([
      expect.objectContaining({
        tag: "Default",
        rule: "Default",
        vaultTo: ms("2026-06-02T09:00:00Z"),
      }),
    ]);
  });

  it("names both fields when the retention tag is given as the rule name", () => {
    // Act
    const act = () =>
      simulatePolicy(seedPolicy, {
        from: "2026-03-02T00:00:00Z",
        to: "2026-03-03T00:00:00Z",
        adhoc: [{ at: "2026-03-02T09:00:00Z", ruleName: "Monthly" }],
      });
    // Assert
    expect(act).toThrow(
      "'Monthly' is a retention rule, not the backup rule: set ruleName to 'BackupWeekly' and retentionTagOverride to 'Monthly'",
    );
  });
});

describe("simulatePolicy storage estimate", () => {
  const policy = policyOf(
    ["R/2026-01-04T22:00:00+00:00/P1W"],
    "UTC",
    [],
    [retentionRule("Default", [vaultLifecycle("P3M")])],
  );
  const month = 365.25 / 12;

  it("counts GB-months of each backup within the window only", () => {
    // Arrange: Sundays 4, 11, 18, 25 Jan at 22:00, all kept past 1 Feb; 10 GB each.
    const daysInWindow = [4, 11, 18, 25].map((day) => 32 - day - 22 / 24);
    // Act
    const simulation = simulatePolicy(policy, {
      from: "2026-01-01T00:00:00Z",
      to: "2026-02-01T00:00:00Z",
      sizeGb: 10,
    });
    // Assert
    const expected = daysInWindow.reduce((sum, days) => sum + (10 * days) / month, 0);
    expect(simulation.storage.VaultStore).toBeCloseTo(expected, 9);
    expect(simulation.storage.ArchiveStore).toBe(0);
  });

  it("grows a backup's size by the monthly rate compounded over average months since the window start", () => {
    // Arrange: the window starts one average month (30.4375 days) before the 4 Jan 22:00 backup.
    const from = ms("2026-01-04T22:00:00Z") - month * 86_400_000;
    // Act
    const simulation = simulatePolicy(policy, {
      from,
      to: "2026-01-05T00:00:00Z",
      sizeGb: 100,
      monthlyGrowth: 0.1,
    });
    // Assert
    const [backup] = simulation.backups;
    expect(backup?.sizeGb).toBeCloseTo(110, 9);
    expect(simulation.storage.VaultStore).toBeCloseTo((110 * (2 / 24)) / month, 9);
  });
});

describe("simulatePolicy input checks", () => {
  it("rejects a window that ends before it starts", () => {
    // Act
    const act = () =>
      simulatePolicy(seedPolicy, { from: "2026-02-01T00:00:00Z", to: "2026-01-01T00:00:00Z" });
    // Assert
    expect(act).toThrow(InvalidInputError);
  });

  it("reads a bare date as midnight UTC and refuses 30 February", () => {
    // Act
    const instants = [
      parseInstant("2026-02-28"),
      parseInstant("2026-02-30"),
      parseInstant("2026-02-30T00:00:00Z"),
    ];
    // Assert
    expect(instants).toEqual([Date.UTC(2026, 1, 28), undefined, undefined]);
  });

  it("rejects an instant without an offset", () => {
    // Act
    const act = () =>
      simulatePolicy(seedPolicy, { from: "2026-01-01T00:00:00", to: "2026-02-01T00:00:00Z" });
    // Assert
    expect(act).toThrow(/not an instant/);
  });

  it("rejects a tag without a retention rule of the same name", () => {
    // Arrange
    const policy = policyOf(
      ["R/2026-01-04T22:00:00+00:00/P1W"],
      "UTC",
      [tag("Weekly", 20, [{ absoluteCriteria: ["AllBackup"] }])],
      [retentionRule("Default", [vaultLifecycle("P3M")])],
    );
    // Act
    const act = () =>
      simulatePolicy(policy, { from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z" });
    // Assert
    expect(act).toThrow(/tag 'Weekly' needs a retention rule named 'Weekly'/);
  });

  it("rejects an unknown day name in the criteria, with its path", () => {
    // Arrange
    const policy = policyOf(
      ["R/2026-01-04T22:00:00+00:00/P1W"],
      "UTC",
      [tag("Weekly", 20, [{ daysOfTheWeek: ["Sundae"] }])],
      [
        retentionRule("Default", [vaultLifecycle("P3M")]),
        retentionRule("Weekly", [vaultLifecycle("P3M")]),
      ],
    );
    // Act
    const act = () =>
      simulatePolicy(policy, { from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z" });
    // Assert
    expect(act).toThrow(
      /\$\.policyRules\[0\]\.trigger\.taggingCriteria\[0\]\.criteria\[0\]\.daysOfTheWeek\[0\]/,
    );
  });
});

describe("simulationToJson and formatSimulationTable", () => {
  const simulation = simulatePolicy(seedPolicy, {
    from: "2026-01-01T00:00:00Z",
    to: "2026-01-05T00:00:00Z",
    sizeGb: 2,
  });

  it("writes instants as ISO strings and the archive interval only when there is one", () => {
    // Act
    const json = simulationToJson(simulation);
    // Assert
    expect(json.from).toBe("2026-01-01T00:00:00.000Z");
    expect(json.backups).toEqual([
      {
        at: "2026-01-02T22:00:00.000Z",
        adhoc: false,
        tag: "Monthly",
        rule: "Monthly",
        sizeGb: 2,
        vault: { from: "2026-01-02T22:00:00.000Z", to: "2026-07-02T22:00:00.000Z" },
        archive: { from: "2026-07-02T22:00:00.000Z", to: "2028-07-02T22:00:00.000Z" },
      },
      {
        at: "2026-01-04T22:00:00.000Z",
        adhoc: false,
        tag: "Default",
        rule: "Default",
        sizeGb: 2,
        vault: { from: "2026-01-04T22:00:00.000Z", to: "2026-04-04T22:00:00.000Z" },
      },
    ]);
  });

  it("prints one line per backup with its archive and deletion times, and the storage per tier", () => {
    // Act
    const table = formatSimulationTable(simulation);
    // Assert
    const lines = table.split("\n");
    expect(lines.find((l) => l.startsWith("2026-01-02 22:00"))?.split(/\s{2,}/)).toEqual([
      "2026-01-02 22:00",
      "Monthly",
      "Monthly",
      "2026-07-02 22:00",
      "2026-07-02 22:00",
      "2028-07-02 22:00",
    ]);
    expect(lines.find((l) => l.startsWith("2026-01-04 22:00"))?.split(/\s{2,}/)).toEqual([
      "2026-01-04 22:00",
      "Default",
      "Default",
      "2026-04-04 22:00",
      "-",
      "2026-04-04 22:00",
    ]);
    expect(table).toMatch(/VaultStore\s+[\d.]+ GB-months/);
    expect(table).toMatch(/ArchiveStore\s+0\.00 GB-months/);
  });
});
