import { createHash, randomUUID } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  recoveryPointsAt,
  simulatePolicy,
  type PolicySimulation,
} from "../../../src/domain/policy/simulation.js";
import type { BackupPolicy, TaggingCriteria } from "../../../src/domain/policy/types.js";
import {
  formatDatabaseId,
  formatServerId,
  LOCAL_SCOPE,
} from "../../../src/domain/protection/ids.js";
import {
  backupInstanceNameFor,
  DATABASE_DATASOURCE_TYPE,
  datasourceTargetOf,
  FLEXIBLE_SERVER_DATASOURCE_TYPE,
} from "../../../src/domain/protection/naming.js";
import type {
  BackupInstance,
  RecoveryPointStoreType,
} from "../../../src/domain/protection/types.js";
import { createLocalProvider, type LocalProvider } from "../../../src/providers/local/index.js";
import { LocalScheduler, runLocalScheduleTick } from "../../../src/providers/local/scheduler.js";
import { VaultFolder } from "../../../src/providers/local/vaultStore.js";
import { backupNow, instanceSpec } from "../../support/localProvider.js";
import { usePostgresCluster } from "../../support/postgres.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const VAULT = "vault1";
const iso = (at: number): string => new Date(at).toISOString();

const vaultStore = { dataStoreType: "VaultStore", objectType: "DataStoreInfoBase" };
const archiveStore = { dataStoreType: "ArchiveStore", objectType: "DataStoreInfoBase" };

const tag = (
  tagName: string,
  taggingPriority: number,
  marker: "FirstOfWeek" | "FirstOfMonth" | "FirstOfYear",
): TaggingCriteria => ({
  isDefault: false,
  taggingPriority,
  tagInfo: { tagName },
  criteria: [{ objectType: "ScheduleBasedBackupCriteria", absoluteCriteria: [marker] }],
});

const retention = (
  name: string,
  vaultFor: string,
  archive?: { copyAfter: { objectType: string; duration?: string }; keepFor: string },
) => ({
  name,
  objectType: "AzureRetentionRule" as const,
  isDefault: name === "Default",
  lifecycles: [
    {
      deleteAfter: { objectType: "AbsoluteDeleteOption", duration: vaultFor },
      sourceDataStore: vaultStore,
      targetDataStoreCopySettings: archive
        ? [{ copyAfter: archive.copyAfter, dataStore: archiveStore }]
        : [],
    },
    ...(archive
      ? [
          {
            deleteAfter: { objectType: "AbsoluteDeleteOption", duration: archive.keepFor },
            sourceDataStore: archiveStore,
          },
        ]
      : []),
  ],
});

/**
 * Single Server databases: Sundays 06:30 and Wednesdays 18:00 UTC; Weekly, Monthly and Yearly tags
 * with each archive copy option.
 */
const twiceWeeklyPolicy: BackupPolicy = {
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
        schedule: {
          timeZone: "UTC",
          repeatingTimeIntervals: [
            "R/2026-01-04T06:30:00+00:00/P1W",
            "R/2026-01-07T18:00:00+00:00/P1W",
          ],
        },
        taggingCriteria: [
          { isDefault: true, taggingPriority: 99, tagInfo: { tagName: "Default" } },
          tag("Yearly", 10, "FirstOfYear"),
          tag("Monthly", 15, "FirstOfMonth"),
          tag("Weekly", 20, "FirstOfWeek"),
        ],
      },
    },
    retention("Default", "P10D"),
    retention("Weekly", "P5W", {
      copyAfter: { objectType: "CustomCopyOption", duration: "P2W" },
      keepFor: "P2M",
    }),
    retention("Monthly", "P3M", {
      copyAfter: { objectType: "CopyOnExpiryOption" },
      keepFor: "P4M",
    }),
    retention("Yearly", "P1M", {
      copyAfter: { objectType: "ImmediateCopyOption" },
      keepFor: "P6M",
    }),
  ],
};

