import { randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatServerId, LOCAL_SCOPE } from "../../../src/domain/protection/ids.js";
import {
  backupInstanceNameFor,
  datasourceTargetOf,
  FLEXIBLE_SERVER_DATASOURCE_TYPE,
} from "../../../src/domain/protection/naming.js";
import { programOf } from "../../../src/providers/local/processes.js";
import { VaultFolder } from "../../../src/providers/local/vaultStore.js";
import { poll } from "../../support/poll.js";
import { usePostgresCluster } from "../../support/postgres.js";
import {
  createTestProvider,
  defaultPostgresPolicy,
  instanceSpec,
} from "../../support/localProvider.js";

const databases = ["stop_a", "stop_b", "stop_c"];

describe("local provider: a graceful stop during a whole-server backup", () => {
  const pgFixture = usePostgresCluster();
  const disposers: (() => Promise<void>)[] = [];
  const holders: pg.Client[] = [];

  beforeAll(async () => {
    for (const database of databases) {
      await pgFixture.query("postgres", `CREATE DATABASE ${database}`);
      await pgFixture.query(
        database,
        "CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 2000) g",
      );
    }
  });

  afterAll(async () => {
    for (const client of holders) await client.end().catch(() => undefined);
    for (const dispose of disposers) await dispose();
  });

  /** Holds an exclusive lock on every database's table, so that each dump waits on it. */
  async function lockEveryTable(): Promise<void> {
    for (const database of databases) {
      const client = new pg.Client({ connectionString: pgFixture.cluster.connectionUrl(database) });
      client.on("error", () => undefined);
      await client.connect();
      await client.query("BEGIN");
      await client.query("LOCK TABLE t IN ACCESS EXCLUSIVE MODE");
      holders.push(client);
    }
  }

  /** The `pg_dump` sessions on the cluster now, and how many of them wait on a lock. */
  async function dumpSessions(): Promise<{ all: number; waiting: number }> {
    const [row] = await pgFixture.query<{ all: number; waiting: number }>(
      "postgres",
      `SELECT count(*)::int AS all,
              count(*) FILTER (WHERE wait_event_type = 'Lock')::int AS waiting
         FROM pg_stat_activity WHERE application_name = 'pg_dump'`,
    );
    return row ?? { all: 0, waiting: 0 };
  }

  it("stops every running pg_dump of the job, leaves no partial recovery point, and records each dump while it runs", async () => {
    // Arrange: the cluster as a whole Flexible Server, every database's dump waiting on a lock.
    const started: number[] = [];
    const env = await createTestProvider(pgFixture.cluster, {
      databasesAtOnce: 8,
      onDumpStarted: (_jobId, pid) => started.push(pid),
    });
    disposers.push(env.dispose);
    const policy = await env.provider.backup.createPolicy(
      env.vaultId,
      "FlexPolicy",
      defaultPostgresPolicy(FLEXIBLE_SERVER_DATASOURCE_TYPE),
    );
    const serverId = formatServerId({
      ...LOCAL_SCOPE,
      kind: "flexibleServers",
      serverName: "flex",
    });
    const instance = await env.provider.backup.createBackupInstance(
      env.vaultId,
      backupInstanceNameFor(datasourceTargetOf(serverId), randomUUID()),
      instanceSpec(serverId, policy.id ?? ""),
    );
    await lockEveryTable();
    const { jobId } = await env.provider.backup.triggerBackup(env.vaultId, instance.name, {
      ruleName: "BackupWeekly",
    });
    await poll(dumpSessions, (s) => s.waiting === databases.length);
    const vault = VaultFolder.of(env.stateDir, "vault1");
    const jobFile = path.join(vault.root, "meta", "backupJobs", `${jobId.split("/").pop()}.json`);
    const recorded = await poll(
      async () =>
        (JSON.parse(await readFile(jobFile, "utf8")) as { tools?: { pid: number }[] }).tools ?? [],
      (tools) => tools.length >= databases.length,
    );

    // Act: a stop whose grace ends while the dumps still wait.
    await env.provider.backup.drain({ graceMs: 200, log: () => undefined });
    const sessions = await poll(dumpSessions, (s) => s.all === 0, 10_000);
    const stillRunning = await poll(
      async () =>
        (
          await Promise.all(started.map(async (pid) => ((await programOf(pid)) ? [pid] : [])))
        ).flat(),
      (pids) => pids.length === 0,
      10_000,
    );
    const job = await env.provider.backup.getJob(env.vaultId, jobId);

    // Assert
    expect(started).toEqual(expect.arrayContaining(recorded.map((tool) => tool.pid)));
    expect(sessions).toEqual({ all: 0, waiting: 0 });
    expect(stillRunning).toEqual([]);
    expect(job.status).toBe("InProgress");
    expect(await env.provider.backup.listRecoveryPoints(env.vaultId, instance.name)).toEqual([]);
    expect(await readdir(path.join(vault.root, ".staging")).catch(() => [])).toEqual([]);
  });
});
