import { spawn } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  formatDatabaseId,
  formatServerId,
  LOCAL_SCOPE,
} from "../../../src/domain/protection/ids.js";
import {
  backupInstanceNameFor,
  datasourceTargetOf,
  FLEXIBLE_SERVER_DATASOURCE_TYPE,
} from "../../../src/domain/protection/naming.js";
import { WEEKLY_BACKUP_LIMIT_CODE } from "../../../src/domain/protection/rules.js";
import { LocalBackupService } from "../../../src/providers/local/localBackupService.js";
import { VaultFolder } from "../../../src/providers/local/vaultStore.js";
import { usePostgresCluster } from "../../support/postgres.js";
import {
  backupNow,
  createTestProvider,
  defaultPostgresPolicy,
  instanceSpec,
  protectDatabase,
} from "../../support/localProvider.js";

/** Every file under a folder, relative to it (empty when the folder is missing). */
async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(folder, path.join(e.parentPath, e.name)))
    .sort();
}

/** Files of the vault outside its metadata: recovery points, staging, trash. */
async function dataFilesOf(stateDir: string): Promise<string[]> {
  return (await filesUnder(VaultFolder.of(stateDir, "vault1").root)).filter(
    (f) => !f.startsWith("meta/"),
  );
}

describe("local provider: failures leave the vault consistent", () => {
  const pgFixture = usePostgresCluster();
  const disposers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    await pgFixture.query("postgres", "CREATE DATABASE app");
    await pgFixture.query(
      "app",
      "CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 20000) g",
    );
  });

  afterAll(async () => {
    for (const dispose of disposers) await dispose();
  });

  async function setup(extra: Parameters<typeof createTestProvider>[1] = {}) {
    const env = await createTestProvider(pgFixture.cluster, extra);
    disposers.push(env.dispose);
    return env;
  }

  it("fails the job with UserErrorMissingDBPermissions and keeps nothing when the secret's password is wrong", async () => {
    // Arrange
    const env = await setup();
    const { instance, secretUri } = await protectDatabase(
      env.provider,
      env.vaultId,
      pgFixture.cluster,
      "app",
    );
    const wrong = new URL(pgFixture.cluster.connectionUrl("app"));
    wrong.password = "not-the-password";
    await env.provider.secrets.setSecret(secretUri.split("/").pop()!, wrong.toString());

    // Act
    const job = await backupNow(env.provider, env.vaultId, instance.name);

    // Assert
    expect(job.status).toBe("Failed");
    expect(job.errorDetails?.[0]?.code).toBe("MISSING_DB_PERMISSIONS");
    expect(job.errorDetails?.[0]?.message).not.toContain("not-the-password");
    expect(await env.provider.backup.listRecoveryPoints(env.vaultId, instance.name)).toEqual([]);
    expect(await dataFilesOf(env.stateDir)).toEqual([]);
  });

  it("refuses to protect a database whose secret has a wrong password", async () => {
    const env = await setup();
    const policy = await env.provider.backup.createPolicy(
      env.vaultId,
      "OssPolicy1",
      defaultPostgresPolicy(),
    );
    const wrong = new URL(pgFixture.cluster.connectionUrl("app"));
    wrong.password = "nope";
    const secretUri = await env.provider.secrets.setSecret("wrong", wrong.toString());
    const datasourceId = formatDatabaseId({
      ...LOCAL_SCOPE,
      kind: "servers",
      serverName: "local",
      databaseName: "app",
    });

    await expect(
      env.provider.backup.validateForBackup(
        env.vaultId,
        instanceSpec(datasourceId, policy.id!, secretUri),
      ),
    ).rejects.toMatchObject({
      code: "MISSING_DB_PERMISSIONS",
    });
    expect(await env.provider.backup.listBackupInstances(env.vaultId)).toEqual([]);
  });

  it("fails the job and leaves no partial file when pg_dump is killed mid-way", async () => {
    // Arrange: kill each pg_dump as soon as it starts
    const env = await setup({ onDumpStarted: (_jobId, pid) => process.kill(pid, "SIGKILL") });
    const { instance } = await protectDatabase(env.provider, env.vaultId, pgFixture.cluster, "app");

    // Act
    const job = await backupNow(env.provider, env.vaultId, instance.name);

    // Assert
    expect(job.status).toBe("Failed");
    expect(job.errorDetails?.[0]?.code).toBe("DATASOURCE_UNREACHABLE");
    expect(job.errorDetails?.[0]?.message).toMatch(/SIGKILL|killed/);
    expect(await env.provider.backup.listRecoveryPoints(env.vaultId, instance.name)).toEqual([]);
    expect(await dataFilesOf(env.stateDir)).toEqual([]);
  });

  it("fails with UserErrorVaultStorageFull when the vault's capacity is reached, keeping earlier points intact", async () => {
    // Arrange: room for one small backup, not two
    const capacity = 700_000;
    const env = await setup({ vaultCapacityBytes: capacity });
    const { instance } = await protectDatabase(env.provider, env.vaultId, pgFixture.cluster, "app");
    const first = await backupNow(env.provider, env.vaultId, instance.name);
    const filesAfterFirst = await dataFilesOf(env.stateDir);

    // Act
    const second = await backupNow(env.provider, env.vaultId, instance.name);

    // Assert
    expect(first.status).toBe("Completed");
    // The test means something only if one dump fits and two do not.
    expect(first.dataTransferredInBytes! * 2).toBeGreaterThan(capacity);
    expect(second.status).toBe("Failed");
    expect(second.errorDetails?.[0]?.code).toBe("VAULT_STORAGE_FULL");
    const points = await env.provider.backup.listRecoveryPoints(env.vaultId, instance.name);
    expect(points.map((p) => p.recoveryPointId)).toEqual([first.recoveryPointId]);
    expect(await dataFilesOf(env.stateDir)).toEqual(filesAfterFirst);
  });

  it("fails the job with UserErrorDatasourceUnreachable when the database was dropped after protection", async () => {
    const env = await setup();
    await pgFixture.query("postgres", "CREATE DATABASE doomed");
    const { instance } = await protectDatabase(
      env.provider,
      env.vaultId,
      pgFixture.cluster,
      "doomed",
    );
    await pgFixture.query("postgres", "DROP DATABASE doomed");

    const job = await backupNow(env.provider, env.vaultId, instance.name);

    expect(job.status).toBe("Failed");
    expect(job.errorDetails?.[0]?.code).toBe("DATASOURCE_UNREACHABLE");
    expect(job.errorDetails?.[0]?.message).toContain('"doomed" does not exist');
    expect(await dataFilesOf(env.stateDir)).toEqual([]);
  });

  it("fails the job and leaves no partial file when the database is dropped while pg_dump reads it", async () => {
    // Arrange: a table lock holds pg_dump mid-way (connected, inside its snapshot) until the drop
    const env = await setup();
    await pgFixture.query("postgres", "CREATE DATABASE dropped_midway");
    await pgFixture.query(
      "dropped_midway",
      "CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 1000) g",
    );
    const { instance } = await protectDatabase(
      env.provider,
      env.vaultId,
      pgFixture.cluster,
      "dropped_midway",
    );
    const { default: pg } = await import("pg");
    const locker = new pg.Client({
      connectionString: pgFixture.cluster.connectionUrl("dropped_midway"),
    });
    locker.on("error", () => undefined);
    await locker.connect();
    await locker.query("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE");
    const { jobId } = await env.provider.backup.triggerBackup(env.vaultId, instance.name, {
      ruleName: "BackupWeekly",
    });
    let dumpWaiting = false;
    for (let waited = 0; waited < 300 && !dumpWaiting; waited += 1) {
      const blocked = await pgFixture.query(
        "postgres",
        "SELECT 1 FROM pg_stat_activity WHERE datname = 'dropped_midway' AND application_name = 'pg_dump' AND wait_event_type = 'Lock'",
      );
      dumpWaiting = blocked.length > 0;
      if (!dumpWaiting) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(dumpWaiting).toBe(true);

    // Act
    await pgFixture.query("postgres", "DROP DATABASE dropped_midway WITH (FORCE)");
    const job = await env.provider.backup.waitForJob(env.vaultId, jobId);
    await locker.end().catch(() => undefined);

    // Assert
    expect(job.status).toBe("Failed");
    expect(job.errorDetails?.[0]?.code).toBe("DATASOURCE_UNREACHABLE");
    expect(await env.provider.backup.listRecoveryPoints(env.vaultId, instance.name)).toEqual([]);
    expect(await dataFilesOf(env.stateDir)).toEqual([]);
  });

  it("marks a job recorded by an earlier version Failed with UserErrorJobInterrupted and removes its staging files when its process died", async () => {
    // Arrange: a job record (without the work it did, as earlier versions wrote them) and a
    // half-written dump left by a process that no longer exists
    const env = await setup();
    const { instance } = await protectDatabase(env.provider, env.vaultId, pgFixture.cluster, "app");
    const done = await backupNow(env.provider, env.vaultId, instance.name);
    const deadPid = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ["-e", ""]);
      child.on("exit", () => resolve(child.pid!));
    });
    const vault = VaultFolder.of(env.stateDir, "vault1");
    const orphanName = randomUUID();
    const { runner: _ignored, ...template } = { ...done, runner: undefined };
    await vault.writeRecord("backupJobs", orphanName, {
      ...template,
      id: done.id.replace(done.name, orphanName),
      name: orphanName,
      status: "InProgress",
      endTime: undefined,
      duration: undefined,
      recoveryPointId: undefined,
      runner: { pid: deadPid, instance: "previous-process" },
    });
    await mkdir(vault.stagingFolder(orphanName), { recursive: true });
    await writeFile(path.join(vault.stagingFolder(orphanName), "01-app.dump"), "PGDMP partial");

    // Act: the provider starts again
    const restarted = new LocalBackupService({
      stateDir: env.stateDir,
      secrets: env.provider.secrets,
      directory: env.provider.directory,
      binDir: pgFixture.cluster.binDir,
    });
    const orphan = await restarted.getJob(env.vaultId, orphanName);

    // Assert
    expect(orphan.status).toBe("Failed");
    expect(orphan.errorDetails?.[0]?.code).toBe("JOB_INTERRUPTED");
    expect(orphan.endTime).toBeDefined();
    expect(await restarted.listJobs(env.vaultId, { status: ["InProgress"] })).toEqual([]);
    expect((await dataFilesOf(env.stateDir)).filter((f) => !f.startsWith("VaultStore/"))).toEqual(
      [],
    );
    expect(
      (await restarted.listRecoveryPoints(env.vaultId, instance.name)).map(
        (p) => p.recoveryPointId,
      ),
    ).toEqual([done.recoveryPointId]);
  });
});

