/**
 * `POST /api/alerts` on the local runtime: Azure Monitor's action-group webhook, fed with the
 * common-schema notifications of Azure Backup's alerts (`test/fixtures/alerts/`), reaches a real
 * SMTP server and a real Teams webhook once per alert, and once per failed job together with the
 * job's own event; it refuses callers without the function key, bodies that are too large or
 * not JSON, and payloads outside the schema.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningHost } from "@pgprotect/functions-runtime";
import { adaptiveCardProblems, visibleTexts } from "../support/adaptiveCard.js";
import {
  committedEventGrid,
  defaultVaultId,
  operationEnded,
  startLocalApp,
  weeklyPolicy,
  type LocalApp,
} from "../support/localApp.js";
import { alertFixture, alertFixtureText } from "../support/monitorAlerts.js";
import {
  dbaEmailAndOpsTeamsChannels,
  smtpEmailSettings,
  startSmtpServer,
  startWebhookServer,
  type TestSmtpServer,
  type TestWebhookServer,
} from "../support/notificationServers.js";
import { poll } from "../support/poll.js";
import { usePostgresCluster } from "../support/postgres.js";

const postgres = usePostgresCluster();

describe("Azure Monitor alerts posted to the app", () => {
  let app: LocalApp;
  let host: RunningHost;
  let smtp: TestSmtpServer;
  let webhook: TestWebhookServer;
  const hostLog: string[] = [];

  beforeAll(async () => {
    await postgres.query("postgres", "CREATE DATABASE ledger");
    await postgres.query(
      "ledger",
      "CREATE TABLE entries (id int PRIMARY KEY); INSERT INTO entries SELECT generate_series(1, 50)",
    );
    smtp = await startSmtpServer();
    webhook = await startWebhookServer();
    app = await startLocalApp({
      postgres,
      name: "e2e-alerts",
      secrets: { ledger: postgres.cluster.connectionUrl("ledger") },
      policies: { weekly: weeklyPolicy },
      log: (line) => hostLog.push(line),
      settings: {
        NOTIFICATION_SETTINGS: JSON.stringify({
          channels: dbaEmailAndOpsTeamsChannels,
          rules: [
            {
              name: "failed-jobs",
              match: {
                eventTypes: ["PgProtect.Backup.JobStateChanged", "PgProtect.Alert.JobFailed"],
                jobStatuses: ["Failed"],
              },
              channels: ["dba-email", "ops-teams"],
            },
            {
              name: "security",
              match: { eventTypes: ["PgProtect.Alert.Security"] },
              channels: ["dba-email", "ops-teams"],
            },
          ],
        }),
        TEAMS_WEBHOOK_URL: webhook.url,
        ...smtpEmailSettings(smtp),
      },
      eventGrid: { ...committedEventGrid(), timeScale: 0.001 },
    });
    host = app.host;
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
    await smtp?.close();
    await webhook?.close();
  });

  /** Posts a body to `/api/alerts` as an action group does, the key in the URL. */
  async function postAlert(
    body: string,
    options: { key?: string | null; contentType?: string } = {},
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const key = options.key === undefined ? host.functionKey : options.key;
    const url = `${host.url}/api/alerts${key === null ? "" : `?code=${encodeURIComponent(key)}`}`;
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": options.contentType ?? "application/json" },
      body,
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>),
    };
  }

  it("routes Azure Backup's security alert to Teams and email once, though Azure posts it twice", async () => {
    // Arrange
    const body = alertFixtureText("delete-backup-data", { vaultId: defaultVaultId });
    const mailsBefore = smtp.received.length;
    const cardsBefore = webhook.received.length;

    // Act
    const first = await postAlert(body);
    const retried = await postAlert(body);

    // Assert
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      status: "routed",
      eventType: "PgProtect.Alert.Security",
      deliveries: [
        { channelId: "dba-email", result: "sent" },
        { channelId: "ops-teams", result: "sent" },
      ],
    });
    expect(retried.body).toMatchObject({
      status: "routed",
      deliveries: [
        { channelId: "dba-email", result: "duplicate" },
        { channelId: "ops-teams", result: "duplicate" },
      ],
    });
    const mail = await smtp.next();
    expect(mail.subject).toBe(
      "[pgprotect] Security alert: Delete Backup Data: pg-sales/ledger (pgprotect-vault)",
    );
    const card = JSON.parse((await webhook.next()).body);
    expect(adaptiveCardProblems(card)).toEqual([]);
    expect(visibleTexts(card).join("\n")).toContain("Delete Backup Data");
    expect(smtp.received).toHaveLength(mailsBefore + 1);
    expect(webhook.received).toHaveLength(cardsBefore + 1);
    expect(hostLog.join("\n")).toContain("PgProtect.MonitorAlert.Routed");
  });

  it("acknowledges the documentation's sample, which is no Azure Backup alert, and sends nothing", async () => {
    const mailsBefore = smtp.received.length;

    const answer = await postAlert(alertFixtureText("common-schema-sample"));

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: "ignored" });
    expect(smtp.received).toHaveLength(mailsBefore);
  });

  it("sends one message for a failed backup whose job event and Azure Monitor alert both arrive", async () => {
    // Arrange: a protected database whose credentials stop working, so that its backup fails.
    const started = await app.api("POST", "protections", {
      serverName: "local",
      databaseName: "ledger",
      policyName: "weekly",
      secretUri: app.secretUris.ledger,
    });
    const protection = await poll(
      () => app.api("GET", `protections/${String(started.body.id)}`),
      operationEnded,
    );
    expect(protection.body.status).toBe("Completed");
    const refused = new URL(postgres.cluster.connectionUrl("ledger"));
    refused.username = "nobody";
    refused.password = "wrong";
    await app.provider.secrets.setSecret("ledger", refused.toString());
    const mailsBefore = smtp.received.length;

    // Act: the backup fails and the app tells of it; then Azure Backup's alert of the same job.
    const backup = await app.api(
      "POST",
      `backup-instances/${String(protection.body.backupInstanceName)}/backups`,
      { ruleName: "BackupWeekly" },
    );
    expect(backup.status).toBe(202);
    const jobMail = await smtp.next();
    await webhook.next();
    // The job event's delivery is recorded once Event Grid's call has returned.
    await host.topics.whenIdle();
    const failed = await app.api("GET", "jobs?status=Failed");
    const job = (failed.body.value as { name: string; id: string }[])[0];
    const answer = await postAlert(
      alertFixtureText("backup-failure", {
        vaultId: defaultVaultId,
        jobName: job?.name ?? "missing",
      }),
    );
    await host.topics.whenIdle();

    // Assert
    expect(jobMail.subject).toContain("Backup failed");
    expect(answer.body).toMatchObject({
      status: "routed",
      eventType: "PgProtect.Backup.JobStateChanged",
      deliveries: [
        { channelId: "dba-email", result: "duplicate" },
        { channelId: "ops-teams", result: "duplicate" },
      ],
    });
    expect(smtp.received).toHaveLength(mailsBefore + 1);
  }, 120_000);

  it("refuses a caller without the function key, or with a wrong one", async () => {
    const body = alertFixtureText("soft-delete-disabled", { vaultId: defaultVaultId });

    const withoutKey = await postAlert(body, { key: null });
    const wrongKey = await postAlert(body, { key: "not-the-key" });

    expect(withoutKey.status).toBe(401);
    expect(wrongKey.status).toBe(401);
    expect(
      smtp.received.filter((mail) => mail.subject.includes("Soft Delete Disabled")),
    ).toHaveLength(0);
  });

  it("answers 413 to a body beyond the limit, 415 to one that is not JSON and 400 to one outside the schema", async () => {
    const huge = JSON.stringify({
      ...(alertFixture("delete-backup-data", { vaultId: defaultVaultId }) as object),
      padding: "x".repeat(1_100_000),
    });
    const notSchema = JSON.stringify({ schemaId: "azureMonitorCommonAlertSchema", data: {} });

    const tooLarge = await postAlert(huge);
    const notJson = await postAlert("alert!", { contentType: "text/plain" });
    const invalid = await postAlert(notSchema);

    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toMatchObject({ code: "REQUEST_BODY_TOO_LARGE" });
    expect(notJson.status).toBe(415);
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ code: "ALERT_INVALID" });
  });
});
