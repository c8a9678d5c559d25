/**
 * Restore drills on the local runtime: a drill fired by its schedule (the drill timer run through
 * the admin API, timers held on a clock that never moves), one started on demand, one that waits
 * its turn behind DRILL_MAX_CONCURRENT others, one of a corrupted recovery point, and one whose
 * orchestration is gone (ended by the drill timer). Each restores into a scratch database on the
 * private cluster, verifies, drops the scratch database and notifies a real SMTP server and a real
 * Teams webhook.
 */
import { appendFile, readdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock, type RunningHost } from "@pgprotect/functions-runtime";
import {
  committedEventGrid,
  startLocalApp,
  weeklyPolicy,
  type LocalApp,
} from "../support/localApp.js";
import {
  dbaEmailAndOpsTeamsChannels,
  smtpEmailSettings,
  startSmtpServer,
  startWebhookServer,
  type ReceivedMail,
  type ReceivedRequest,
  type TestSmtpServer,
  type TestWebhookServer,
} from "../support/notificationServers.js";
import { runPgprotect } from "../support/hostProcess.js";
import { poll } from "../support/poll.js";
import { scratchDatabaseName, type DrillRecord } from "../../src/domain/drills/drill.js";
import { openSqliteDrillHistory } from "../../src/providers/history/sqliteDrillHistory.js";
import { usePostgresCluster } from "../support/postgres.js";

const postgres = usePostgresCluster();

type Body = Record<string, unknown>;