describe("local provider: service rules", () => {
  const pgFixture = usePostgresCluster();
  let env: Awaited<ReturnType<typeof createTestProvider>>;

  beforeAll(async () => {
    await pgFixture.query("postgres", "CREATE DATABASE crm");
    await pgFixture.query("crm", "CREATE TABLE c AS SELECT g AS id FROM generate_series(1, 100) g");
    // A fixed Tuesday: both backups fall in the same ISO week.
    let tick = Date.parse("2026-11-24T10:00:00Z");
    env = await createTestProvider(pgFixture.cluster, { now: () => new Date((tick += 60_000)) });
  });

  afterAll(async () => {
    await env?.dispose();
  });

  it("stores policies as the service does: validated, tag ids echoed, never modified in place", async () => {
    const policy = defaultPostgresPolicy();
    const created = await env.provider.backup.createPolicy(env.vaultId, "Weekly3M", policy);
    const again = await env.provider.backup.createPolicy(env.vaultId, "Weekly3M", policy);
    const changed = structuredClone(policy);
    const defaultRule = changed.policyRules.find((r) => r.name === "Default");
    if (defaultRule?.objectType === "AzureRetentionRule")
      defaultRule.lifecycles[0]!.deleteAfter.duration = "P6M";
    const invalid = { ...policy, datasourceTypes: [] };

    expect(created.id).toBe(`${env.vaultId}/backupPolicies/Weekly3M`);
    expect(JSON.stringify(created.properties)).toContain('"id":"Default_"');
    expect(again).toEqual(created);
    await expect(
      env.provider.backup.createPolicy(env.vaultId, "Weekly3M", changed),
    ).rejects.toMatchObject({
      code: "POLICY_UPDATE_NOT_SUPPORTED",
    });
    await expect(
      env.provider.backup.createPolicy(env.vaultId, "Broken", invalid),
    ).rejects.toMatchObject({ code: "POLICY_INVALID" });
    expect((await env.provider.backup.listPolicies(env.vaultId)).map((p) => p.name)).toEqual([
      "Weekly3M",
    ]);
  });

  it("runs one backup a week of a Flexible Server instance and fails the second with the weekly limit", async () => {
    // Arrange
    const policy = await env.provider.backup.createPolicy(
      env.vaultId,
      "OssFlexiblePolicy1",
      defaultPostgresPolicy(FLEXIBLE_SERVER_DATASOURCE_TYPE),
    );
    const serverId = formatServerId({
      ...LOCAL_SCOPE,
      kind: "flexibleServers",
      serverName: "flex",
    });
    const name = backupInstanceNameFor(datasourceTargetOf(serverId), randomUUID());
    const instance = await env.provider.backup.createBackupInstance(
      env.vaultId,
      name,
      instanceSpec(serverId, policy.id!),
    );

    // Act
    const first = await backupNow(env.provider, env.vaultId, instance.name);
    const second = await backupNow(env.provider, env.vaultId, instance.name);

    // Assert
    expect(name).toMatch(/^flex-flex-[0-9a-f-]{36}$/);
    expect(first.status).toBe("Completed");
    expect(second.status).toBe("Failed");
    expect(second.errorDetails?.[0]?.code).toBe(WEEKLY_BACKUP_LIMIT_CODE);
    const [point, ...others] = await env.provider.backup.listRecoveryPoints(
      env.vaultId,
      instance.name,
    );
    expect(others).toEqual([]);
    expect(point?.files.map((f) => f.databaseName)).toEqual(
      expect.arrayContaining(["crm", "postgres"]),
    );
  });

  it("restores a Flexible Server recovery point as files only", async () => {
    const [instance] = (await env.provider.backup.listBackupInstances(env.vaultId)).filter(
      (i) => i.dataSourceInfo.datasourceType === FLEXIBLE_SERVER_DATASOURCE_TYPE,
    );
    const [point] = await env.provider.backup.listRecoveryPoints(env.vaultId, instance!.name);

    await expect(
      env.provider.backup.triggerRestore(env.vaultId, instance!.name, {
        recoveryPointId: point!.recoveryPointId,
        target: {
          kind: "database",
          targetDatabaseId: formatDatabaseId({
            ...LOCAL_SCOPE,
            kind: "flexibleServers",
            serverName: "flex",
            databaseName: "crm2",
          }),
        },
      }),
    ).rejects.toMatchObject({ code: "RESTORE_TARGET_INVALID" });
  });

  it("refuses to protect a datasource twice, naming the existing backup instance", async () => {
    const first = await protectDatabase(env.provider, env.vaultId, pgFixture.cluster, "crm");
    const datasourceId = first.instance.dataSourceInfo.resourceId;

    const attempt = env.provider.backup.createBackupInstance(
      env.vaultId,
      backupInstanceNameFor(datasourceTargetOf(datasourceId), randomUUID()),
      instanceSpec(datasourceId, first.policyId, first.secretUri),
    );

    await expect(attempt).rejects.toMatchObject({
      code: "DATASOURCE_ALREADY_PROTECTED",
      recommendedAction: expect.stringContaining(first.instance.name),
    });
    // Azure's parts of an id ignore case; the PostgreSQL database name does not.
    const armPartsUpperCased = datasourceId.replace(/^.*\/databases\//, (armPart) =>
      armPart.toUpperCase(),
    );
    expect(
      await env.provider.backup.listBackupInstancesForDatasource(armPartsUpperCased),
    ).toHaveLength(1);
  });

  it("names both the rule and the tag when a retention tag is passed as the rule name", async () => {
    const [instance] = await env.provider.backup.listBackupInstancesForDatasource(
      formatDatabaseId({
        ...LOCAL_SCOPE,
        kind: "servers",
        serverName: "local",
        databaseName: "crm",
      }),
    );

    const attempt = env.provider.backup.triggerBackup(env.vaultId, instance!.name, {
      ruleName: "Monthly",
    });

    await expect(attempt).rejects.toMatchObject({
      code: "ADHOC_RULE_NOT_FOUND",
      message: expect.stringContaining("retentionTagOverride"),
    });
    await expect(
      env.provider.backup.triggerBackup(env.vaultId, instance!.name, {
        ruleName: "BackupWeekly",
        retentionTagOverride: "Yearly",
      }),
    ).rejects.toMatchObject({
      code: "ADHOC_TAG_NOT_FOUND",
    });
    expect(
      await env.provider.backup.listJobs(env.vaultId, { backupInstanceName: instance!.name }),
    ).toEqual([]);
  });

  it("gives a recovery point the overriding retention tag and lists jobs after a watermark", async () => {
    const [instance] = await env.provider.backup.listBackupInstancesForDatasource(
      formatDatabaseId({
        ...LOCAL_SCOPE,
        kind: "servers",
        serverName: "local",
        databaseName: "crm",
      }),
    );
    const watermark = new Date(Date.parse("2026-11-24T10:00:00Z") + 60 * 60_000).toISOString();
    const before = await env.provider.backup.listJobs(env.vaultId, { since: watermark });

    const job = await backupNow(env.provider, env.vaultId, instance!.name, "Monthly");

    expect(before).toEqual([]);
    expect(job.status).toBe("Completed");
    const [point] = await env.provider.backup.listRecoveryPoints(env.vaultId, instance!.name);
    expect(point).toMatchObject({ retentionTagName: "Monthly", ruleName: "BackupWeekly" });
    expect(
      (
        await env.provider.backup.listJobs(env.vaultId, {
          operation: ["OnDemandBackup"],
          status: ["Completed"],
          datasourceId: instance!.dataSourceInfo.resourceId,
        })
      ).map((j) => j.name),
    ).toEqual([job.name]);
  });

  it("refuses backups after protection stopped and keeps the recovery points", async () => {
    await pgFixture.query("postgres", "CREATE DATABASE retired");
    const { instance } = await protectDatabase(
      env.provider,
      env.vaultId,
      pgFixture.cluster,
      "retired",
    );
    const done = await backupNow(env.provider, env.vaultId, instance.name);

    const stopped = await env.provider.backup.stopProtection(env.vaultId, instance.name);

    expect(stopped.protectionStatus).toBe("ProtectionStopped");
    await expect(
      env.provider.backup.triggerBackup(env.vaultId, instance.name, { ruleName: "BackupWeekly" }),
    ).rejects.toMatchObject({ code: "PROTECTION_NOT_CONFIGURED" });
    expect(
      (await env.provider.backup.listRecoveryPoints(env.vaultId, instance.name)).map(
        (p) => p.jobId,
      ),
    ).toEqual([done.id]);
  });

  it("records a scheduler's backup as a ScheduledBackup job, and rejects path-like instance names", async () => {
    const [instance] = await env.provider.backup.listBackupInstancesForDatasource(
      formatDatabaseId({
        ...LOCAL_SCOPE,
        kind: "servers",
        serverName: "local",
        databaseName: "crm",
      }),
    );

    const { jobId } = await env.provider.backup.runBackup(env.vaultId, instance!.name, {
      ruleName: "BackupWeekly",
      retentionTag: "Default",
      trigger: "Scheduled",
    });
    const job = await env.provider.backup.waitForJob(env.vaultId, jobId);

    expect(job).toMatchObject({
      status: "Completed",
      operation: "ScheduledBackup",
      isUserTriggered: false,
    });
    await expect(
      env.provider.backup.getBackupInstance(env.vaultId, "../escape"),
    ).rejects.toMatchObject({
      code: "INVALID_RESOURCE_NAME",
      httpStatus: 400,
    });
  });

  it("copies a recovery point to ArchiveStore and deletes it store by store", async () => {
    const [instance] = await env.provider.backup.listBackupInstancesForDatasource(
      formatDatabaseId({
        ...LOCAL_SCOPE,
        kind: "servers",
        serverName: "local",
        databaseName: "crm",
      }),
    );
    const [point] = await env.provider.backup.listRecoveryPoints(env.vaultId, instance!.name);

    await env.provider.backup.copyRecoveryPoint(
      env.vaultId,
      instance!.name,
      point!.recoveryPointId,
      "ArchiveStore",
    );
    const copied = await env.provider.backup.listRecoveryPoints(env.vaultId, instance!.name);
    await env.provider.backup.deleteRecoveryPoint(
      env.vaultId,
      instance!.name,
      point!.recoveryPointId,
      "VaultStore",
    );
    const archivedOnly = await env.provider.backup.listRecoveryPoints(env.vaultId, instance!.name);
    const archivedFile = await readFile(
      path.join(
        VaultFolder.of(env.stateDir, "vault1").recoveryPointFolder(
          "ArchiveStore",
          instance!.name,
          point!.recoveryPointId,
        ),
        point!.files[0]!.fileName,
      ),
    );
    await env.provider.backup.deleteRecoveryPoint(
      env.vaultId,
      instance!.name,
      point!.recoveryPointId,
    );
    const after = await env.provider.backup.listRecoveryPoints(env.vaultId, instance!.name);
    const find = (points: typeof after) =>
      points.find((p) => p.recoveryPointId === point!.recoveryPointId);

    expect(find(copied)?.dataStores.map((d) => d.type)).toEqual(["VaultStore", "ArchiveStore"]);
    expect(find(archivedOnly)?.dataStores.map((d) => d.type)).toEqual(["ArchiveStore"]);
    expect(find(archivedOnly)?.files).toEqual(point!.files);
    expect(createHash("sha256").update(archivedFile).digest("hex")).toBe(point!.files[0]!.sha256);
    expect(find(after)).toBeUndefined();
    expect(after).toHaveLength(copied.length - 1);
  });
});
