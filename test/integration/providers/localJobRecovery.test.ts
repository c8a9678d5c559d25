import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatDatabaseId, LOCAL_SCOPE } from "../../../src/domain/protection/ids.js";
import type { BackupJob } from "../../../src/domain/protection/types.js";
import { libpqEnvironment } from "../../../src/domain/protection/connectionString.js";
import { parseConnectionString } from "../../../src/domain/protection/connectionString.js";
import {
  LocalBackupService,
  maxJobAttempts,
} from "../../../src/providers/local/localBackupService.js";
import { dumpDatabaseToFile } from "../../../src/providers/local/dumpFile.js";
import { programOf, serverMajorOf, stopStrayTool } from "../../../src/providers/local/processes.js";
import { VaultFolder } from "../../../src/providers/local/vaultStore.js";
import { poll } from "../../support/poll.js";
import { usePostgresCluster } from "../../support/postgres.js";
import { backupNow, createTestProvider, protectDatabase } from "../../support/localProvider.js";

type TestProvider = Awaited<ReturnType<typeof createTestProvider>>;

const pgFixture = usePostgresCluster();
const disposers: (() => Promise<void>)[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  await pgFixture.query("postgres", "CREATE DATABASE app");
  await pgFixture.query(
    "app",
    "CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 5000) g",
  );
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  for (const dispose of disposers) await dispose();
});

async function setup(): Promise<TestProvider> {
  const env = await createTestProvider(pgFixture.cluster);
  disposers.push(env.dispose);
  return env;
}

/** The same state folder served by a new process's service (the provider starting again). */
function restartedService(env: TestProvider): LocalBackupService {
  const service = new LocalBackupService({
    stateDir: env.stateDir,
    secrets: env.provider.secrets,
    directory: env.provider.directory,
    binDir: pgFixture.cluster.binDir,
  });
  disposers.push(() => service.drain());
  return service;
}

/** A pid no process has any more. */
async function deadPid(): Promise<number> {
  return new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ["-e", ""]);
    child.on("exit", () => resolve(child.pid!));
  });
}

