import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BackupPolicy } from "../../../src/domain/policy/types.js";
import { formatDatabaseId, LOCAL_SCOPE } from "../../../src/domain/protection/ids.js";
import {
  backupInstanceNameFor,
  DATABASE_DATASOURCE_TYPE,
  datasourceTargetOf,
} from "../../../src/domain/protection/naming.js";
import type { RecoveryPoint } from "../../../src/domain/protection/types.js";
import { createLocalProvider, type LocalProvider } from "../../../src/providers/local/index.js";
import {
  corruptRecoveryPointEvent,
  LocalScheduler,
} from "../../../src/providers/local/scheduler.js";
import { VaultFolder } from "../../../src/providers/local/vaultStore.js";
import { backupNow, instanceSpec } from "../../support/localProvider.js";
import { usePostgresCluster } from "../../support/postgres.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const VAULT = "vault1";

const vaultStore = { dataStoreType: "VaultStore", objectType: "DataStoreInfoBase" };
const archiveStore = { dataStoreType: "ArchiveStore", objectType: "DataStoreInfoBase" };

/**
 * Every point is copied to ArchiveStore at once and leaves VaultStore after a day; the schedule's
 * first occurrence lies beyond the test, so only ad-hoc points take part.
 */
const archiveAtOncePolicy: BackupPolicy = {
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
        schedule: { timeZone: "UTC", repeatingTimeIntervals: ["R/2026-06-07T06:30:00+00:00/P1W"] },
        taggingCriteria: [
          { isDefault: true, taggingPriority: 99, tagInfo: { tagName: "Default" } },
        ],
      },
    },
    {
      name: "Default",
      objectType: "AzureRetentionRule",
      isDefault: true,
      lifecycles: [
        {
          deleteAfter: { objectType: "AbsoluteDeleteOption", duration: "P1D" },
          sourceDataStore: vaultStore,
          targetDataStoreCopySettings: [
            { copyAfter: { objectType: "ImmediateCopyOption" }, dataStore: archiveStore },
          ],
        },
        {
          deleteAfter: { objectType: "AbsoluteDeleteOption", duration: "P1M" },
          sourceDataStore: archiveStore,
        },
      ],
    },
  ],
};

describe("local scheduler: a corrupt recovery point in the retention lifecycle", () => {
  const pgFixture = usePostgresCluster();
  let stateDir: string;
  let provider: LocalProvider;
  let clock = Date.parse("2026-01-02T09:00:00Z");

  beforeAll(async () => {
    await pgFixture.query("postgres", "CREATE DATABASE ledger");
    await pgFixture.query(
      "ledger",
      "CREATE TABLE entries AS SELECT g AS id FROM generate_series(1, 20) g",
    );
    stateDir = await mkdtemp(path.join(tmpdir(), "pgprotect-schedule-corrupt-"));
    const cluster = pgFixture.cluster;
    provider = await createLocalProvider({
      stateDir,
      binDir: cluster.binDir,
      servers: [{ name: "local", connectionString: cluster.connectionUrl() }],
      now: () => new Date(clock),
    });
  });

  afterAll(async () => {
    await provider?.backup.drain();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it("reports a corrupt point once, and the instance's other points are still archived and deleted on time", async () => {
    // Arrange: two ad-hoc points; the older one's dump has a byte flipped
    const vaultId = provider.backup.vaultId(VAULT);
    const policy = await provider.backup.createPolicy(
      vaultId,
      "ArchiveAtOnce",
      archiveAtOncePolicy,
    );
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
    const instance = await provider.backup.createBackupInstance(
      vaultId,
      backupInstanceNameFor(datasourceTargetOf(datasourceId), randomUUID()),
      instanceSpec(datasourceId, policy.id ?? "", secretUri),
    );
    const corruptJob = await backupNow(provider, vaultId, instance.name);
    clock += 60_000;
    const intactJob = await backupNow(provider, vaultId, instance.name);
    const corruptId = String(corruptJob.recoveryPointId);
    const intactId = String(intactJob.recoveryPointId);
    const points = await provider.backup.listRecoveryPoints(vaultId, instance.name);
    const corruptPoint = points.find((p) => p.recoveryPointId === corruptId) as RecoveryPoint;
    const dump = path.join(
      VaultFolder.of(stateDir, VAULT).recoveryPointFolder("VaultStore", instance.name, corruptId),
      corruptPoint.files[0]?.fileName ?? "",
    );
    const bytes = await readFile(dump);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0x01;
    await writeFile(dump, bytes);
    const lines: string[] = [];
    const scheduler = new LocalScheduler(provider, { log: (line) => lines.push(line) });
    const stores = async () =>
      Object.fromEntries(
        (await provider.backup.listRecoveryPoints(vaultId, instance.name)).map((p) => [
          p.recoveryPointId,
          p.dataStores.map((d) => d.type),
        ]),
      );

    // Act
    const first = await scheduler.tick(new Date(clock + HOUR));
    const afterFirst = await stores();
    const second = await scheduler.tick(new Date(clock + 2 * HOUR));
    const expired = await scheduler.tick(new Date(clock + 2 * DAY));
    const afterExpiry = await stores();

    // Assert
    expect(first.errors).toEqual([]);
    expect(first.corruptRecoveryPoints).toEqual([
      expect.objectContaining({
        instanceName: instance.name,
        recoveryPointId: corruptId,
        action: "copyToArchive",
        code: "RECOVERY_POINT_CORRUPT",
      }),
    ]);
    expect(first.retention).toEqual([
      expect.objectContaining({ recoveryPointId: intactId, action: "copyToArchive" }),
    ]);
    expect(afterFirst).toEqual({
      [corruptId]: ["VaultStore"],
      [intactId]: ["VaultStore", "ArchiveStore"],
    });
    expect(second.corruptRecoveryPoints).toEqual([]);
    expect(second.errors).toEqual([]);
    expect(expired.corruptRecoveryPoints).toEqual([]);
    expect(expired.retention).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ recoveryPointId: corruptId, action: "deleteFromVault" }),
        expect.objectContaining({ recoveryPointId: intactId, action: "deleteFromVault" }),
      ]),
    );
    expect(afterExpiry).toEqual({ [intactId]: ["ArchiveStore"] });
    const reported = lines.filter((line) => line.startsWith(corruptRecoveryPointEvent));
    expect(reported).toHaveLength(1);
    expect(reported[0]).toContain(`recoveryPoint='${corruptId}'`);
  });
});