describe("restore drills on the local runtime", () => {
  let app: LocalApp;
  let host: RunningHost;
  let smtp: TestSmtpServer;
  let teams: TestWebhookServer;
  let instanceName = "";
  const clock = new ManualClock(new Date());

  /** The first mail (arrived or to come) that `matches`. */
  const mailMatching = async (matches: (mail: ReceivedMail) => boolean) => {
    for (;;) {
      const found = smtp.received.find(matches);
      if (found) return found;
      await smtp.next();
    }
  };
  /** The first Teams post (arrived or to come) that `matches`. */
  const postMatching = async (matches: (request: ReceivedRequest) => boolean) => {
    for (;;) {
      const found = teams.received.find(matches);
      if (found) return found;
      await teams.next();
    }
  };
  const scratchDatabases = async () =>
    (
      await postgres.query<{ datname: string }>(
        "postgres",
        "SELECT datname FROM pg_database WHERE datname LIKE 'pgprotect\\_drill\\_%'",
      )
    ).map((row) => row.datname);
  const drillEnded = (id: string) =>
    poll(
      () => app.api("GET", `drills/${encodeURIComponent(id)}`),
      (r) => r.status === 200 && r.body.verdict !== "InProgress",
      120_000,
    );
  const runDrillTimer = async () => {
    const response = await fetch(`${host.url}/admin/functions/timerRestoreDrills`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-functions-key": host.keys.masterKey },
      body: "{}",
    });
    expect(response.status).toBe(202);
    await host.timers.idle();
  };

  beforeAll(async () => {
    await postgres.query("postgres", "CREATE DATABASE ledger");
    await postgres.query(
      "ledger",
      `CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL);
       CREATE TABLE entries (id bigserial PRIMARY KEY, account int REFERENCES accounts, amount numeric(12,2));
       INSERT INTO accounts SELECT g, 'owner ' || g FROM generate_series(1, 200) g;
       INSERT INTO entries (account, amount) SELECT 1 + g % 200, g * 1.25 FROM generate_series(1, 5000) g;`,
    );
    smtp = await startSmtpServer();
    teams = await startWebhookServer();
    app = await startLocalApp({
      postgres,
      name: "e2e-drills",
      secrets: { ledger: postgres.cluster.connectionUrl("ledger") },
      policies: { weekly: weeklyPolicy },
      timers: true,
      clock,
      settings: {
        // Hourly, with the default hour of catch-up: whenever the test runs the drill timer, this
        // hour's occurrence is due.
        DRILL_SCHEDULES: JSON.stringify([
          { name: "nightly", schedule: "0 0 * * * *", select: { policies: ["weekly"] } },
        ]),
        NOTIFICATION_SETTINGS: JSON.stringify({
          channels: dbaEmailAndOpsTeamsChannels,
          rules: [
            {
              name: "drills",
              match: { eventTypes: ["PgProtect.Restore.*"] },
              channels: ["dba-email", "ops-teams"],
            },
          ],
        }),
        TEAMS_WEBHOOK_URL: teams.url,
        ...smtpEmailSettings(smtp),
      },
      eventGrid: { ...committedEventGrid(), timeScale: 0.001 },
    });
    host = app.host;
    const started = await app.api("POST", "protections", {
      serverName: "local",
      databaseName: "ledger",
      policyName: "weekly",
      secretUri: app.secretUris.ledger,
    });
    const done = await poll(
      () => app.api("GET", `protections/${String(started.body.id)}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
    );
    expect(done.body.status).toBe("Completed");
    instanceName = String(done.body.backupInstanceName);
    const backup = await app.api("POST", `backup-instances/${instanceName}/backups`, {
      ruleName: "BackupWeekly",
    });
    const backedUp = await poll(
      () => app.api("GET", String(backup.body.statusUrl)),
      (r) => r.body.status !== "InProgress",
    );
    expect(backedUp.body.status).toBe("Completed");
  }, 180_000);

  afterAll(async () => {
    await app?.stop();
    await smtp?.close();
    await teams?.close();
  });

  it("fires a drill on its schedule that restores, verifies every row, drops its scratch database and notifies email and Teams", async () => {
    // Act: the drill timer runs, and runs again (the same occurrence starts nothing new).
    await runDrillTimer();
    await runDrillTimer();
    const listed = await poll(
      () => app.api("GET", `drills?instance=${instanceName}`),
      (r) => Array.isArray(r.body.value) && (r.body.value as Body[]).length > 0,
    );
    const drillId = String((listed.body.value as Body[])[0]?.id);
    const drill = await drillEnded(drillId);
    const mail = await mailMatching((m) => m.subject.includes("Restore drill succeeded"));
    const card = await postMatching((r) => r.body.includes("Restore drill succeeded"));
    const instance = await app.api("GET", `backup-instances/${instanceName}`);

    // Assert
    expect(drill.body).toMatchObject({
      id: drillId,
      backupInstanceName: instanceName,
      schedule: "nightly",
      requestedBy: "schedule:nightly",
      verdict: "Succeeded",
      error: null,
      scratchRemoved: true,
      verification: { verified: true, tables: 2, rows: 5200, mismatches: [] },
    });
    expect(drill.body.timeToRestoreSeconds).toEqual(expect.any(Number));
    const scheduled = await app.api("GET", "drills?schedule=nightly");
    expect((scheduled.body.value as Body[]).map((d) => d.id)).toEqual([drillId]);
    expect(await scratchDatabases()).toEqual([]);
    expect(mail.recipients).toEqual(["dba@contoso.example"]);
    expect(mail.text).toContain("Restored and verified");
    expect(mail.text).toContain("2 tables, 5200 rows");
    expect(card.body).toContain("ledger");
    expect(instance.body.lastDrill).toMatchObject({ id: drillId, verdict: "Succeeded" });
  }, 180_000);

  it("starts a drill on demand with a status URL, refuses a second while it runs, and ends it verified", async () => {
    // Act
    const started = await app.api("POST", `backup-instances/${instanceName}/drills`);
    const second = await app.api("POST", `backup-instances/${instanceName}/drills`);
    const ended = await poll(
      () => app.api("GET", String(started.body.statusUrl)),
      (r) => r.status === 200 && r.body.verdict !== "InProgress",
      120_000,
    );

    // Assert
    expect(started.status).toBe(202);
    expect(started.headers.get("location")).toBe(started.body.statusUrl);
    expect(Object.keys(started.body).sort()).toEqual(
      ["backupInstanceName", "id", "scratchTarget", "statusUrl", "vaultName"].sort(),
    );
    expect(String(started.body.scratchTarget)).toMatch(/^pgprotect_drill_[0-9a-f]{24}$/);
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ code: "DRILL_RUNNING" });
    expect(ended.body).toMatchObject({
      id: started.body.id,
      schedule: null,
      verdict: "Succeeded",
      scratchRemoved: true,
      state: "ended",
    });
    expect(await scratchDatabases()).toEqual([]);
  }, 180_000);

  it("drills an instance from the command line, waits for the verdict and lists it with its time to restore", async () => {
    // Arrange
    const env = { PATH: process.env.PATH, PGPROTECT_STATE_DIR: app.stateDir };

    // Act
    const drilled = await runPgprotect(["drill", instanceName, "--wait", "--interval", "0.2"], env);
    const listed = await runPgprotect(["drills", "--instance", instanceName], env);
    const json = await runPgprotect(["drills", "--output", "json", "--top", "1"], env);

    // Assert
    expect(drilled.code, drilled.output).toBe(0);
    expect(drilled.stdout).toMatch(/verdict\s+Succeeded/);
    expect(drilled.stdout).toMatch(/time to restore\s+[\d.]+ s/);
    expect(listed.code, listed.output).toBe(0);
    expect(listed.stdout).toMatch(/^STARTED\s+INSTANCE\s+VERDICT\s+TIME TO RESTORE\s+SCHEDULE/m);
    expect(listed.stdout).toContain("on demand");
    expect(listed.stdout).toContain("nightly");
    const [latest] = (JSON.parse(json.stdout) as { value: Body[] }).value;
    expect(latest).toMatchObject({ backupInstanceName: instanceName, verdict: "Succeeded" });
  }, 180_000);

  it("says a drill on demand waits its turn while DRILL_MAX_CONCURRENT drills run, then runs it once one ended", async () => {
    // Arrange: two drills of other instances (as many as the default DRILL_MAX_CONCURRENT) run
    // since a minute ago.
    const [last] = (await app.api("GET", `drills?instance=${instanceName}&top=1`)).body
      .value as Body[];
    const history = await openSqliteDrillHistory(app.stateDir);
    const known = (await history.getDrill(String(last?.id))) as DrillRecord;
    const others = ["one", "two"].map((name): DrillRecord => ({
      id: `drill-ondemand-other-${name}-20260101t000000z-0000000`,
      backupInstanceId: `${known.backupInstanceId}-other-${name}`,
      backupInstanceName: `${known.backupInstanceName}-other-${name}`,
      friendlyName: `local/other-${name}`,
      vaultName: known.vaultName,
      datasourceId: known.datasourceId,
      datasourceName: known.datasourceName,
      verdict: "InProgress",
      startTime: new Date(Date.now() - 60_000).toISOString(),
      scratchTarget: scratchDatabaseName(`other-${name}`),
    }));
    for (const other of others) await history.beginDrill(other);

    try {
      // Act
      const started = await app.api("POST", `backup-instances/${instanceName}/drills`);
      const waiting = await poll(
        () => app.api("GET", String(started.body.statusUrl)),
        (r) => r.status === 200 && r.body.state !== "running",
        60_000,
      );
      const [first] = others;
      if (first) {
        await history.finishDrill({
          ...first,
          verdict: "Succeeded",
          endTime: new Date().toISOString(),
          scratchRemoved: true,
        });
      }
      const ended = await drillEnded(String(started.body.id));

      // Assert
      expect(waiting.body).toMatchObject({ verdict: "InProgress", state: "waitingForTurn" });
      expect(ended.body).toMatchObject({ verdict: "Succeeded", state: "ended" });
    } finally {
      for (const other of others) {
        await history.finishDrill({
          ...other,
          verdict: "Failed",
          endTime: new Date().toISOString(),
          scratchRemoved: true,
        });
      }
      history.close();
    }
  }, 180_000);

  it("fails the drill of a corrupted recovery point, leaves no scratch database and notifies once", async () => {
    // Arrange: the latest recovery point's dump gains a byte on disk.
    const folder = path.join(app.stateDir, "vaults", "pgprotect-vault", "VaultStore", instanceName);
    const [point] = (await readdir(folder)).sort().slice(-1);
    const files = (await readdir(path.join(folder, String(point)))).filter(
      (name) => name !== "manifest.json",
    );
    await appendFile(path.join(folder, String(point), String(files[0])), "x");

    // Act
    const started = await app.api("POST", `backup-instances/${instanceName}/drills`);
    const ended = await drillEnded(String(started.body.id));
    const mail = await mailMatching((m) => m.subject.includes("Restore drill failed"));
    await postMatching((r) => r.body.includes("Restore drill failed"));
    await host.topics.whenIdle();

    // Assert
    expect(ended.body).toMatchObject({
      verdict: "Failed",
      error: { code: "RECOVERY_POINT_CORRUPT" },
      scratchRemoved: true,
    });
    expect(mail.text).toContain("Not proven restorable");
    expect(smtp.received.filter((m) => m.subject.includes("Restore drill failed"))).toHaveLength(1);
    expect(teams.received.filter((r) => r.body.includes("Restore drill failed"))).toHaveLength(1);
    expect(await scratchDatabases()).toEqual([]);
    const failed = await app.api("GET", `drills?verdict=Failed&instance=${instanceName}`);
    expect((failed.body.value as Body[]).map((d) => d.id)).toEqual([started.body.id]);
  }, 180_000);

  it("ends a drill whose orchestration is gone as failed, drops its scratch database and notifies once", async () => {
    // Arrange: a drill recorded as running an hour ago whose orchestration was lost (no instance
    // runs under its id), with the scratch database it had created.
    const [last] = (await app.api("GET", `drills?instance=${instanceName}&top=1`)).body
      .value as Body[];
    const history = await openSqliteDrillHistory(app.stateDir);
    const known = await history.getDrill(String(last?.id));
    const id = "drill-ondemand-lost-20260101t000000z-0000000";
    const lost: DrillRecord = {
      ...(known as DrillRecord),
      id,
      verdict: "InProgress",
      startTime: new Date(Date.now() - 3_600_000).toISOString(),
      scratchTarget: scratchDatabaseName(id),
    };
    for (const key of ["endTime", "timeToRestoreMs", "verification", "error", "scratchRemoved"])
      delete (lost as unknown as Body)[key];
    await history.beginDrill(lost);
    history.close();
    await postgres.query("postgres", `CREATE DATABASE ${lost.scratchTarget}`);
    const failedMails = () =>
      smtp.received.filter((m) => m.subject.includes("Restore drill failed")).length;
    const mailsBefore = failedMails();

    // Act
    await runDrillTimer();
    const ended = await drillEnded(id);
    await mailMatching(
      (m) =>
        m.subject.includes("Restore drill failed") && (m.text ?? "").includes("DRILL_ABANDONED"),
    );
    await runDrillTimer();
    await host.topics.whenIdle();

    // Assert
    expect(ended.body).toMatchObject({
      verdict: "Failed",
      state: "ended",
      error: { code: "DRILL_ABANDONED" },
    });
    expect(String((ended.body.error as Body).message)).toMatch(
      /^The drill's orchestration is gone \(lost or purged\) and never recorded how the drill ended; ended as abandoned 1 hour after it began$/,
    );
    expect(await scratchDatabases()).not.toContain(lost.scratchTarget);
    expect(failedMails()).toBe(mailsBefore + 1);
  }, 180_000);
});
