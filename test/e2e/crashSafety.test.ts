/**
 * The crash suite: the real app (`node bin/pgprotect.js host`) in a child process, stopped with a
 * terminal's Ctrl+C (SIGINT to its process group) or killed with SIGKILL (host and worker) while
 * a protection, a dump or a restore runs, then started again. A table lock holds `pg_dump`; a lock
 * on a shared catalog that a CHECK constraint of the dump reads holds `pg_restore`; an uncommitted
 * rename of a database holds every connection to it (a protection's checks). The tests wait for
 * the work to be seen waiting in `pg_stat_activity` or `pg_locks`, never for a fixed time.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stableUuid } from "../../src/domain/events/stableId.js";
import { programOf } from "../../src/providers/local/processes.js";
import { LocalSecretStore } from "../../src/providers/local/secretStore.js";
import { defaultPostgresPolicy } from "../support/localProvider.js";
import { poll } from "../support/poll.js";
import { usePostgresCluster } from "../support/postgres.js";

const projectDir = fileURLToPath(new URL("../..", import.meta.url));
const postgres = usePostgresCluster();
const functionKey = "crash-suite-key";
const graceSeconds = 2;

type Body = Record<string, unknown>;

/** A host running in its own process group, and what it printed. */
interface LaunchedHost {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

const launched: ChildProcess[] = [];

describe("in-flight work survives a stop and a crash of the host", () => {
  let stateDir: string;
  let host: LaunchedHost;
  let instanceName: string;
  let ledgerSecretUri: string;
  let crmSecretUri: string;
  let hrSecretUri: string;
  let booksSecretUri: string;

  /** Starts `pgprotect host` detached, so that it leads its own process group as a shell's job does. */
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
          LOCAL_STOP_GRACE_SECONDS: String(graceSeconds),
        },
      },
    );
    launched.push(child);
    let output = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolve) =>
      child.once("exit", (code) => resolve(code)),
    );
    const url = await new Promise<string>((resolve, reject) => {
      const onData = () => {
        const started = /Host started on (http:\/\/[^\s]+)/.exec(output);
        if (!started?.[1]) return;
        child.stdout?.off("data", onData);
        resolve(started[1]);
      };
      child.stdout?.on("data", onData);
      void exited.then((code) => reject(new Error(`the host exited with ${code}: ${output}`)));
    });
    return { child, url, output: () => output, exited };
  }

  /** SIGKILL to the host's process group: the host and its worker die; detached tools do not. */
  async function killHost(): Promise<void> {
    process.kill(-(host.child.pid as number), "SIGKILL");
    await host.exited;
  }

  async function api(method: string, route: string, body?: unknown) {
    const response = await fetch(`${host.url}/api/${route}`, {
      method,
      headers: { "x-functions-key": functionKey, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as Body,
    };
  }

  async function jobWhenEnded(jobName: string): Promise<Body> {
    const answer = await poll(
      () => api("GET", `jobs/${jobName}`),
      (r) => r.status === 200 && r.body.status !== "InProgress",
      90_000,
    );
    return answer.body;
  }

  /** Backends of a tool waiting for a lock, e.g. `pg_dump` in `shop`. */
  async function waitingTools(application: string, database: string): Promise<number[]> {
    const rows = await postgres.query<{ pid: number }>(
      "postgres",
      "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = $2 AND wait_event_type = 'Lock'",
      [application, database],
    );
    return rows.map((r) => r.pid);
  }

  /** Connections to a database waiting for its lock (a backend starting up waits there). */
  async function waitingConnections(database: string): Promise<number> {
    const rows = await postgres.query<{ n: string }>(
      "postgres",
      `SELECT count(*) AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.objid
       WHERE l.locktype = 'object' AND l.classid = 'pg_database'::regclass AND NOT l.granted
         AND d.datname = $1`,
      [database],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** A session holding a lock until released. */
  async function holdLock(database: string, sql: string): Promise<{ release(): Promise<void> }> {
    const client = new pg.Client({ connectionString: postgres.cluster.connectionUrl(database) });
    client.on("error", () => undefined);
    await client.connect();
    await client.query(`BEGIN; ${sql}`);
    return {
      async release() {
        // Rolled back: a lock taken by a statement (a rename) leaves nothing behind.
        await client.query("ROLLBACK").catch(() => undefined);
        await client.end().catch(() => undefined);
      },
    };
  }

  /** The recovery points of the instance, as manifests in the vault folder. */
  async function recoveryPoints(): Promise<{ recoveryPointId: string; jobId: string }[]> {
    const folder = path.join(stateDir, "vaults", "pgprotect-vault", "VaultStore", instanceName);
    const names = await readdir(folder).catch(() => []);
    return Promise.all(
      names.map(
        async (name) =>
          JSON.parse(await readFile(path.join(folder, name, "manifest.json"), "utf8")) as {
            recoveryPointId: string;
            jobId: string;
          },
      ),
    );
  }

  async function stagingEntries(): Promise<string[]> {
    return readdir(path.join(stateDir, "vaults", "pgprotect-vault", ".staging")).catch(() => []);
  }

  /** The outbox's emails about one job, by the state they report. */
  async function emailsAbout(jobId: string): Promise<string[]> {
    const outbox = path.join(stateDir, "notifications", "outbox");
    const states: string[] = [];
    for (const status of ["InProgress", "Completed", "Failed", "Cancelled"]) {
      const id = stableUuid(["PgProtect.Backup.JobStateChanged", jobId.toLowerCase(), status]);
      if (existsSync(path.join(outbox, `email-${id}.eml`))) states.push(status);
    }
    return states;
  }

  async function completedEmailOf(jobId: string): Promise<string[]> {
    return poll(
      () => emailsAbout(jobId),
      (states) => states.includes("Completed") || states.includes("Failed"),
      60_000,
    );
  }

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
    await postgres.query("postgres", "CREATE DATABASE ledger");
    await postgres.query(
      "ledger",
      "CREATE TABLE entries AS SELECT g AS id FROM generate_series(1, 100) g",
    );
    stateDir = mkdtempSync(path.join(tmpdir(), "pgprotect-crash-"));
    const secrets = new LocalSecretStore({ stateDir });
    const secretUri = await secrets.setSecret("shop", postgres.cluster.connectionUrl("shop"));
    ledgerSecretUri = await secrets.setSecret("ledger", postgres.cluster.connectionUrl("ledger"));
    await postgres.query("postgres", "CREATE DATABASE crm");
    crmSecretUri = await secrets.setSecret("crm", postgres.cluster.connectionUrl("crm"));
    await postgres.query("postgres", "CREATE DATABASE hr");
    hrSecretUri = await secrets.setSecret("hr", postgres.cluster.connectionUrl("hr"));
    await postgres.query("postgres", "CREATE DATABASE books");
    await postgres.query(
      "books",
      "CREATE TABLE entries AS SELECT g AS id FROM generate_series(1, 100) g",
    );
    booksSecretUri = await secrets.setSecret("books", postgres.cluster.connectionUrl("books"));
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
    const protectedNow = await poll(
      () => api("GET", `protections/${String(started.body.id)}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
    );
    expect(protectedNow.body).toMatchObject({ status: "Completed", outcome: "Protected" });
    instanceName = String(protectedNow.body.backupInstanceName);
  }, 120_000);

  afterAll(async () => {
    for (const child of launched) {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-(child.pid as number), "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it("after SIGKILL while a protection connects to its database, protects it once when the host is back", async () => {
    // Arrange: an uncommitted rename holds the database's lock, so connecting to it waits
    const lock = await holdLock("postgres", "ALTER DATABASE crm RENAME TO crm_held");
    const started = await api("POST", "protections", {
      serverName: "local",
      databaseName: "crm",
      policyName: "weekly",
      secretUri: crmSecretUri,
    });
    expect(started.status).toBe(202);
    await poll(
      () => waitingConnections("crm"),
      (count) => count > 0,
    );

    // Act
    await killHost();
    host = await launchHost();
    await lock.release();
    const done = await poll(
      () => api("GET", `protections/${String(started.body.id)}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
      60_000,
    );
    const instances = ((await api("GET", "backup-instances")).body.value as Body[]).filter(
      (i) => i.friendlyName === "local/crm",
    );
    const configured = instances[0] ?? {};
    const eventId = stableUuid([
      "PgProtect.Protection.Configured",
      String(configured.datasourceId).toLowerCase(),
      String(configured.id).toLowerCase(),
    ]);
    const email = path.join(stateDir, "notifications", "outbox", `email-${eventId}.eml`);
    await poll(
      async () => existsSync(email),
      (found) => found,
    );

    // Assert
    expect(done.body).toMatchObject({ status: "Completed", outcome: "Protected" });
    expect(instances).toHaveLength(1);
    expect(existsSync(email)).toBe(true);
  }, 120_000);

  it("on Ctrl+C while a protection connects to its database, stops, and protects it once when the host is back", async () => {
    // Arrange
    const lock = await holdLock("postgres", "ALTER DATABASE hr RENAME TO hr_held");
    const started = await api("POST", "protections", {
      serverName: "local",
      databaseName: "hr",
      policyName: "weekly",
      secretUri: hrSecretUri,
    });
    expect(started.status).toBe(202);
    await poll(
      () => waitingConnections("hr"),
      (count) => count > 0,
    );

    // Act
    process.kill(-(host.child.pid as number), "SIGINT");
    const exitCode = await host.exited;
    host = await launchHost();
    await lock.release();
    const done = await poll(
      () => api("GET", `protections/${String(started.body.id)}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
      60_000,
    );
    const instances = ((await api("GET", "backup-instances")).body.value as Body[]).filter(
      (i) => i.friendlyName === "local/hr",
    );

    // Assert
    expect(exitCode).toBe(0);
    expect(done.body).toMatchObject({ status: "Completed", outcome: "Protected" });
    expect(instances).toHaveLength(1);
  }, 120_000);

  it("on Ctrl+C waits for a held ad-hoc backup, names it, stops it past the grace, and the next start completes it once", async () => {
    // Arrange: a dump held by a table lock
    const lock = await holdLock("shop", "LOCK TABLE big IN ACCESS EXCLUSIVE MODE");
    const started = await api("POST", `backup-instances/${instanceName}/backups`, {
      ruleName: "BackupWeekly",
    });
    expect(started.status).toBe(202);
    const jobName = String(started.body.jobName);
    await poll(
      () => waitingTools("pg_dump", "shop"),
      (pids) => pids.length === 1,
    );

    // Act: Ctrl+C in the host's terminal reaches its whole process group
    process.kill(-(host.child.pid as number), "SIGINT");
    const exitCode = await host.exited;
    const stopOutput = host.output();
    const dumpsAfterStop = await waitingTools("pg_dump", "shop");
    const whileDown = JSON.parse(
      await readFile(
        path.join(stateDir, "vaults", "pgprotect-vault", "meta", "backupJobs", `${jobName}.json`),
        "utf8",
      ),
    ) as Body;
    host = await launchHost();
    await lock.release();
    const job = await jobWhenEnded(jobName);
    const emails = await completedEmailOf(String(started.body.jobId));

    // Assert
    expect(exitCode).toBe(0);
    expect(stopOutput).toContain(
      `waiting up to ${graceSeconds} s (LOCAL_STOP_GRACE_SECONDS) for 1 running job(s)`,
    );
    expect(stopOutput).toMatch(
      new RegExp(`OnDemandBackup of local/shop \\(job ${jobName}\\), running for \\d+ s`),
    );
    expect(stopOutput).toContain("they run again when the host starts");
    expect(whileDown.status).toBe("InProgress");
    expect(dumpsAfterStop).toEqual([]);
    expect(job).toMatchObject({ status: "Completed", attempt: 2 });
    expect((job.interruptedAttempts as Body[])[0]?.reason).toContain("LOCAL_STOP_GRACE_SECONDS");
    expect((await recoveryPoints()).filter((p) => p.jobId === started.body.jobId)).toHaveLength(1);
    expect(await stagingEntries()).toEqual([]);
    expect(emails).toEqual(["Completed"]);
  }, 120_000);

  it("after SIGKILL of host and worker during an ad-hoc backup, stops the stray pg_dump and completes the job once", async () => {
    // Arrange
    const pointsBefore = (await recoveryPoints()).length;
    const lock = await holdLock("shop", "LOCK TABLE big IN ACCESS EXCLUSIVE MODE");
    const started = await api("POST", `backup-instances/${instanceName}/backups`, {
      ruleName: "BackupWeekly",
    });
    expect(started.status).toBe(202);
    const jobName = String(started.body.jobName);
    const [strayBackend] = await poll(
      () => waitingTools("pg_dump", "shop"),
      (pids) => pids.length === 1,
    );

    // Act: the host and its worker die; the dump, in its own process group, is left waiting
    await killHost();
    const leftWaiting = await waitingTools("pg_dump", "shop");
    host = await launchHost();
    // The new attempt's own dump waits for the lock too, and the stopped stray's server session
    // ends although the lock is still held (its client connection is checked while it waits).
    const resumed = await poll(
      () => waitingTools("pg_dump", "shop"),
      (pids) => pids.some((pid) => pid !== strayBackend) && !pids.includes(strayBackend as number),
    );
    await lock.release();
    const job = await jobWhenEnded(jobName);
    const emails = await completedEmailOf(String(started.body.jobId));

    // Assert
    expect(leftWaiting).toEqual([strayBackend]);
    expect(resumed.filter((pid) => pid !== strayBackend)).toHaveLength(1);
    expect(resumed).not.toContain(strayBackend);
    expect(job).toMatchObject({ status: "Completed", attempt: 2 });
    const reason = String((job.interruptedAttempts as Body[])[0]?.reason);
    expect(reason).toContain("a crash or a kill");
    const strayPid = Number(/its pg_dump \(pid (\d+)\) was stopped/.exec(reason)?.[1]);
    expect(strayPid).toBeGreaterThan(0);
    expect(await programOf(strayPid)).toBeUndefined();
    const points = await recoveryPoints();
    expect(points).toHaveLength(pointsBefore + 1);
    expect(points.filter((p) => p.jobId === started.body.jobId)).toHaveLength(1);
    expect(await stagingEntries()).toEqual([]);
    expect(emails).toEqual(["Completed"]);
  }, 120_000);

  it("answers three concurrent ad-hoc backups of one instance with one 202 and two 409s naming the running job, and makes one recovery point", async () => {
    // Arrange: the first backup is held, so the others arrive while it runs
    const pointsBefore = (await recoveryPoints()).length;
    const lock = await holdLock("shop", "LOCK TABLE big IN ACCESS EXCLUSIVE MODE");

    // Act
    const answers = await Promise.all(
      [1, 2, 3].map(() =>
        api("POST", `backup-instances/${instanceName}/backups`, { ruleName: "BackupWeekly" }),
      ),
    );
    const accepted = answers.filter((a) => a.status === 202);
    const refused = answers.filter((a) => a.status === 409);
    const dumps = await poll(
      () => waitingTools("pg_dump", "shop"),
      (pids) => pids.length >= 1,
    );
    await lock.release();
    const job = await jobWhenEnded(String(accepted[0]?.body.jobName));

    // Assert
    expect(accepted).toHaveLength(1);
    expect(refused).toHaveLength(2);
    for (const answer of refused) {
      expect(answer.headers.get("content-type")).toBe("application/problem+json");
      expect(answer.body.code).toBe("BACKUP_IN_PROGRESS");
      expect(String(answer.body.detail)).toContain(String(accepted[0]?.body.jobName));
    }
    expect(dumps).toHaveLength(1);
    expect(job.status).toBe("Completed");
    expect(await recoveryPoints()).toHaveLength(pointsBefore + 1);
  }, 120_000);

  /** Runs a timer function of the host now (the runtime's admin route, as `func` has it). */
  async function runTimer(name: string): Promise<number> {
    const { masterKey } = JSON.parse(
      await readFile(path.join(stateDir, "runtime", "host-keys.json"), "utf8"),
    ) as { masterKey: string };
    const response = await fetch(`${host.url}/admin/functions/${name}`, {
      method: "POST",
      headers: { "x-functions-key": masterKey, "content-type": "application/json" },
      body: "{}",
    });
    return response.status;
  }

  /**
   * Protects `database` under a policy whose first occurrence comes a few seconds later, holds
   * its table `entries` with a lock, runs the schedule's timer once the occurrence has come, and
   * waits for the scheduled `pg_dump` to wait on the lock.
   */
  async function heldScheduledBackup(database: string, secretUri: string, policyName: string) {
    // Far enough ahead for the protection below to be configured before it on a busy machine: a
    // schedule only counts occurrences after the instance exists (checked below as a precondition).
    const due = new Date(Math.ceil((Date.now() + 30_000) / 1000) * 1000);
    const policy = defaultPostgresPolicy();
    const rule = policy.policyRules.find((r) => r.name === "BackupWeekly");
    if (rule?.objectType !== "AzureBackupRule") throw new Error("the template has no backup rule");
    rule.trigger.schedule.repeatingTimeIntervals = [
      `R/${due.toISOString().replace(".000Z", "+00:00")}/P1W`,
    ];
    expect((await api("PUT", `vaults/pgprotect-vault/policies/${policyName}`, policy)).status).toBe(
      201,
    );
    const protection = await api("POST", "protections", {
      serverName: "local",
      databaseName: database,
      policyName,
      secretUri,
    });
    const protectedNow = await poll(
      () => api("GET", `protections/${String(protection.body.id)}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
    );
    expect(protectedNow.body).toMatchObject({ status: "Completed", outcome: "Protected" });
    const scheduledInstance = String(protectedNow.body.backupInstanceName);
    const configured = await api("GET", `backup-instances/${scheduledInstance}`);
    // The schedule counts from when protection was configured: the occurrence must come after.
    expect(
      Date.parse(String(configured.body.createdAt)),
      "precondition: protection was configured before the schedule's first occurrence",
    ).toBeLessThan(due.getTime());
    const lock = await holdLock(database, "LOCK TABLE entries IN ACCESS EXCLUSIVE MODE");
    // The occurrence has come; the schedule's timer runs now rather than at the next minute.
    await poll(
      async () => Date.now(),
      (now) => now > due.getTime(),
      30_000,
    );
    expect(await runTimer("timerLocalSchedule")).toBe(202);
    const [strayBackend] = await poll(
      () => waitingTools("pg_dump", database),
      (pids) => pids.length === 1,
    );
    return { instance: scheduledInstance, lock, strayBackend };
  }

  /** The scheduled backup jobs of a database, once none of them runs. */
  async function scheduledJobsWhenEnded(database: string): Promise<Body[]> {
    return poll(
      async () =>
        ((await api("GET", "jobs")).body.value as Body[]).filter(
          (j) => j.operation === "ScheduledBackup" && j.dataSourceName === database,
        ),
      (jobs) => jobs.length > 0 && jobs.every((j) => j.status !== "InProgress"),
      60_000,
    );
  }

  /** The emails about a job once the job watcher has published its end (its timer run now). */
  async function watchedEmailsOf(jobId: string): Promise<string[]> {
    return poll(
      async () => {
        const states = await emailsAbout(jobId);
        if (!states.includes("Completed") && !states.includes("Failed"))
          await runTimer("timerWatchJobs");
        return states;
      },
      (states) => states.includes("Completed") || states.includes("Failed"),
      90_000,
    );
  }

  it("after SIGKILL during a scheduled backup, completes it once when the host is back, and starts no second one", async () => {
    // Arrange
    const { instance, lock, strayBackend } = await heldScheduledBackup(
      "ledger",
      ledgerSecretUri,
      "soon",
    );

    // Act
    await killHost();
    host = await launchHost();
    await poll(
      () => waitingTools("pg_dump", "ledger"),
      (pids) => pids.some((pid) => pid !== strayBackend),
    );
    await lock.release();
    const scheduled = await scheduledJobsWhenEnded("ledger");
    const emails = await watchedEmailsOf(String(scheduled[0]?.id));

    // Assert
    expect(scheduled).toEqual([expect.objectContaining({ status: "Completed", attempt: 2 })]);
    const folder = path.join(stateDir, "vaults", "pgprotect-vault", "VaultStore", instance);
    expect(await readdir(folder)).toHaveLength(1);
    expect(await stagingEntries()).toEqual([]);
    expect(emails).toEqual(["Completed"]);
  }, 150_000);

  it("on Ctrl+C during a scheduled backup, stops it past the grace, and the next start completes it once and starts no second one", async () => {
    // Arrange
    const { instance, lock } = await heldScheduledBackup("books", booksSecretUri, "soon-books");

    // Act: Ctrl+C in the host's terminal reaches its whole process group
    process.kill(-(host.child.pid as number), "SIGINT");
    const exitCode = await host.exited;
    const stopOutput = host.output();
    const dumpsAfterStop = await waitingTools("pg_dump", "books");
    host = await launchHost();
    await lock.release();
    const scheduled = await scheduledJobsWhenEnded("books");
    // A tick after the restart settles the occurrence the stopped tick had claimed.
    expect(await runTimer("timerLocalSchedule")).toBe(202);
    const afterTick = await scheduledJobsWhenEnded("books");
    const emails = await watchedEmailsOf(String(scheduled[0]?.id));

    // Assert
    expect(exitCode).toBe(0);
    expect(stopOutput).toMatch(
      /ScheduledBackup of local\/books \(job [0-9a-f-]{36}\), running for \d+ s/,
    );
    expect(dumpsAfterStop).toEqual([]);
    expect(scheduled).toEqual([expect.objectContaining({ status: "Completed", attempt: 2 })]);
    expect(String((scheduled[0]?.interruptedAttempts as Body[])[0]?.reason)).toContain(
      "LOCAL_STOP_GRACE_SECONDS",
    );
    expect(afterTick).toHaveLength(1);
    const folder = path.join(stateDir, "vaults", "pgprotect-vault", "VaultStore", instance);
    expect(await readdir(folder)).toHaveLength(1);
    expect(await stagingEntries()).toEqual([]);
    expect(emails).toEqual(["Completed"]);
  }, 150_000);

  it("on Ctrl+C during a held restore, stops it past the grace, and the next start restores it again to Completed", async () => {
    // Arrange
    const lock = await holdLock(
      "postgres",
      "LOCK TABLE pg_catalog.pg_shseclabel IN ACCESS EXCLUSIVE MODE",
    );
    const started = await api("POST", `backup-instances/${instanceName}/restores`, {
      targetDatabaseName: "shop_after_stop",
    });
    expect(started.status).toBe(202);
    const jobName = String(started.body.jobName);
    await poll(
      () => waitingTools("pg_restore", "shop_after_stop"),
      (pids) => pids.length === 1,
    );

    // Act
    process.kill(-(host.child.pid as number), "SIGINT");
    const exitCode = await host.exited;
    const stopOutput = host.output();
    host = await launchHost();
    await lock.release();
    const job = await jobWhenEnded(jobName);

    // Assert
    expect(exitCode).toBe(0);
    expect(stopOutput).toMatch(
      new RegExp(`Restore of local/shop \\(job ${jobName}\\), running for \\d+ s`),
    );
    expect(job).toMatchObject({ status: "Completed", attempt: 2 });
    expect(String((job.interruptedAttempts as Body[])[0]?.reason)).toContain(
      "LOCAL_STOP_GRACE_SECONDS",
    );
    expect(job.restoreVerification).toMatchObject({ verified: true });
    const rows = await postgres.query<{ gated: string }>(
      "shop_after_stop",
      "SELECT count(*) AS gated FROM gated",
    );
    expect(rows).toEqual([{ gated: "50" }]);
  }, 120_000);

  it("after SIGKILL during a restore, drops the half-restored database and restores it again to Completed", async () => {
    // Arrange: pg_restore's load of `gated` waits on the shared catalog its CHECK reads
    const lock = await holdLock(
      "postgres",
      "LOCK TABLE pg_catalog.pg_shseclabel IN ACCESS EXCLUSIVE MODE",
    );
    const started = await api("POST", `backup-instances/${instanceName}/restores`, {
      targetDatabaseName: "shop_restored",
    });
    expect(started.status).toBe(202);
    const jobName = String(started.body.jobName ?? String(started.body.jobId).split("/").pop());
    await poll(
      () => waitingTools("pg_restore", "shop_restored"),
      (pids) => pids.length === 1,
    );

    // Act
    await killHost();
    const halfRestored = await postgres.query(
      "postgres",
      "SELECT 1 FROM pg_database WHERE datname = 'shop_restored'",
    );
    host = await launchHost();
    await lock.release();
    const job = await jobWhenEnded(jobName);

    // Assert: the job's second attempt restored everything, after its first was dropped
    expect(halfRestored).toHaveLength(1);
    expect(job).toMatchObject({ status: "Completed", attempt: 2 });
    expect(String((job.interruptedAttempts as Body[])[0]?.reason)).toContain(
      "the database 'shop_restored' it had begun to restore was dropped",
    );
    expect(job.restoreVerification).toMatchObject({ verified: true });
    const rows = await postgres.query<{ big: string; gated: string }>(
      "shop_restored",
      "SELECT (SELECT count(*) FROM big) AS big, (SELECT count(*) FROM gated) AS gated",
    );
    expect(rows).toEqual([{ big: "2000", gated: "50" }]);
    expect(await waitingTools("pg_restore", "shop_restored")).toEqual([]);
  }, 120_000);
});
