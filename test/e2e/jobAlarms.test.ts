import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock, type RunningHost } from "@pgprotect/functions-runtime";
import { stableUuid } from "../../src/domain/events/stableId.js";
import { openSqliteJobHistory } from "../../src/providers/history/sqliteJobHistory.js";
import {
  committedEventGrid,
  startLocalApp,
  weeklyPolicy,
  type LocalApp,
} from "../support/localApp.js";
import { parseMimeMessage } from "../support/mimeMessage.js";
import { usePostgresCluster } from "../support/postgres.js";
import { poll } from "../support/poll.js";

const postgres = usePostgresCluster();

type Body = Record<string, unknown>;

describe("stuck and anomaly alarms from the job history, on the local runtime", () => {
  let app: LocalApp;
  let host: RunningHost;
  let instanceName = "";
  // Timers are scheduled on a clock that never moves: the watcher runs only when the test runs it.
  const clock = new ManualClock(new Date());

  const outboxEmail = (eventId: string) =>
    path.join(app.stateDir, "notifications", "outbox", `email-${eventId}.eml`);
  /** What the reader of an outbox email sees: its subject and text. */
  const emailText = async (eventId: string) => {
    const message = parseMimeMessage(await readFile(outboxEmail(eventId), "utf8"));
    return `${message.subject}\n${message.text ?? ""}`;
  };
  const eventId = (...parts: string[]) => stableUuid(parts);
  /** The subjects of every email in the outbox. */
  const outboxSubjects = async () => {
    const folder = path.join(app.stateDir, "notifications", "outbox");
    const files = (await readdir(folder)).filter((name) => name.startsWith("email-"));
    return Promise.all(
      files.map(
        async (name) => parseMimeMessage(await readFile(path.join(folder, name), "utf8")).subject,
      ),
    );
  };
  const jobEventId = (jobId: string, status: string) =>
    eventId("PgProtect.Backup.JobStateChanged", jobId.toLowerCase(), status);

  const runWatcher = async () => {
    const response = await fetch(`${host.url}/admin/functions/timerWatchJobs`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-functions-key": host.keys.masterKey,
      },
      body: "{}",
    });
    expect(response.status).toBe(202);
    await host.timers.idle();
  };

  /** Runs watcher passes until `seen` holds; answers whether it does. */
  const watchUntil = async (seen: () => boolean | Promise<boolean>) =>
    poll(
      async () => {
        if (await seen()) return true;
        await runWatcher();
        return seen();
      },
      (found) => found,
      150_000,
    );
  /** Runs watcher passes until the outbox holds the email of `id`; answers whether it does. */
  const watchUntilEmail = (id: string) => watchUntil(() => existsSync(outboxEmail(id)));

  const backUp = async (): Promise<Body> => {
    const started = await app.api("POST", `backup-instances/${instanceName}/backups`, {
      ruleName: "BackupWeekly",
    });
    expect(started.status).toBe(202);
    return started.body;
  };

  const jobOf = (jobId: string) => app.api("GET", `jobs/${encodeURIComponent(jobId)}`);

  beforeAll(async () => {
    await postgres.query("postgres", "CREATE DATABASE demo");
    await postgres.query(
      "demo",
      `CREATE TABLE items (id int PRIMARY KEY, note text);
       INSERT INTO items SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 20000) g`,
    );
    app = await startLocalApp({
      postgres,
      name: "e2e-alarms",
      secrets: { demo: postgres.cluster.connectionUrl("demo") },
      policies: { weekly: weeklyPolicy },
      timers: true,
      clock,
      settings: { STUCK_JOB_FLOOR_MINUTES: "1", STUCK_JOB_CEILING_HOURS: "2" },
      eventGrid: { ...committedEventGrid(), timeScale: 0.001 },
    });
    host = app.host;
    const started = await app.api("POST", "protections", {
      serverName: "local",
      databaseName: "demo",
      policyName: "weekly",
      secretUri: app.secretUris.demo,
    });
    const done = await poll(
      () => app.api("GET", `protections/${String(started.body.id)}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
    );
    expect(done.body).toMatchObject({ status: "Completed" });
    instanceName = String(done.body.backupInstanceName);
  }, 180_000);

  afterAll(async () => {
    await app?.stop();
  });

  it("raises one Backup.Anomaly, with both sizes, for a backup taken after most rows were deleted", async () => {
    // Arrange: a backup of the full table, recorded by a watcher pass.
    const first = await backUp();
    const firstJob = await poll(
      () => jobOf(String(first.jobId)),
      (r) => r.body.status !== "InProgress",
    );
    expect(firstJob.body.status).toBe("Completed");
    expect(await watchUntilEmail(jobEventId(String(firstJob.body.id), "Completed"))).toBe(true);

    // Act: most rows go, and the next backup is taken and seen by the watcher.
    await postgres.query("demo", "DELETE FROM items WHERE id > 500");
    const second = await backUp();
    const secondJob = await poll(
      () => jobOf(String(second.jobId)),
      (r) => r.body.status !== "InProgress",
    );
    const anomalyId = eventId("PgProtect.Backup.Anomaly", String(secondJob.body.id).toLowerCase());
    const raised = await watchUntilEmail(anomalyId);
    await runWatcher();

    // Assert
    expect(raised).toBe(true);
    const email = await emailText(anomalyId);
    expect(email).toContain("Backup anomaly");
    expect(email).toMatch(/Size down to \d+(\.\d)? % of the usual/);
    expect(email).toMatch(/Size:\s+[\d.]+ (B|KiB|MiB) against a usual [\d.]+ (KiB|MiB)/);
    expect(
      (await outboxSubjects()).filter((subject) => subject.includes("Backup anomaly")),
    ).toHaveLength(1);
    const anomalies = (await app.api("GET", `jobs?instance=${instanceName}`)).body.value as Body[];
    expect(anomalies.map((job) => job.status)).toEqual(["Completed", "Completed"]);
  }, 240_000);

  it("raises one Job.Stuck for a backup held by a lock past its expected time, and reports its end as a stuck backup's", async () => {
    // Arrange: a session holds an ACCESS EXCLUSIVE lock, so pg_dump waits on the table.
    const locker = new pg.Client({ connectionString: postgres.cluster.connectionUrl("demo") });
    await locker.connect();
    try {
      await locker.query("BEGIN");
      await locker.query("LOCK TABLE items IN ACCESS EXCLUSIVE MODE");
      const hung = await backUp();
      const jobId = String((await jobOf(String(hung.jobId))).body.id);
      // The app's history, read beside it as a second connection to its file.
      const history = await openSqliteJobHistory(app.stateDir);
      const recordedRunning = await watchUntil(async () =>
        (await history.runningJobs()).some((job) => job.id === jobId),
      );
      history.close();
      expect(recordedRunning).toBe(true);
      const stuckId = eventId("PgProtect.Job.Stuck", jobId.toLowerCase());

      // Act: the watcher runs until the job has been held past its floor of one minute, then again.
      const raised = await watchUntilEmail(stuckId);
      await runWatcher();
      await locker.query("ROLLBACK");
      const ended = await poll(
        () => jobOf(jobId),
        (r) => r.body.status !== "InProgress",
      );
      const endId = jobEventId(jobId, String(ended.body.status));
      const endReported = await watchUntilEmail(endId);

      // Assert
      expect(raised).toBe(true);
      const stuck = await emailText(stuckId);
      expect(stuck).toContain("Backup stuck");
      expect(stuck).toMatch(/Expected within:\s+1 min \(the configured floor\)/);
      expect(
        (await outboxSubjects()).filter((subject) => subject.includes("Backup stuck")),
      ).toHaveLength(1);
      expect(endReported).toBe(true);
      const end = await emailText(endId);
      expect(end).toContain("Stuck backup completed");
      expect(end).toContain("Reported stuck");
    } finally {
      await locker.end();
    }
  }, 240_000);
});
