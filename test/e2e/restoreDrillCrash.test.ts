/**
 * A restore drill cut off by a crash: the real app (`node bin/pgprotect.js host`) in a child
 * process, killed with SIGKILL (host and worker) while the drill's `pg_restore` loads its scratch
 * database, then started again. A lock on a shared catalog that a CHECK constraint of the dump
 * reads holds `pg_restore`; the test waits for it to be seen waiting, never for a fixed time.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalSecretStore } from "../../src/providers/local/secretStore.js";
import { projectDir } from "../support/localApp.js";
import { readHostKeys } from "../support/hostProcess.js";
import { poll } from "../support/poll.js";
import { usePostgresCluster } from "../support/postgres.js";

const postgres = usePostgresCluster();
const functionKey = "drill-crash-key";

type Body = Record<string, unknown>;

/** A host running in its own process group, and what it printed. */
interface LaunchedHost {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<number | null>;
}

describe("a restore drill cut off by a crash of the host", () => {
  let stateDir: string;
  let host: LaunchedHost | undefined;
  let instanceName = "";
  const launched: ChildProcess[] = [];

  /** Starts `pgprotect host` detached, leading its own process group. */
  async function launchHost(): Promise<LaunchedHost> {
    const child = spawn(
      process.execPath,
      [
        path.join(projectDir, "bin", "pgprotect.js"),
        "host",
        "--port",
        "0",
        "--state-dir",
        path.join(stateDir, "runtime"),
        "--key",
        functionKey,
      ],
      {
        cwd: projectDir,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        env: {
          ...process.env,
          PGPROTECT_STATE_DIR: stateDir,
          DATABASE_URL: postgres.cluster.connectionUrl(),
          LOCAL_STOP_GRACE_SECONDS: "2",
        },
      },
    );
    launched.push(child);
    let output = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    const url = await new Promise<string>((resolve, reject) => {
      const onData = () => {
        const started = /Host started on (http:\/\/[^\s]+)/.exec(output);
        if (started?.[1]) resolve(started[1]);
      };
      child.stdout?.on("data", onData);
      void exited.then((code) => reject(new Error(`the host exited with ${code}: ${output}`)));
    });
    return { child, url, exited };
  }

  async function api(method: string, route: string, body?: unknown) {
    const response = await fetch(`${host?.url}/api/${route}`, {
      method,
      headers: { "x-functions-key": functionKey, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Body };
  }

  const scratchDatabases = async () =>
    (
      await postgres.query<{ datname: string }>(
        "postgres",
        "SELECT datname FROM pg_database WHERE datname LIKE 'pgprotect\\_drill\\_%' ORDER BY datname",
      )
    ).map((row) => row.datname);

  /** pg_restore backends waiting for a lock in a scratch database. */
  const waitingRestores = async () =>
    postgres.query<{ pid: number }>(
      "postgres",
      `SELECT pid FROM pg_stat_activity WHERE application_name = 'pg_restore'
         AND datname LIKE 'pgprotect\\_drill\\_%' AND wait_event_type = 'Lock'`,
    );

  beforeAll(async () => {
    expect(existsSync(path.join(projectDir, "dist", "src", "index.js"))).toBe(true);
    await postgres.query("postgres", "CREATE DATABASE shop");
    // `gate` reads a shared catalog: a lock on it holds pg_restore's data load of `gated`.
    await postgres.query(
      "shop",
      `CREATE TABLE big AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 2000) g;
       CREATE FUNCTION gate(id int) RETURNS boolean LANGUAGE plpgsql AS
         $$ BEGIN PERFORM 1 FROM pg_catalog.pg_shseclabel LIMIT 1; RETURN id > 0; END $$;
       CREATE TABLE gated (id int PRIMARY KEY CHECK (gate(id)));
       INSERT INTO gated SELECT generate_series(1, 50);`,
    );
    stateDir = mkdtempSync(path.join(tmpdir(), "pgprotect-drill-crash-"));
    const secretUri = await new LocalSecretStore({ stateDir }).setSecret(
      "shop",
      postgres.cluster.connectionUrl("shop"),
    );
    host = await launchHost();
    const policy = await api("PUT", "vaults/pgprotect-vault/policies/weekly", {
      spec: {
        datasourceType: "AzureDatabaseForPostgreSQL",
        schedule: { days: ["Sunday"], time: "22:00" },
        retention: { default: "P3M" },
      },
    });
    expect(policy.status).toBe(201);
    const started = await api("POST", "protections", {
      serverName: "local",
      databaseName: "shop",
      policyName: "weekly",
      secretUri,
    });
    const protectedShop = await poll(
      () => api("GET", `protections/${String(started.body.id)}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
      90_000,
    );
    expect(protectedShop.body.status).toBe("Completed");
    instanceName = String(protectedShop.body.backupInstanceName);
    const backup = await api("POST", `backup-instances/${instanceName}/backups`, {
      ruleName: "BackupWeekly",
    });
    const backedUp = await poll(
      () => api("GET", `jobs/${String(backup.body.jobName)}`),
      (r) => r.body.status !== "InProgress",
      90_000,
    );
    expect(backedUp.body.status).toBe("Completed");
  }, 180_000);

  afterAll(async () => {
    for (const child of launched) {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined)
        process.kill(-child.pid, "SIGKILL");
    }
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it("leaves no scratch database after the restart, its own or an earlier crashed drill's, and ends the drill", async () => {
    // Arrange: the drill's pg_restore waits on the shared catalog `gated`'s CHECK reads, and a
    // scratch database of an earlier drill that no one finished is on the server.
    const client = new pg.Client({ connectionString: postgres.cluster.connectionUrl("postgres") });
    await client.connect();
    await client.query("BEGIN; LOCK TABLE pg_catalog.pg_shseclabel IN ACCESS EXCLUSIVE MODE");
    const started = await api("POST", `backup-instances/${instanceName}/drills`);
    expect(started.status).toBe(202);
    await poll(waitingRestores, (rows) => rows.length === 1, 60_000);

    // Act: SIGKILL to the host's process group, a leftover of an earlier crash, a new host.
    process.kill(-(host?.child.pid as number), "SIGKILL");
    await host?.exited;
    await postgres.query("postgres", "CREATE DATABASE pgprotect_drill_0123456789abcdef01234567");
    const duringCrash = await scratchDatabases();
    host = await launchHost();
    await client.query("ROLLBACK");
    await client.end();
    const ended = await poll(
      () => api("GET", `drills/${String(started.body.id)}`),
      (r) => r.status === 200 && r.body.verdict !== "InProgress",
      120_000,
    );
    const { masterKey } = readHostKeys(stateDir);
    const tick = await fetch(`${host.url}/admin/functions/timerRestoreDrills`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-functions-key": masterKey },
      body: "{}",
    });
    const left = await poll(scratchDatabases, (names) => names.length === 0, 60_000);

    // Assert
    expect(duringCrash).toEqual(
      [String(started.body.scratchTarget), "pgprotect_drill_0123456789abcdef01234567"].sort(),
    );
    expect(tick.status).toBe(202);
    expect(ended.body).toMatchObject({ verdict: "Succeeded", scratchRemoved: true });
    expect(left).toEqual([]);
  }, 240_000);
});
