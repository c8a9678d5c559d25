import { readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { poll } from "../../support/poll.js";
import { usePostgresCluster } from "../../support/postgres.js";
import { createTestProvider, protectDatabase } from "../../support/localProvider.js";

const databases = ["conn_a", "conn_b", "conn_c", "conn_d"];

describe("local provider: the connections a backup opens", () => {
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
    // Every session the server accepts gets a line in its log, naming its database.
    await pgFixture.query("postgres", "ALTER SYSTEM SET log_connections = on");
    await pgFixture.query("postgres", "SELECT pg_reload_conf()");
    await poll(
      async () =>
        (
          await pgFixture.query<{ value: string }>(
            "postgres",
            "SELECT current_setting('log_connections') AS value",
          )
        )[0]?.value,
      (value) => value === "on",
    );
  });

  afterAll(async () => {
    for (const dispose of disposers) await dispose();
  });

  const logFile = () => path.join(path.dirname(pgFixture.cluster.dataDir), "postgres.log");

  /** Writes a line to the server's log, so that what follows can be told from what came before. */
  async function mark(name: string): Promise<void> {
    await pgFixture.query("postgres", `DO $$BEGIN RAISE LOG 'test mark %', '${name}'; END$$`);
  }

  /** The databases of the sessions the server accepted between two marks, one entry per session. */
  async function sessionsBetween(start: string, end: string): Promise<string[]> {
    const log = await readFile(logFile(), "utf8");
    const from = log.indexOf(`test mark ${start}`);
    const to = log.indexOf(`test mark ${end}`);
    return [...log.slice(from, to).matchAll(/connection authorized: user=\S+ database=(\S+)/g)]
      .map((match) => match[1] ?? "")
      .filter((database) => databases.includes(database));
  }

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

  it("opens per database only the session whose snapshot it dumps and pg_dump's, and counts the server's free connections once for backups asked at once", async () => {
    // Arrange: four protected databases, two dumped at a time, every table locked so that the
    // later backups arrive while the first two wait.
    const env = await createTestProvider(pgFixture.cluster, { databasesAtOnce: 2 });
    disposers.push(env.dispose);
    const instances = [];
    for (const database of databases)
      instances.push(
        (await protectDatabase(env.provider, env.vaultId, pgFixture.cluster, database)).instance,
      );
    const locks = await lockEveryTable();
    await mark("start");

    // Act
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
    await poll(
      async () =>
        (
          await pgFixture.query<{ waiting: number }>(
            "postgres",
            `SELECT count(*)::int AS waiting FROM pg_stat_activity
              WHERE application_name = 'pg_dump' AND wait_event_type = 'Lock'`,
          )
        )[0]?.waiting,
      (waiting) => waiting === 2,
    );
    await locks.release();
    const jobs = await Promise.all(
      jobIds.map((id) => env.provider.backup.waitForJob(env.vaultId, id)),
    );
    await mark("end");

    // Assert
    expect(jobs.map((job) => job.status)).toEqual([
      "Completed",
      "Completed",
      "Completed",
      "Completed",
    ]);
    const sessions = await sessionsBetween("start", "end");
    for (const database of databases)
      expect(sessions.filter((d) => d === database).length).toBeGreaterThanOrEqual(2);
    expect(sessions).toHaveLength(2 * databases.length + 1);
  });
});
