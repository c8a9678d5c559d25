import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { usePostgresCluster } from "../support/postgres.js";
import { poll } from "../support/poll.js";
import { startLocalApp, weeklyPolicy, type LocalApp } from "../support/localApp.js";

const postgres = usePostgresCluster();

type Body = Record<string, unknown>;

describe("backing up the databases of a server several at a time through the HTTP API", () => {
  let app: LocalApp;
  const databases = ["north", "south", "east", "west", "centre"];

  beforeAll(async () => {
    for (const name of databases) {
      await postgres.query("postgres", `CREATE DATABASE ${name}`);
      await postgres.query(
        name,
        "CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 1000) g",
      );
    }
    const url = postgres.cluster.connectionUrl();
    app = await startLocalApp({
      postgres,
      name: "e2e-server-backup",
      policies: { weekly: weeklyPolicy },
      settings: { LOCAL_BACKUP_CONCURRENCY: "2" },
    });
    const secretUri = await app.provider.secrets.setSecret("local", url);
    const started = await app.api("POST", "protections", {
      serverName: "local",
      allDatabases: true,
      policyName: "weekly",
      secretUri,
    });
    await poll(
      () => app.api("GET", `protections/${String(started.body.id)}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
    );
  }, 180_000);

  afterAll(async () => {
    await app?.stop();
  });

  /** The `pg_dump` sessions on the cluster now, and how many wait on a lock. */
  async function dumpSessions(): Promise<{ all: number; waiting: number }> {
    const [row] = await postgres.query<{ all: number; waiting: number }>(
      "postgres",
      `SELECT count(*)::int AS all, count(*) FILTER (WHERE wait_event_type = 'Lock')::int AS waiting
         FROM pg_stat_activity WHERE application_name = 'pg_dump'`,
    );
    return row ?? { all: 0, waiting: 0 };
  }

  it("dumps no more databases at once than LOCAL_BACKUP_CONCURRENCY, and completes every backup", async () => {
    // Arrange: every protected database's table locked, so that each dump waits where it can be seen.
    const instances = (
      (await app.api("GET", "backup-instances")).body.value as {
        name: string;
        friendlyName: string;
      }[]
    ).filter((i) => databases.some((d) => i.friendlyName === `local/${d}`));
    const holders: pg.Client[] = [];
    for (const name of databases) {
      const client = new pg.Client({ connectionString: postgres.cluster.connectionUrl(name) });
      await client.connect();
      await client.query("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE");
      holders.push(client);
    }

    // Act: a backup of every database asked for at once.
    const started = await Promise.all(
      instances.map((i) =>
        app.api("POST", `backup-instances/${i.name}/backups`, { ruleName: "BackupWeekly" }),
      ),
    );
    const blocked = await poll(dumpSessions, (s) => s.waiting === 2);
    const steady = await dumpSessions();
    for (const client of holders) {
      await client.query("COMMIT");
      await client.end();
    }
    const ended = await Promise.all(
      started.map((s) =>
        poll(
          () => app.api("GET", String(s.body.statusUrl)),
          (r) => r.status !== 200 || (r.body as Body).status !== "InProgress",
          120_000,
        ),
      ),
    );

    // Assert
    expect(instances).toHaveLength(databases.length);
    expect(started.map((s) => s.status)).toEqual(databases.map(() => 202));
    expect(blocked).toEqual({ all: 2, waiting: 2 });
    expect(steady).toEqual(blocked);
    expect(ended.map((r) => (r.body as Body).status)).toEqual(databases.map(() => "Completed"));
  });
});