/** A Flexible Server: one backup a week (Tuesdays 12:00 UTC); Monthly points archived at once. */
const weeklyFlexPolicy: BackupPolicy = {
  objectType: "BackupPolicy",
  datasourceTypes: [FLEXIBLE_SERVER_DATASOURCE_TYPE],
  policyRules: [
    {
      name: "BackupWeekly",
      objectType: "AzureBackupRule",
      backupParameters: { backupType: "Full", objectType: "AzureBackupParams" },
      dataStore: vaultStore,
      trigger: {
        objectType: "ScheduleBasedTriggerContext",
        schedule: { timeZone: "UTC", repeatingTimeIntervals: ["R/2026-01-06T12:00:00+00:00/P1W"] },
        taggingCriteria: [
          { isDefault: true, taggingPriority: 99, tagInfo: { tagName: "Default" } },
          tag("Monthly", 15, "FirstOfMonth"),
        ],
      },
    },
    retention("Default", "P3W"),
    retention("Monthly", "P2M", {
      copyAfter: { objectType: "ImmediateCopyOption" },
      keepFor: "P3M",
    }),
  ],
};

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32), so a failure can be replayed. */
function seededRandom(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe("local provider: the policy's own schedule and retention", () => {
  const pgFixture = usePostgresCluster();
  const folders: string[] = [];
  let clock = Date.parse("2026-01-02T09:00:00Z");

  beforeAll(async () => {
    await pgFixture.query("postgres", "CREATE DATABASE ledger");
    await pgFixture.query(
      "ledger",
      "CREATE TABLE entries (id int PRIMARY KEY, note text); INSERT INTO entries SELECT g, 'entry ' || g FROM generate_series(1, 50) g",
    );
  });

  afterAll(async () => {
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });

  /** A provider over a state folder whose clock is the test's `clock`. */
  async function openProvider(stateDir: string): Promise<LocalProvider> {
    const cluster = pgFixture.cluster;
    return createLocalProvider({
      stateDir,
      binDir: cluster.binDir,
      servers: [
        { name: "local", connectionString: cluster.connectionUrl() },
        { name: "flex", connectionString: cluster.connectionUrl(), kind: "flexibleServers" },
      ],
      now: () => new Date(clock),
    });
  }

  async function newStateDir(): Promise<string> {
    const folder = await mkdtemp(path.join(tmpdir(), "pgprotect-schedule-"));
    folders.push(folder);
    return folder;
  }

  /** Protects database `ledger` of Single Server `local` under the twice-weekly policy. */
  async function protectLedger(provider: LocalProvider): Promise<BackupInstance> {
    const vaultId = provider.backup.vaultId(VAULT);
    const policy = await provider.backup.createPolicy(vaultId, "TwiceWeekly", twiceWeeklyPolicy);
    const secretUri = await provider.secrets.setSecret(
      "db-ledger",
      pgFixture.cluster.connectionUrl("ledger"),
    );
    const datasourceId = formatDatabaseId({
      ...LOCAL_SCOPE,
      kind: "servers",
      serverName: "local",
      databaseName: "ledger",
    });
    return provider.backup.createBackupInstance(
      vaultId,
      backupInstanceNameFor(datasourceTargetOf(datasourceId), randomUUID()),
      instanceSpec(datasourceId, policy.id ?? "", secretUri),
    );
  }

  /** Protects Flexible Server `flex` (every database of the cluster) under the weekly policy. */
  async function protectFlex(provider: LocalProvider): Promise<BackupInstance> {
    const vaultId = provider.backup.vaultId(VAULT);
    const policy = await provider.backup.createPolicy(vaultId, "WeeklyFlex", weeklyFlexPolicy);
    const serverId = formatServerId({
      ...LOCAL_SCOPE,
      kind: "flexibleServers",
      serverName: "flex",
    });
    return provider.backup.createBackupInstance(
      vaultId,
      backupInstanceNameFor(datasourceTargetOf(serverId), randomUUID()),
      instanceSpec(serverId, policy.id ?? ""),
    );
  }

  async function scheduledJobs(provider: LocalProvider, instanceName: string) {
    return provider.backup.listJobs(provider.backup.vaultId(VAULT), {
      backupInstanceName: instanceName,
      operation: ["ScheduledBackup"],
    });
  }

  it("a fake clock drives a year of schedule: at every step the recovery points in VaultStore and ArchiveStore are the simulator's", async () => {
    // Arrange: two instances protected on Friday 2 January 2026, 09:00 UTC
    const stateDir = await newStateDir();
    let provider = await openProvider(stateDir);
    const vaultId = provider.backup.vaultId(VAULT);
    const ledger = await protectLedger(provider);
    const flex = await protectFlex(provider);
    const log: string[] = [];
    let scheduler = new LocalScheduler(provider, { log: (line) => log.push(line) });
    const start = clock;
    const end = start + 365 * DAY;

    // Ticks every 12 hours at a random moment within each half day...
    const random = seededRandom(20260102);
    const jittered: number[] = [];
    for (let k = 1; k * 12 * HOUR < end - start; k += 1) {
      jittered.push(start + k * 12 * HOUR - Math.floor(random() * 11 * HOUR));
    }
    // ...with two on-demand backups of the database (kept as Monthly, and by Default).
    const adhoc = [
      { at: jittered[200] as number, retentionTagOverride: "Monthly" },
      { at: jittered[500] as number },
    ];
    const predicted = new Map<string, PolicySimulation>([
      [
        ledger.name,
        simulatePolicy(twiceWeeklyPolicy, {
          from: Date.parse(ledger.createdAt),
          to: end,
          history: [],
          adhoc,
        }),
      ],
      [
        flex.name,
        simulatePolicy(weeklyFlexPolicy, {
          from: Date.parse(flex.createdAt),
          to: end,
          history: [],
        }),
      ],
    ]);
    // ...plus a tick exactly at every other occurrence (the rest run up to 12 hours late), and at
    // every lifecycle step and 1 ms before it.
    const instants = new Set(jittered);
    for (const simulation of predicted.values()) {
      for (const [index, b] of simulation.backups.entries()) {
        if (!b.adhoc && index % 2 === 0) instants.add(b.at);
        for (const step of [b.vaultTo, b.archiveFrom, b.archiveTo]) {
          if (step === undefined || step === b.at) continue;
          instants.add(step);
          instants.add(step - 1);
        }
      }
    }
    const ticks = [...instants].filter((t) => t > start && t < end).sort((a, b) => a - b);
    const restartAt = ticks.find((t) => t >= start + 182 * DAY) as number;

    /** A scheduled backup runs at the first tick at or after its occurrence; ad-hoc ones when asked. */
    const ranAt = (at: number, isAdhoc: boolean): number =>
      isAdhoc ? at : (ticks.find((t) => t >= at) as number);
    const expectedAt = (instanceName: string, t: number) => {
      const points = recoveryPointsAt(predicted.get(instanceName) as PolicySimulation, t);
      const keys = (store: RecoveryPointStoreType) =>
        points[store].map((b) => `${iso(ranAt(b.at, b.adhoc))} ${b.tag}`).sort();
      return { VaultStore: keys("VaultStore"), ArchiveStore: keys("ArchiveStore") };
    };

    const vault = VaultFolder.of(stateDir, VAULT);
    const verified = new Set<string>();
    const onDiskAt = async (instanceName: string) => {
      const stores: Record<RecoveryPointStoreType, string[]> = { VaultStore: [], ArchiveStore: [] };
      for (const point of await provider.backup.listRecoveryPoints(vaultId, instanceName)) {
        for (const { type } of point.dataStores) {
          stores[type].push(`${point.recoveryPointTime} ${point.retentionTagName}`);
          const folder = vault.recoveryPointFolder(type, instanceName, point.recoveryPointId);
          for (const file of point.files) {
            // Files never change once committed: hash each copy once, then only see that it is there.
            const filePath = path.join(folder, file.fileName);
            if (verified.has(filePath)) {
              expect((await stat(filePath)).size, filePath).toBe(file.sizeBytes);
            } else {
              const bytes = await readFile(filePath);
              expect(createHash("sha256").update(bytes).digest("hex"), filePath).toBe(file.sha256);
              verified.add(filePath);
            }
          }
        }
      }
      for (const type of ["VaultStore", "ArchiveStore"] as const) {
        // Nothing but recovery points sits in a store: no partial copy, no leftover folder.
        const entries = await readdir(vault.storeFolder(type, instanceName)).catch(() => []);
        expect(entries, `${type} of ${instanceName}`).toHaveLength(stores[type].length);
        stores[type].sort();
      }
      return stores;
    };

    // Act / Assert: tick through the year, comparing disk with the prediction after every tick
    const seenTags = { VaultStore: new Set<string>(), ArchiveStore: new Set<string>() };
    const steps = { copyToArchive: 0, deleteFromVault: 0, deleteFromArchive: 0 };
    for (const t of ticks) {
      clock = t;
      if (t === restartAt) {
        // The process restarts: a new provider and scheduler over the same state folder.
        provider = await openProvider(stateDir);
        scheduler = new LocalScheduler(provider, { log: (line) => log.push(line) });
      }
      for (const request of adhoc) {
        if (request.at === t) {
          const job = await backupNow(provider, vaultId, ledger.name, request.retentionTagOverride);
          expect(job.status).toBe("Completed");
        }
      }
      const report = await scheduler.tick(new Date(t));
      expect(report.errors).toEqual([]);
      for (const step of report.retention) steps[step.action] += 1;
      for (const instance of [ledger, flex]) {
        const actual = await onDiskAt(instance.name);
        expect({ at: iso(t), instance: instance.friendlyName, ...actual }).toEqual({
          at: iso(t),
          instance: instance.friendlyName,
          ...expectedAt(instance.name, t),
        });
        for (const type of ["VaultStore", "ArchiveStore"] as const) {
          for (const key of actual[type]) seenTags[type].add(key.split(" ")[1] ?? "");
        }
      }
    }

    // Assert: every occurrence ran once, on time, and the year exercised every lifecycle
    for (const instance of [ledger, flex]) {
      const jobs = await scheduledJobs(provider, instance.name);
      const scheduled = (predicted.get(instance.name) as PolicySimulation).backups.filter(
        (b) => !b.adhoc && b.at <= (ticks[ticks.length - 1] as number),
      );
      expect(jobs.map((j) => j.status)).toEqual(scheduled.map(() => "Completed"));
      expect(jobs.map((j) => j.retentionTag)).toEqual(scheduled.map((b) => b.tag));
    }
    expect(log.filter((line) => line.includes("missed"))).toEqual([]);
    expect([...seenTags.VaultStore].sort()).toEqual(["Default", "Monthly", "Weekly", "Yearly"]);
    expect([...seenTags.ArchiveStore].sort()).toEqual(["Monthly", "Weekly", "Yearly"]);
    expect(steps.copyToArchive).toBeGreaterThan(20);
    expect(steps.deleteFromVault).toBeGreaterThan(100);
    expect(steps.deleteFromArchive).toBeGreaterThan(20);
  }, 240_000);

  it("after three weeks without a tick runs one catch-up backup for the newest occurrence, and a restarted scheduler continues without repeating it", async () => {
    // Arrange: protected on Friday 2 January 2026; the first Sunday's backup runs on time
    clock = Date.parse("2026-01-02T09:00:00Z");
    const stateDir = await newStateDir();
    let provider = await openProvider(stateDir);
    const vaultId = provider.backup.vaultId(VAULT);
    const ledger = await protectLedger(provider);
    const log: string[] = [];
    let scheduler = new LocalScheduler(provider, { log: (line) => log.push(line) });
    clock = Date.parse("2026-01-04T07:00:00Z");
    await scheduler.tick(new Date(clock));

    // Act: nothing ticks until Thursday 5 February, 12:00
    clock = Date.parse("2026-02-05T12:00:00Z");
    const catchUp = await scheduler.tick(new Date(clock));
    const again = await scheduler.tick(new Date(clock));

    // Assert: one backup, for Wednesday 4 February 18:00; eight occurrences reported missed. It is
    // the first real backup of February (Sunday 1 February was missed), so it is kept as Monthly.
    expect(catchUp.backups).toEqual([
      expect.objectContaining({
        occurrence: "2026-02-04T18:00:00.000Z",
        status: "Completed",
        retentionTag: "Monthly",
      }),
    ]);
    expect(catchUp.missed).toEqual([
      expect.objectContaining({
        instanceName: ledger.name,
        occurrences: [
          "2026-01-07T18:00:00.000Z",
          "2026-01-11T06:30:00.000Z",
          "2026-01-14T18:00:00.000Z",
          "2026-01-18T06:30:00.000Z",
          "2026-01-21T18:00:00.000Z",
          "2026-01-25T06:30:00.000Z",
          "2026-01-28T18:00:00.000Z",
          "2026-02-01T06:30:00.000Z",
        ],
      }),
    ]);
    expect(log).toEqual([expect.stringMatching(/missed 8 scheduled backup\(s\)/)]);
    expect(again.backups).toEqual([]);
    expect((await scheduledJobs(provider, ledger.name)).map((j) => j.retentionTag)).toEqual([
      "Yearly",
      "Monthly",
    ]);

    // Act: the process restarts; the new scheduler ticks at the same instant, then on Sunday
    provider = await openProvider(stateDir);
    scheduler = new LocalScheduler(provider, { log: (line) => log.push(line) });
    const afterRestart = await scheduler.tick(new Date(clock));
    clock = Date.parse("2026-02-08T06:30:00Z");
    const sunday = await scheduler.tick(new Date(clock));

    // Assert: nothing repeated; Sunday's backup is the first of its week
    expect(afterRestart.backups).toEqual([]);
    expect(sunday.backups).toEqual([
      expect.objectContaining({ occurrence: "2026-02-08T06:30:00.000Z", retentionTag: "Weekly" }),
    ]);
    expect((await scheduledJobs(provider, ledger.name)).map((j) => j.retentionTag)).toEqual([
      "Yearly",
      "Monthly",
      "Weekly",
    ]);

    // Act: the catch-up point's lifecycle counts from its occurrence (Monthly: 3 months, then archive)
    const catchUpPoint = catchUp.backups[0]?.recoveryPointId;
    const storesOf = async () =>
      (await provider.backup.listRecoveryPoints(vaultId, ledger.name))
        .find((p) => p.recoveryPointId === catchUpPoint)
        ?.dataStores.map((d) => d.type);
    clock = Date.parse("2026-05-04T17:59:59.999Z");
    await scheduler.tick(new Date(clock));
    const justBefore = await storesOf();
    clock = Date.parse("2026-05-04T18:00:00.000Z");
    await scheduler.tick(new Date(clock));
    const atExpiry = await storesOf();

    // Assert
    expect(justBefore).toEqual(["VaultStore"]);
    expect(atExpiry).toEqual(["ArchiveStore"]);
  });

  it("does not retry a failed scheduled backup, and the next successful one of the month is kept as Monthly", async () => {
    // Arrange: protected on Friday 2 January 2026; the first Sunday's backup runs
    clock = Date.parse("2026-01-02T09:00:00Z");
    const stateDir = await newStateDir();
    const provider = await openProvider(stateDir);
    const ledger = await protectLedger(provider);
    const log: string[] = [];
    const scheduler = new LocalScheduler(provider, { log: (line) => log.push(line) });
    clock = Date.parse("2026-01-04T06:30:00Z");
    await scheduler.tick(new Date(clock));
    const wrong = new URL(pgFixture.cluster.connectionUrl("ledger"));
    wrong.password = "not-the-password";
    await provider.secrets.setSecret("db-ledger", wrong.toString());

    // Act: Sunday 1 February fails; the password is fixed; ticks follow until Wednesday's backup
    clock = Date.parse("2026-02-01T06:30:00Z");
    const failed = await scheduler.tick(new Date(clock));
    await provider.secrets.setSecret("db-ledger", pgFixture.cluster.connectionUrl("ledger"));
    clock = Date.parse("2026-02-02T06:30:00Z");
    const nextDay = await scheduler.tick(new Date(clock));
    clock = Date.parse("2026-02-04T18:00:00Z");
    const wednesday = await scheduler.tick(new Date(clock));

    // Assert
    expect(failed.backups).toEqual([
      expect.objectContaining({
        occurrence: "2026-02-01T06:30:00.000Z",
        status: "Failed",
        retentionTag: "Monthly",
      }),
    ]);
    expect(log.join("\n")).toContain("MISSING_DB_PERMISSIONS");
    expect(nextDay.backups).toEqual([]);
    expect(wednesday.backups).toEqual([
      expect.objectContaining({ status: "Completed", retentionTag: "Monthly" }),
    ]);
    expect(
      (await scheduledJobs(provider, ledger.name)).map((j) => `${j.status} ${j.retentionTag}`),
    ).toEqual(["Completed Yearly", "Failed Monthly", "Completed Monthly"]);
  });

  it("runs a due backup once when the timer trigger's ticks overlap", async () => {
    // Arrange
    clock = Date.parse("2026-01-02T09:00:00Z");
    const stateDir = await newStateDir();
    const provider = await openProvider(stateDir);
    const ledger = await protectLedger(provider);
    clock = Date.parse("2026-01-04T06:31:00Z");

    // Act: a second tick starts while the first one's backup runs
    const [first, second] = await Promise.all([
      runLocalScheduleTick(provider, new Date(clock)),
      runLocalScheduleTick(provider, new Date(clock)),
    ]);

    // Assert
    expect([...first.backups, ...second.backups]).toEqual([
      expect.objectContaining({ occurrence: "2026-01-04T06:30:00.000Z", status: "Completed" }),
    ]);
    expect(await scheduledJobs(provider, ledger.name)).toHaveLength(1);
  });

  it("runs no scheduled backup for an instance whose protection was stopped, and keeps its recovery points", async () => {
    // Arrange
    clock = Date.parse("2026-01-02T09:00:00Z");
    const stateDir = await newStateDir();
    const provider = await openProvider(stateDir);
    const vaultId = provider.backup.vaultId(VAULT);
    const ledger = await protectLedger(provider);
    const scheduler = new LocalScheduler(provider, { log: () => undefined });
    clock = Date.parse("2026-01-04T06:30:00Z");
    await scheduler.tick(new Date(clock));
    await provider.backup.stopProtection(vaultId, ledger.name);

    // Act: a year later
    clock = Date.parse("2027-01-04T06:30:00Z");
    const report = await scheduler.tick(new Date(clock));

    // Assert
    expect(report.backups).toEqual([]);
    expect(await scheduledJobs(provider, ledger.name)).toHaveLength(1);
    expect(await provider.backup.listRecoveryPoints(vaultId, ledger.name)).toHaveLength(1);
  });
});
