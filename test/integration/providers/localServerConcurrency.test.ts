import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatServerId, LOCAL_SCOPE } from "../../../src/domain/protection/ids.js";
import {
  backupInstanceNameFor,
  datasourceTargetOf,
  FLEXIBLE_SERVER_DATASOURCE_TYPE,
} from "../../../src/domain/protection/naming.js";
import { poll } from "../../support/poll.js";
import { usePostgresCluster } from "../../support/postgres.js";
import {
  createTestProvider,
  defaultPostgresPolicy,
  instanceSpec,
  protectDatabase,
} from "../../support/localProvider.js";

const databases = ["conc_a", "conc_b", "conc_c", "conc_d"];

describe("local provider: several databases of a server at a time, bounded", () => {
  const pgFixture = usePostgresCluster();
  const disposers: (() => Promise<void>)[] = [];

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
    for (const dispose of disposers) await dispose();
  });

  /** Holds an exclusive lock on every database's table, so that each dump waits on it. */
  async function lockEveryTable(): Promise<{ release(): Promise<void> }> {
    const holders: pg.Client[] = [];
    for (const database of databases) {
      const client = new pg.Client({ connectionString: pgFixture.cluster.connectionUrl(database) });
      await client.connect();
      await client.query("BEGIN");
      await client.query("LOCK TABLE t IN ACCESS EXCLUSIVE MODE");
      holders.push(client);
    }
    return {
      async release() {
        for (const client of holders) {
          await client.query("COMMIT");
          await client.end();
        }
      },
    };
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

  it("dumps at most the configured number of databases at once across backups of several instances, and all of them in the end", async () => {
    // Arrange: four protected databases, a bound of 2, and every table locked.
    const env = await createTestProvider(pgFixture.cluster, { databasesAtOnce: 2 });
    disposers.push(env.dispose);
    const instances = [];
    for (const database of databases)
      instances.push(
        (await protectDatabase(env.provider, env.vaultId, pgFixture.cluster, database)).instance,
      );
    const locks = await lockEveryTable();

    // Act: four backups asked for at once.
    const jobIds = await Promise.all(
      instances.map(
        async (instance) =>
          (
            await env.provider.backup.triggerBackup(env.vaultId, instance.name, {
              ruleName: "BackupWeekly",
            })
          ).jobId,
      ),
    );
    // Two dumps reach the locks; the other two wait for a slot, a state that lasts until a lock goes.
    const blocked = await poll(dumpSessions, (s) => s.waiting === 2);
    const settled = [await dumpSessions(), await dumpSessions(), await dumpSessions()];
    await locks.release();
    const seen: number[] = [];
    const jobs = await poll(
      async () => {
        seen.push((await dumpSessions()).all);
        return Promise.all(jobIds.map((id) => env.provider.backup.getJob(env.vaultId, id)));
      },
      (all) => all.every((job) => job.status !== "InProgress"),
    );

    // Assert
    expect(blocked).toEqual({ all: 2, waiting: 2 });
    expect(settled).toEqual([blocked, blocked, blocked]);
    expect(Math.max(...seen)).toBeLessThanOrEqual(2);
    expect(jobs.map((job) => job.status)).toEqual([
      "Completed",
      "Completed",
      "Completed",
      "Completed",
    ]);
  });

  it("dumps a whole server's databases several at a time, within the bound, into one recovery point", async () => {
    // Arrange: the cluster as a whole Flexible Server, a bound of 3, every table locked.
    const env = await createTestProvider(pgFixture.cluster, { databasesAtOnce: 3 });
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
    const locks = await lockEveryTable();

    // Act
    const { jobId } = await env.provider.backup.triggerBackup(env.vaultId, instance.name, {
      ruleName: "BackupWeekly",
    });
    const blocked = await poll(dumpSessions, (s) => s.waiting === 3);
    const settled = await dumpSessions();
    await locks.release();
    const job = await env.provider.backup.waitForJob(env.vaultId, jobId);
    const points = await env.provider.backup.listRecoveryPoints(env.vaultId, instance.name);

    // Assert
    expect(blocked).toEqual({ all: 3, waiting: 3 });
    expect(settled).toEqual(blocked);
    expect(job.status).toBe("Completed");
    expect(points).toHaveLength(1);
    expect(points[0]?.files?.map((f) => f.databaseName)).toEqual(expect.arrayContaining(databases));
  });

  it("goes on with a whole server's other databases when two dumps fail, and names each failed database with its reason", async () => {
    // Arrange: every database's dump waiting at once on its lock.
    const env = await createTestProvider(pgFixture.cluster, { databasesAtOnce: 8 });
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
    const locks = await lockEveryTable();
    const { jobId } = await env.provider.backup.triggerBackup(env.vaultId, instance.name, {
      ruleName: "BackupWeekly",
    });
    await poll(dumpSessions, (s) => s.waiting === databases.length);

    // Act: the dumps of two databases cut off, then the others let go.
    await pgFixture.query(
      "postgres",
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pg_dump' AND datname IN ('conc_a', 'conc_c')",
    );
    await locks.release();
    const job = await env.provider.backup.waitForJob(env.vaultId, jobId);

    // Assert
    const message = job.errorDetails?.[0]?.message ?? "";
    expect(job.status).toBe("Failed");
    expect(message).toMatch(/^2 of \d+ databases were not backed up \(conc_a: .+; conc_c: .+\)$/);
    expect(message).not.toMatch(/conc_b|conc_d/);
    expect(await env.provider.backup.listRecoveryPoints(env.vaultId, instance.name)).toEqual([]);
  });
});
