import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningHost } from "@pgprotect/functions-runtime";
import { functionsApi, type ApiResponse } from "../support/functionsApi.js";
import {
  committedEventGrid,
  startLocalApp,
  weeklyPolicy,
  type LocalApp,
} from "../support/localApp.js";
import {
  smtpEmailSettings,
  startSmtpServer,
  type ReceivedMail,
  type TestSmtpServer,
} from "../support/notificationServers.js";
import { poll } from "../support/poll.js";
import { usePostgresCluster } from "../support/postgres.js";

const postgres = usePostgresCluster();

type Body = Record<string, unknown>;

describe("the protection lifecycle through the HTTP API on the local runtime", () => {
  let app: LocalApp;
  let host: RunningHost;
  let smtp: TestSmtpServer;
  let instanceName: string;

  const api = functionsApi(() => host);
  /** Follows a lifecycle answer to its operation's end. */
  const follow = (answer: ApiResponse) =>
    poll(
      () => api("GET", String(answer.body.statusUrl)),
      (r) => r.body.status !== "Running",
    );
  const instance = async () => (await api("GET", `backup-instances/${instanceName}`)).body;
  /** The first mail (already received or still to come) that `matches`. */
  const mailMatching = async (matches: (mail: ReceivedMail) => boolean) => {
    for (;;) {
      const found = smtp.received.find(matches);
      if (found) return found;
      await smtp.next();
    }
  };

  beforeAll(async () => {
    await postgres.query("postgres", "CREATE DATABASE ledger");
    await postgres.query(
      "ledger",
      "CREATE TABLE entries (id int PRIMARY KEY); INSERT INTO entries SELECT generate_series(1, 50)",
    );
    smtp = await startSmtpServer();
    app = await startLocalApp({
      postgres,
      name: "e2e-lifecycle",
      secrets: { ledger: postgres.cluster.connectionUrl("ledger") },
      policies: {
        weekly: weeklyPolicy,
        monthly: { ...weeklyPolicy, retention: { default: "P6M" } },
        flexible: { ...weeklyPolicy, datasourceType: "AzureDatabaseForPostgreSQLFlexibleServer" },
      },
      settings: {
        NOTIFICATION_SETTINGS: JSON.stringify({
          channels: [{ id: "dba-email", type: "email", to: ["dba@contoso.example"] }],
          rules: [
            {
              name: "lifecycle",
              match: {
                eventTypes: [
                  "PgProtect.Protection.Stopped",
                  "PgProtect.Protection.PolicyChanged",
                  "PgProtect.Protection.Deleted",
                ],
              },
              channels: ["dba-email"],
            },
          ],
        }),
        ...smtpEmailSettings(smtp),
      },
      eventGrid: { ...committedEventGrid(), timeScale: 0.001 },
    });
    host = app.host;
    const started = await api("POST", "protections", {
      serverName: "local",
      databaseName: "ledger",
      policyName: "weekly",
      secretUri: app.secretUris.ledger,
    });
    const done = await poll(
      () => api("GET", `protections/${String(started.body.id)}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
    );
    expect(done.body.status).toBe("Completed");
    instanceName = String(done.body.backupInstanceName);
    const backup = await api("POST", `backup-instances/${instanceName}/backups`, {
      ruleName: "BackupWeekly",
    });
    await poll(
      () => api("GET", String(backup.body.statusUrl)),
      (r) => r.body.status !== "InProgress",
    );
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
    await smtp?.close();
  });

  it("stops protection keeping the recovery points, answers a second stop as already done, and emails the DBAs once", async () => {
    const stopped = await api("POST", `backup-instances/${instanceName}/stop`, {
      deleteData: false,
    });
    const operation = await follow(stopped);
    const again = await api("POST", `backup-instances/${instanceName}/stop`, {
      deleteData: false,
    });
    const mail = await mailMatching((m) => m.subject.includes("Protection stopped"));
    await host.topics.whenIdle();

    expect(stopped.status).toBe(202);
    expect(stopped.headers.get("location")).toBe(stopped.body.statusUrl);
    expect(stopped.body).toMatchObject({
      action: "stop",
      outcome: "accepted",
      state: "ProtectionConfigured",
      targetState: "ProtectionStopped",
    });
    expect(operation.body).toMatchObject({ status: "Completed", state: "ProtectionStopped" });
    expect(await instance()).toMatchObject({
      protectionStatus: "ProtectionStopped",
      recoveryPointCount: 1,
      nextScheduledBackup: null,
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ outcome: "alreadyDone", operationId: null });
    expect(mail.recipients).toEqual(["dba@contoso.example"]);
    expect(mail.subject).toContain("ledger");
    expect(smtp.received.filter((m) => m.subject.includes("Protection stopped"))).toHaveLength(1);
  });

  it("refuses to suspend a stopped instance with a 409 naming the states it needs, then resumes it", async () => {
    const refused = await api("POST", `backup-instances/${instanceName}/suspend`);
    const resumed = await follow(await api("POST", `backup-instances/${instanceName}/resume`));

    expect(refused.status).toBe(409);
    expect(refused.headers.get("content-type")).toContain("application/problem+json");
    expect(refused.body).toMatchObject({ code: "PROTECTION_STATE_CONFLICT" });
    expect(String(refused.body.detail)).toContain("ProtectionConfigured");
    expect(resumed.body).toMatchObject({ status: "Completed", state: "ProtectionConfigured" });
    expect(await instance()).toMatchObject({ protectionStatus: "ProtectionConfigured" });
  });

  it("suspends the schedule: ad-hoc backups are refused while suspended, and resume brings them back", async () => {
    const suspended = await follow(await api("POST", `backup-instances/${instanceName}/suspend`));
    const backupWhileSuspended = await api("POST", `backup-instances/${instanceName}/backups`, {
      ruleName: "BackupWeekly",
    });
    const again = await api("POST", `backup-instances/${instanceName}/suspend`);
    const whileSuspended = await instance();
    const resumed = await follow(await api("POST", `backup-instances/${instanceName}/resume`));

    expect(suspended.body).toMatchObject({
      status: "Completed",
      state: "BackupSchedulesSuspended",
    });
    expect(backupWhileSuspended.status).toBe(400);
    expect(backupWhileSuspended.body.code).toBe("PROTECTION_NOT_CONFIGURED");
    expect(again.body).toMatchObject({ outcome: "alreadyDone" });
    expect(whileSuspended).toMatchObject({
      protectionStatus: "ProtectionStopped",
      protectionState: "BackupSchedulesSuspended",
      nextScheduledBackup: null,
    });
    expect(resumed.body).toMatchObject({ status: "Completed", state: "ProtectionConfigured" });
  });

  it("moves the instance to another policy, and refuses a policy for another datasource type or one the vault lacks without changing anything", async () => {
    const wrongType = await api("PUT", `backup-instances/${instanceName}/policy`, {
      policyName: "flexible",
    });
    const missing = await api("PUT", `backup-instances/${instanceName}/policy`, {
      policyName: "no-such-policy",
    });
    const moved = await follow(
      await api("PUT", `backup-instances/${instanceName}/policy`, { policyName: "monthly" }),
    );
    const same = await api("PUT", `backup-instances/${instanceName}/policy`, {
      policyName: "monthly",
    });
    const mail = await mailMatching((m) => m.subject.includes("Policy changed"));

    expect(wrongType.status).toBe(400);
    expect(wrongType.body.code).toBe("POLICY_DATASOURCE_TYPE_MISMATCH");
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe("POLICY_NOT_FOUND");
    expect(moved.body).toMatchObject({ status: "Completed", state: "ProtectionConfigured" });
    expect(await instance()).toMatchObject({ policy: { name: "monthly" } });
    expect(same.body).toMatchObject({ outcome: "alreadyDone" });
    expect(mail.text).toContain("weekly");
  });

  it("deletes the instance, lists it as deleted until its purge, and undeletes it stopped with its recovery points", async () => {
    const deleted = await follow(
      await api("POST", `backup-instances/${instanceName}/stop`, { deleteData: true }),
    );
    const gone = await api("GET", `backup-instances/${instanceName}`);
    const listed = await api("GET", "deleted-backup-instances");
    const deletedAgain = await api("DELETE", `backup-instances/${instanceName}`);
    const undeleted = await follow(await api("POST", `backup-instances/${instanceName}/undelete`));
    const unknown = await api("POST", "backup-instances/no-such-instance/undelete");

    expect(deleted.body).toMatchObject({ status: "Completed", state: "SoftDeleted" });
    expect(gone.status).toBe(404);
    const [entry] = listed.body.value as Body[];
    expect(entry).toMatchObject({ name: instanceName, undeletable: true, kind: "database" });
    expect(Date.parse(String(entry?.scheduledPurgeTime))).toBeGreaterThan(
      Date.parse(String(entry?.deletionTime)) + 13 * 86_400_000,
    );
    expect(deletedAgain.status).toBe(200);
    expect(deletedAgain.body).toMatchObject({ outcome: "alreadyDone" });
    expect(undeleted.body).toMatchObject({ status: "Completed", state: "ProtectionStopped" });
    expect(await instance()).toMatchObject({
      protectionStatus: "ProtectionStopped",
      recoveryPointCount: 1,
    });
    expect((await api("GET", "deleted-backup-instances")).body.value).toEqual([]);
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe("DELETED_BACKUP_INSTANCE_NOT_FOUND");
  });

  it("answers an unknown lifecycle operation with a 404 problem document", async () => {
    const missing = await api("GET", "lifecycle-operations/lifecycle-nothing-here");

    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe("LIFECYCLE_OPERATION_NOT_FOUND");
  });
});