/** Holds an ACCESS EXCLUSIVE lock on a table until `release`, so a pg_dump of it waits. */
async function lockTable(database: string, table: string): Promise<{ release(): Promise<void> }> {
  const locker = new pg.Client({ connectionString: pgFixture.cluster.connectionUrl(database) });
  locker.on("error", () => undefined);
  await locker.connect();
  await locker.query(`BEGIN; LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  return {
    async release() {
      await locker.query("COMMIT").catch(() => undefined);
      await locker.end().catch(() => undefined);
    },
  };
}

/** Pids of the pg_dump sessions waiting for a lock in a database. */
async function waitingDumps(database: string): Promise<number[]> {
  const rows = await pgFixture.query<{ pid: number }>(
    "postgres",
    "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'pg_dump' AND wait_event_type = 'Lock'",
    [database],
  );
  return rows.map((r) => r.pid);
}

/** A job record as a process that died mid-way leaves it. */
async function orphanJob(
  env: TestProvider,
  done: BackupJob,
  extra: Record<string, unknown>,
): Promise<string> {
  const name = randomUUID();
  const { endTime: _e, duration: _d, recoveryPointId: _r, ...template } = done;
  await VaultFolder.of(env.stateDir, "vault1").writeRecord("backupJobs", name, {
    ...template,
    id: done.id.replace(done.name, name),
    name,
    status: "InProgress",
    attempt: 1,
    runner: { pid: await deadPid(), instance: "previous-process" },
    work: { kind: "backup", dataStore: "VaultStore" },
    ...extra,
  });
  return name;
}

async function stagingEntries(stateDir: string): Promise<string[]> {
  return readdir(path.join(VaultFolder.of(stateDir, "vault1").root, ".staging")).catch(() => []);
}

describe("local provider: work cut off by a crash runs again", () => {
  it("runs a backup whose process died again as attempt 2, with one recovery point and no staging files", async () => {
    // Arrange: a job record and a half-written dump left by a process that no longer exists
    const env = await setup();
    const { instance } = await protectDatabase(env.provider, env.vaultId, pgFixture.cluster, "app");
    const done = await backupNow(env.provider, env.vaultId, instance.name);
    const orphan = await orphanJob(env, done, {});
    const vault = VaultFolder.of(env.stateDir, "vault1");
    await mkdir(vault.stagingFolder(orphan), { recursive: true });
    await writeFile(path.join(vault.stagingFolder(orphan), "01-app.dump"), "PGDMP partial");

    // Act: the provider starts again
    const restarted = restartedService(env);
    await restarted.recoverInterruptedJobs();
    const job = await restarted.waitForJob(env.vaultId, orphan);

    // Assert
    expect(job).toMatchObject({ status: "Completed", attempt: 2 });
    expect(job.interruptedAttempts).toEqual([
      expect.objectContaining({
        attempt: 1,
        reason: expect.stringContaining("the host stopped (a crash or a kill)"),
      }),
    ]);
    expect(job.interruptedAttempts?.[0]?.reason).toContain("staging files were removed");
    const points = await restarted.listRecoveryPoints(env.vaultId, instance.name);
    expect(points.map((p) => p.jobId).sort()).toEqual([done.id, job.id].sort());
    expect(await stagingEntries(env.stateDir)).toEqual([]);
    expect(job).not.toHaveProperty("runner");
    expect(job).not.toHaveProperty("work");
  });

  it("completes a backup whose recovery point was committed before the crash, without dumping again", async () => {
    // Arrange: the point of the job is in the vault, the job still says InProgress
    const env = await setup();
    const { instance } = await protectDatabase(env.provider, env.vaultId, pgFixture.cluster, "app");
    const done = await backupNow(env.provider, env.vaultId, instance.name);
    const vault = VaultFolder.of(env.stateDir, "vault1");
    await vault.writeRecord("backupJobs", done.name, {
      ...done,
      status: "InProgress",
      endTime: undefined,
      recoveryPointId: undefined,
      attempt: 1,
      runner: { pid: await deadPid(), instance: "previous-process" },
      work: { kind: "backup", dataStore: "VaultStore" },
    });

    // Act
    const restarted = restartedService(env);
    await restarted.recoverInterruptedJobs();
    const job = await restarted.waitForJob(env.vaultId, done.name);

    // Assert
    expect(job).toMatchObject({
      status: "Completed",
      recoveryPointId: done.recoveryPointId,
      attempt: 1,
    });
    expect(
      (await restarted.listRecoveryPoints(env.vaultId, instance.name)).map(
        (p) => p.recoveryPointId,
      ),
    ).toEqual([done.recoveryPointId]);
  });

  it("stops the pg_dump a dead process left waiting on a lock, then backs up again once the lock is gone", async () => {
    // Arrange: a real pg_dump, in its own process group, waiting for a table lock
    const env = await setup();
    const { instance } = await protectDatabase(env.provider, env.vaultId, pgFixture.cluster, "app");
    const done = await backupNow(env.provider, env.vaultId, instance.name);
    const lock = await lockTable("app", "t");
    const params = parseConnectionString(pgFixture.cluster.connectionUrl("app"));
    const stray = spawn(
      path.join(pgFixture.cluster.binDir, "pg_dump"),
      ["-Fc", "-f", "/dev/null"],
      {
        detached: true,
        stdio: "ignore",
        env: { ...process.env, ...libpqEnvironment(params, "app") },
      },
    );
    children.push(stray);
    const strayExited = new Promise((resolve) => stray.once("exit", resolve));
    await poll(
      () => waitingDumps("app"),
      (pids) => pids.length === 1,
    );
    const orphan = await orphanJob(env, done, { tool: { pid: stray.pid, program: "pg_dump" } });

    // Act
    const restarted = restartedService(env);
    await restarted.recoverInterruptedJobs();
    await strayExited;
    const waiting = await poll(
      () => waitingDumps("app"),
      (pids) => pids.length === 1,
    );
    await lock.release();
    const job = await restarted.waitForJob(env.vaultId, orphan);

    // Assert: the stray was stopped; the new attempt's own dump waited for the lock and completed
    expect(stray.signalCode).toBe("SIGKILL");
    expect(waiting).toHaveLength(1);
    expect(job).toMatchObject({ status: "Completed", attempt: 2 });
    expect(job.interruptedAttempts?.[0]?.reason).toContain(
      `its pg_dump (pid ${stray.pid}) was stopped`,
    );
  });

  it("leaves alone a recorded pid that now runs another program", async () => {
    // Arrange: the recorded tool pid belongs to an unrelated process
    const env = await setup();
    const { instance } = await protectDatabase(env.provider, env.vaultId, pgFixture.cluster, "app");
    const done = await backupNow(env.provider, env.vaultId, instance.name);
    const unrelated = spawn("sleep", ["30"], { stdio: "ignore" });
    children.push(unrelated);
    const orphan = await orphanJob(env, done, { tool: { pid: unrelated.pid, program: "pg_dump" } });

    // Act
    const restarted = restartedService(env);
    await restarted.recoverInterruptedJobs();
    const job = await restarted.waitForJob(env.vaultId, orphan);

    // Assert
    expect(await programOf(unrelated.pid!)).toBe("sleep");
    expect(job.status).toBe("Completed");
    unrelated.kill("SIGKILL");
  });

  it(`fails a job cut off ${maxJobAttempts} times with UserErrorJobInterrupted, naming each attempt`, async () => {
    const env = await setup();
    const { instance } = await protectDatabase(env.provider, env.vaultId, pgFixture.cluster, "app");
    const done = await backupNow(env.provider, env.vaultId, instance.name);
    const orphan = await orphanJob(env, done, {
      attempt: maxJobAttempts,
      interruptedAttempts: [1, 2].map((attempt) => ({
        attempt,
        startTime: done.startTime,
        interruptedAt: done.startTime,
        reason: "the host stopped (a crash or a kill)",
      })),
    });

    const restarted = restartedService(env);
    await restarted.recoverInterruptedJobs();
    const job = await restarted.getJob(env.vaultId, orphan);

    expect(job.status).toBe("Failed");
    expect(job.errorDetails?.[0]?.code).toBe("JOB_INTERRUPTED");
    expect(job.interruptedAttempts?.map((a) => a.attempt)).toEqual([1, 2, 3]);
    expect(await restarted.listRecoveryPoints(env.vaultId, instance.name)).toHaveLength(1);
  });

  it("drops the database an interrupted restore had begun to create, and restores it again", async () => {
    // Arrange: a restore job that had created its database, and a half-restored database
    const env = await setup();
    const { instance } = await protectDatabase(env.provider, env.vaultId, pgFixture.cluster, "app");
    const done = await backupNow(env.provider, env.vaultId, instance.name);
    const targetDatabaseId = formatDatabaseId({
      ...LOCAL_SCOPE,
      kind: "servers",
      serverName: "local",
      databaseName: "app_restored",
    });
    await pgFixture.query("postgres", "CREATE DATABASE app_restored");
    await pgFixture.query("app_restored", "CREATE TABLE t (id int, v text)");
    const orphan = await orphanJob(env, done, {
      operation: "Restore",
      operationCategory: "Restore",
      recoveryPointId: done.recoveryPointId,
      recoveryDestination: targetDatabaseId,
      work: {
        kind: "restoreToDatabase",
        store: "VaultStore",
        targetDatabaseId,
        creatingDatabase: true,
      },
    });

    // Act
    const restarted = restartedService(env);
    await restarted.recoverInterruptedJobs();
    const job = await restarted.waitForJob(env.vaultId, orphan);

    // Assert
    expect(job).toMatchObject({ status: "Completed", attempt: 2 });
    expect(job.interruptedAttempts?.[0]?.reason).toContain(
      "the database 'app_restored' it had begun to restore was dropped",
    );
    const rows = await pgFixture.query<{ n: string }>(
      "app_restored",
      "SELECT count(*) AS n FROM t",
    );
    expect(rows[0]?.n).toBe("5000");
    await pgFixture.query("postgres", "DROP DATABASE app_restored WITH (FORCE)");
  });

  it("never drops a database of the target's name that the interrupted restore did not create", async () => {
    // Arrange: the job was cut off before CREATE DATABASE; someone else's database has the name
    const env = await setup();
    const { instance } = await protectDatabase(env.provider, env.vaultId, pgFixture.cluster, "app");
    const done = await backupNow(env.provider, env.vaultId, instance.name);
    await pgFixture.query("postgres", "CREATE DATABASE someone_elses");
    const targetDatabaseId = formatDatabaseId({
      ...LOCAL_SCOPE,
      kind: "servers",
      serverName: "local",
      databaseName: "someone_elses",
    });
    const orphan = await orphanJob(env, done, {
      operation: "Restore",
      operationCategory: "Restore",
      recoveryPointId: done.recoveryPointId,
      recoveryDestination: targetDatabaseId,
      work: { kind: "restoreToDatabase", store: "VaultStore", targetDatabaseId },
    });

    const restarted = restartedService(env);
    await restarted.recoverInterruptedJobs();
    const job = await restarted.waitForJob(env.vaultId, orphan);

    expect(job.status).toBe("Failed");
    expect(job.errorDetails?.[0]?.code).toBe("RESTORE_TARGET_INVALID");
    expect(
      await pgFixture.query(
        "postgres",
        "SELECT 1 FROM pg_database WHERE datname = 'someone_elses'",
      ),
    ).toHaveLength(1);
  });
});

describe("local provider: a graceful stop", () => {
  it("waits its grace for a running backup, names it, stops it past the bound, and the next start completes it", async () => {
    // Arrange: a backup held by a table lock
    const env = await setup();
    await pgFixture.query("postgres", "CREATE DATABASE held");
    await pgFixture.query(
      "held",
      "CREATE TABLE big AS SELECT g AS id FROM generate_series(1, 100) g",
    );
    const { instance } = await protectDatabase(
      env.provider,
      env.vaultId,
      pgFixture.cluster,
      "held",
    );
    const lock = await lockTable("held", "big");
    const { jobId } = await env.provider.backup.triggerBackup(env.vaultId, instance.name, {
      ruleName: "BackupWeekly",
    });
    await poll(
      () => waitingDumps("held"),
      (pids) => pids.length === 1,
    );
    const lines: string[] = [];

    // Act: stop with a short grace, then start again and let the dump through
    await env.provider.backup.drain({ graceMs: 300, log: (line) => lines.push(line) });
    const stopped = await env.provider.backup.getJob(env.vaultId, jobId);
    const dumpsAfterStop = await poll(
      () => waitingDumps("held"),
      (pids) => pids.length === 0,
    );
    const restarted = restartedService(env);
    await restarted.recoverInterruptedJobs();
    await lock.release();
    const job = await restarted.waitForJob(env.vaultId, jobId);

    // Assert
    expect(lines[0]).toContain("waiting up to 0 s (LOCAL_STOP_GRACE_SECONDS) for 1 running job(s)");
    expect(lines[1]).toMatch(
      /^ {2}OnDemandBackup of local\/held \(job [0-9a-f-]{36}\), running for \d+ s$/,
    );
    expect(lines.at(-1)).toContain("they run again when the host starts");
    expect(stopped.status).toBe("InProgress");
    expect(dumpsAfterStop).toEqual([]);
    expect(job).toMatchObject({ status: "Completed", attempt: 2 });
    expect(job.interruptedAttempts?.[0]?.reason).toContain("LOCAL_STOP_GRACE_SECONDS");
    expect(await restarted.listRecoveryPoints(env.vaultId, instance.name)).toHaveLength(1);
    expect(await stagingEntries(env.stateDir)).toEqual([]);
  });
});

describe("local provider: one backup at a time per backup instance", () => {
  it("starts one of three concurrent backups and refuses the others with 409 naming the running job", async () => {
    // Arrange
    const env = await setup();
    const { instance } = await protectDatabase(env.provider, env.vaultId, pgFixture.cluster, "app");

    // Act
    const outcomes = await Promise.allSettled(
      [1, 2, 3].map(() =>
        env.provider.backup.triggerBackup(env.vaultId, instance.name, { ruleName: "BackupWeekly" }),
      ),
    );
    const started = outcomes.filter((o) => o.status === "fulfilled");
    const refused = outcomes.filter((o) => o.status === "rejected");
    const jobId = (started[0] as PromiseFulfilledResult<{ jobId: string }>).value.jobId;
    const job = await env.provider.backup.waitForJob(env.vaultId, jobId);

    // Assert
    expect(started).toHaveLength(1);
    expect(refused).toHaveLength(2);
    for (const refusal of refused) {
      expect(refusal.reason).toMatchObject({ code: "BACKUP_IN_PROGRESS", httpStatus: 409 });
      expect(String(refusal.reason.message)).toContain(jobId.split("/").pop());
    }
    expect(job.status).toBe("Completed");
    expect(await env.provider.backup.listJobs(env.vaultId)).toHaveLength(1);
    expect(await env.provider.backup.listRecoveryPoints(env.vaultId, instance.name)).toHaveLength(
      1,
    );
  });
});

describe("local provider: a restore as files cut off by a crash", () => {
  it("removes the files the attempt had written, partial ones included, and restores them again", async () => {
    // Arrange: an attempt that wrote one file and half of its manifest's copy
    const env = await setup();
    const { instance } = await protectDatabase(env.provider, env.vaultId, pgFixture.cluster, "app");
    const done = await backupNow(env.provider, env.vaultId, instance.name);
    const [point] = await env.provider.backup.listRecoveryPoints(env.vaultId, instance.name);
    const destination = path.join(env.stateDir, "restores", "app-files");
    await mkdir(destination, { recursive: true });
    const fileName = point!.files[0]!.fileName;
    await writeFile(path.join(destination, `r-${fileName}`), "PGDMP half");
    await writeFile(path.join(destination, `r-${fileName}.partial-${randomUUID()}`), "PGDMP");
    await writeFile(path.join(destination, "unrelated.txt"), "kept");
    const orphan = await orphanJob(env, done, {
      operation: "Restore",
      operationCategory: "Restore",
      recoveryPointId: done.recoveryPointId,
      recoveryDestination: destination,
      work: {
        kind: "restoreAsFiles",
        store: "VaultStore",
        destination,
        prefix: "r-",
        writingFiles: true,
      },
    });

    // Act
    const restarted = restartedService(env);
    await restarted.recoverInterruptedJobs();
    const job = await restarted.waitForJob(env.vaultId, orphan);

    // Assert
    expect(job).toMatchObject({ status: "Completed", attempt: 2 });
    expect(job.interruptedAttempts?.[0]?.reason).toContain(
      `the files it had begun to write under ${destination} were removed`,
    );
    expect((await readdir(destination)).sort()).toEqual(
      [`r-${fileName}`, "r-recovery-point.json", "unrelated.txt"].sort(),
    );
    expect((await readFile(path.join(destination, `r-${fileName}`))).length).toBe(
      point!.files[0]!.sizeBytes,
    );
  });

  it("fails the job naming what remains when a file the attempt wrote cannot be removed, and writes nothing more", async () => {
    // Arrange: a folder stands where the attempt's file was, so removing the file fails
    const env = await setup();
    const { instance } = await protectDatabase(env.provider, env.vaultId, pgFixture.cluster, "app");
    const done = await backupNow(env.provider, env.vaultId, instance.name);
    const [point] = await env.provider.backup.listRecoveryPoints(env.vaultId, instance.name);
    const destination = path.join(env.stateDir, "restores", "app-stuck");
    const fileName = point!.files[0]!.fileName;
    await mkdir(path.join(destination, `r-${fileName}`), { recursive: true });
    const orphan = await orphanJob(env, done, {
      operation: "Restore",
      operationCategory: "Restore",
      recoveryPointId: done.recoveryPointId,
      recoveryDestination: destination,
      work: {
        kind: "restoreAsFiles",
        store: "VaultStore",
        destination,
        prefix: "r-",
        writingFiles: true,
      },
    });

    // Act
    const restarted = restartedService(env);
    await restarted.recoverInterruptedJobs();
    const job = await restarted.waitForJob(env.vaultId, orphan);

    // Assert
    expect(job).toMatchObject({ status: "Failed", attempt: 1 });
    expect(job.errorDetails?.[0]?.message).toContain(
      `the files named 'r-*' under ${destination}, half written by attempt 1, remain`,
    );
    expect(await readdir(destination)).toEqual([`r-${fileName}`]);
  });
});

describe("local provider: a tool's server session ends with the tool", () => {
  it("ends the session of a pg_dump stopped as a stray while the lock it waited for is still held", async () => {
    // Arrange: a dump, as a backup starts it, waiting for a table lock
    const [version] = await pgFixture.query<{ server_version_num: string }>(
      "postgres",
      "SHOW server_version_num",
    );
    const folder = await mkdtemp(path.join(tmpdir(), "pgprotect-dump-"));
    disposers.push(() => rm(folder, { recursive: true, force: true }));
    const lock = await lockTable("app", "t");
    let dumpPid: number | undefined;
    const dumped = dumpDatabaseToFile({
      binDir: pgFixture.cluster.binDir,
      params: parseConnectionString(pgFixture.cluster.connectionUrl("app")),
      database: "app",
      file: path.join(folder, "app.dump"),
      serverMajor: serverMajorOf(version?.server_version_num),
      onSpawn: (pid) => (dumpPid = pid),
    }).then(
      () => undefined,
      (error: unknown) => error,
    );
    const [backend] = await poll(
      () => waitingDumps("app"),
      (pids) => pids.length === 1,
    );

    // Act: stopped as recovery stops a stray, with the lock still held
    const stopped = await stopStrayTool(dumpPid as number, "pg_dump");
    const sessions = await poll(
      () =>
        pgFixture.query<{ pid: number }>(
          "postgres",
          "SELECT pid FROM pg_stat_activity WHERE pid = $1",
          [backend],
        ),
      (rows) => rows.length === 0,
      20_000,
    );
    const heldMeanwhile = await pgFixture.query<{ granted: boolean }>(
      "app",
      "SELECT granted FROM pg_locks WHERE relation = 't'::regclass AND mode = 'AccessExclusiveLock'",
    );
    await lock.release();

    // Assert
    expect(stopped).toBe("stopped");
    expect(sessions).toEqual([]);
    expect(heldMeanwhile).toEqual([{ granted: true }]);
    expect(await dumped).toMatchObject({ code: "DATASOURCE_UNREACHABLE" });
    expect(await readdir(folder)).toEqual([]);
  });
});

describe("local provider: a restore cut off while it verifies", () => {
  /** Holds a lock on a catalog table until `release` (shared catalogs hold every database's users). */
  async function lockCatalog(table: string): Promise<{
    client: pg.Client;
    release(): Promise<void>;
  }> {
    const client = new pg.Client({ connectionString: pgFixture.cluster.connectionUrl("postgres") });
    client.on("error", () => undefined);
    await client.connect();
    await client.query(`BEGIN; LOCK TABLE pg_catalog.${table} IN ACCESS EXCLUSIVE MODE`);
    return {
      client,
      async release() {
        await client.query("ROLLBACK").catch(() => undefined);
        await client.end().catch(() => undefined);
      },
    };
  }

  it("records the verification's psql in the job while it runs, as it records pg_restore", async () => {
    // Arrange: `gate` reads a shared catalog, so a lock on it holds pg_restore's load of `gated`
    const env = await setup();
    await pgFixture.query("postgres", "CREATE DATABASE gatedapp");
    await pgFixture.query(
      "gatedapp",
      `CREATE FUNCTION gate(id int) RETURNS boolean LANGUAGE plpgsql AS
         $$ BEGIN PERFORM 1 FROM pg_catalog.pg_shseclabel LIMIT 1; RETURN id > 0; END $$;
       CREATE TABLE gated (id int PRIMARY KEY CHECK (gate(id)));
       INSERT INTO gated SELECT generate_series(1, 50);`,
    );
    const { instance } = await protectDatabase(
      env.provider,
      env.vaultId,
      pgFixture.cluster,
      "gatedapp",
    );
    const done = await backupNow(env.provider, env.vaultId, instance.name);
    const restoreHold = await lockCatalog("pg_shseclabel");
    const { jobId } = await env.provider.backup.triggerRestore(env.vaultId, instance.name, {
      recoveryPointId: String(done.recoveryPointId),
      target: {
        kind: "database",
        targetDatabaseId: formatDatabaseId({
          ...LOCAL_SCOPE,
          kind: "servers",
          serverName: "local",
          databaseName: "gatedapp_restored",
        }),
      },
    });
    await poll(
      () =>
        pgFixture.query(
          "postgres",
          "SELECT pid FROM pg_stat_activity WHERE application_name = 'pg_restore' AND datname = 'gatedapp_restored' AND wait_event_type = 'Lock'",
        ),
      (rows) => rows.length === 1,
    );
    // New connections (the verification's psql) wait on pg_database; pg_restore's is made already.
    const connectHold = await lockCatalog("pg_database");
    await restoreHold.release();
    const waitingConnections = async () =>
      Number(
        (
          await connectHold.client.query<{ n: string }>(
            "SELECT count(*) AS n FROM pg_locks WHERE relation = 'pg_catalog.pg_database'::regclass AND NOT granted",
          )
        ).rows[0]?.n,
      );
    await poll(waitingConnections, (n) => n > 0);
    const jobFile = path.join(
      VaultFolder.of(env.stateDir, "vault1").root,
      "meta",
      "backupJobs",
      `${jobId.split("/").pop()}.json`,
    );

    // Act
    const recorded = await poll(
      async () =>
        (JSON.parse(await readFile(jobFile, "utf8")) as { tool?: { pid: number; program: string } })
          .tool,
      (tool) => tool?.program === "psql",
      10_000,
    );
    const running = recorded ? await programOf(recorded.pid) : undefined;
    await connectHold.release();
    const job = await env.provider.backup.waitForJob(env.vaultId, jobId);
    const after = JSON.parse(await readFile(jobFile, "utf8")) as Record<string, unknown>;

    // Assert
    expect(recorded?.program).toBe("psql");
    expect(running).toBe("psql");
    expect(job).toMatchObject({ status: "Completed", restoreVerification: { verified: true } });
    expect(after).not.toHaveProperty("tool");
    await pgFixture.query("postgres", "DROP DATABASE gatedapp_restored WITH (FORCE)");
  });

  it("after a crash during verification, stops the stray psql, drops the database the job created and restores it again", async () => {
    // Arrange: a restore cut off while its verification's psql ran in the restored database
    const env = await setup();
    const { instance } = await protectDatabase(env.provider, env.vaultId, pgFixture.cluster, "app");
    const done = await backupNow(env.provider, env.vaultId, instance.name);
    await pgFixture.query("postgres", "CREATE DATABASE app_verifying");
    await pgFixture.query(
      "app_verifying",
      "CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 5000) g",
    );
    const params = parseConnectionString(pgFixture.cluster.connectionUrl("app_verifying"));
    const stray = spawn(
      path.join(pgFixture.cluster.binDir, "psql"),
      ["-X", "-q", "-c", "SELECT pg_sleep(600)"],
      {
        detached: true,
        stdio: "ignore",
        env: { ...process.env, ...libpqEnvironment(params, "app_verifying") },
      },
    );
    children.push(stray);
    const strayExited = new Promise((resolve) => stray.once("exit", resolve));
    await poll(
      () =>
        pgFixture.query(
          "postgres",
          "SELECT pid FROM pg_stat_activity WHERE application_name = 'psql' AND datname = 'app_verifying'",
        ),
      (rows) => rows.length === 1,
    );
    const targetDatabaseId = formatDatabaseId({
      ...LOCAL_SCOPE,
      kind: "servers",
      serverName: "local",
      databaseName: "app_verifying",
    });
    const orphan = await orphanJob(env, done, {
      operation: "Restore",
      operationCategory: "Restore",
      recoveryPointId: done.recoveryPointId,
      recoveryDestination: targetDatabaseId,
      tool: { pid: stray.pid, program: "psql" },
      work: {
        kind: "restoreToDatabase",
        store: "VaultStore",
        targetDatabaseId,
        creatingDatabase: true,
      },
    });

    // Act
    const restarted = restartedService(env);
    await restarted.recoverInterruptedJobs();
    await strayExited;
    const job = await restarted.waitForJob(env.vaultId, orphan);

    // Assert
    expect(stray.signalCode).toBe("SIGKILL");
    expect(job).toMatchObject({
      status: "Completed",
      attempt: 2,
      restoreVerification: { verified: true },
    });
    expect(job.interruptedAttempts?.[0]?.reason).toContain(
      `its psql (pid ${stray.pid}) was stopped`,
    );
    expect(job.interruptedAttempts?.[0]?.reason).toContain(
      "the database 'app_verifying' it had begun to restore was dropped",
    );
    const rows = await pgFixture.query<{ n: string }>(
      "app_verifying",
      "SELECT count(*) AS n FROM t",
    );
    expect(rows[0]?.n).toBe("5000");
    await pgFixture.query("postgres", "DROP DATABASE app_verifying WITH (FORCE)");
  });
});
