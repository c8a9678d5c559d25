import { createRequire } from "node:module";
import type * as AdaptiveCards from "adaptivecards";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adaptiveCardProblems, factsOf, openUrls, visibleTexts } from "../support/adaptiveCard.js";
import { committedEventGrid, startLocalApp, type LocalApp } from "../support/localApp.js";
import {
  dbaEmailAndOpsTeamsChannels,
  smtpEmailSettings,
  startSmtpServer,
  startWebhookServer,
  type TestSmtpServer,
  type TestWebhookServer,
} from "../support/notificationServers.js";
import { usePostgresCluster } from "../support/postgres.js";
import { poll } from "../support/poll.js";
import { functionsApi } from "../support/functionsApi.js";

const postgres = usePostgresCluster();
// The library's bundled build is the one that loads in Node.
const adaptiveCards = createRequire(import.meta.url)(
  "adaptivecards/dist/adaptivecards.js",
) as typeof AdaptiveCards;

type Body = Record<string, unknown>;

/** How many problems the Adaptive Cards library reports while parsing a Teams message's card. */
function cardParseEvents(message: unknown): number {
  const content = (message as { attachments?: { content?: unknown }[] }).attachments?.[0]?.content;
  const context = new adaptiveCards.SerializationContext();
  new adaptiveCards.AdaptiveCard().parse(content, context);
  return context.eventCount;
}

// Every column type a restore could get wrong: text with accents, numeric, time zones, JSON,
// bytes, NULLs, arrays.
const customersSql = `
  SELECT id, name, balance::text, joined_at, profile, avatar, note, tags
  FROM customers ORDER BY id`;

describe("the whole flow on the local runtime, from a clean state", () => {
  let app: LocalApp;
  let smtp: TestSmtpServer;
  let webhook: TestWebhookServer;
  let secretUri: string;

  const api = functionsApi(() => app.host);

  beforeAll(async () => {
    smtp = await startSmtpServer();
    webhook = await startWebhookServer();
    app = await startLocalApp({
      postgres,
      name: "e2e-full",
      // No job watcher or schedule: every notification below comes from the ad-hoc backup's own events.
      timers: false,
      settings: {
        NOTIFICATION_SETTINGS: JSON.stringify({
          channels: dbaEmailAndOpsTeamsChannels,
          rules: [
            {
              name: "finished-backups",
              match: {
                eventTypes: ["PgProtect.Backup.JobStateChanged"],
                jobStatuses: ["Completed"],
              },
              channels: ["dba-email", "ops-teams"],
            },
          ],
        }),
        TEAMS_WEBHOOK_URL: webhook.url,
        ...smtpEmailSettings(smtp),
      },
      eventGrid: committedEventGrid(),
    });
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
    await smtp?.close();
    await webhook?.close();
  });

  it("protects a new database, backs it up under a rule, notifies by email and Teams, and restores every row", async () => {
    // Arrange: a real database with data, and its connection string as a secret (as
    // `pgprotect local secret set crm` stores it).
    await postgres.query("postgres", "CREATE DATABASE crm");
    await postgres.query(
      "crm",
      `CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, balance numeric(12,2),
         joined_at timestamptz, profile jsonb, avatar bytea, note text, tags text[]);
       INSERT INTO customers
         SELECT g, 'Zoë Łukasz ' || g, g * 10.05, timestamptz '2025-06-01 08:00+02' + g * interval '1 day',
                jsonb_build_object('tier', g % 3, 'since', 2000 + g % 20), decode(md5(g::text), 'hex'),
                CASE WHEN g % 5 = 0 THEN NULL ELSE 'note ' || g END, ARRAY['t' || g % 4, 'crm']
         FROM generate_series(1, 300) g`,
    );
    secretUri = await app.provider.secrets.setSecret("crm", postgres.cluster.connectionUrl("crm"));

    // Act: a policy, then the protection, followed to its end.
    const policy = await api("PUT", "vaults/pgprotect-vault/policies/crm-weekly", {
      spec: {
        datasourceType: "AzureDatabaseForPostgreSQL",
        schedule: { days: ["Sunday"], time: "22:00" },
        retention: { default: "P3M", monthly: { vault: "P12M" } },
      },
    });
    const protection = await api("POST", "protections", {
      serverName: "local",
      databaseName: "crm",
      policyName: "crm-weekly",
      secretUri,
    });
    const protectedDone = await poll(
      () => api("GET", String(protection.body.statusUrl)),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
    );

    // Assert
    expect(policy.status).toBe(201);
    expect(protection.status).toBe(202);
    expect(protection.headers.get("location")).toBe(protection.body.statusUrl);
    expect(protectedDone.body).toMatchObject({
      status: "Completed",
      outcome: "Protected",
      error: null,
    });
    const instanceName = String(protectedDone.body.backupInstanceName);
    const instance = await api("GET", `backup-instances/${instanceName}`);
    expect(instance.body).toMatchObject({
      friendlyName: "local/crm",
      protectionStatus: "ProtectionConfigured",
      policy: { name: "crm-weekly" },
      lastSuccessfulBackup: null,
    });

    // Act: an ad-hoc backup under the policy's backup rule, seen Completed in the job list.
    const backup = await api("POST", `backup-instances/${instanceName}/backups`, {
      ruleName: "BackupWeekly",
    });
    const jobId = String(backup.body.jobId);
    const completedJobs = await poll(
      () => api("GET", "jobs?status=Completed&operation=OnDemandBackup"),
      (r) => (r.body.value as Body[]).some((job) => job.id === jobId),
    );

    // Assert
    expect(backup.status).toBe(202);
    expect(backup.body).toMatchObject({ ruleName: "BackupWeekly", status: "InProgress" });
    const job = (completedJobs.body.value as Body[]).find((j) => j.id === jobId);
    expect(job).toMatchObject({
      status: "Completed",
      operation: "OnDemandBackup",
      dataSourceName: "crm",
      backupInstanceFriendlyName: "local/crm",
      vaultName: "pgprotect-vault",
    });

    // Act: the notifications of the completed job arrive at the real SMTP server and webhook.
    const mail = await smtp.next();
    const post = await webhook.next();
    await app.host.topics.whenIdle();

    // Assert: the email, both bodies.
    expect(mail.recipients).toEqual(["dba@contoso.example"]);
    expect(mail.mailFrom).toBe("pgprotect@contoso.example");
    expect(mail.subject).toContain("Backup completed");
    expect(mail.subject).toContain("crm");
    expect(mail.text).toContain("BackupWeekly");
    expect(mail.html).toContain("BackupWeekly");
    // Assert: the Teams message, an Adaptive Card 1.4 the Adaptive Cards library parses cleanly.
    expect(post.method).toBe("POST");
    expect(String(post.headers["content-type"])).toContain("application/json");
    const message = JSON.parse(post.body) as unknown;
    expect(adaptiveCardProblems(message)).toEqual([]);
    expect(cardParseEvents(message)).toBe(0);
    expect(visibleTexts(message).join("\n")).toContain("Backup completed");
    expect(factsOf(message)).toMatchObject({
      Status: "Completed",
      Datasource: "crm",
      Vault: "pgprotect-vault",
      "Backup rule": "BackupWeekly",
      Job: jobId.split("/").pop(),
    });
    expect(openUrls(message).join("\n")).toContain(jobId.split("/").pop());
    expect(Buffer.byteLength(post.body)).toBeLessThan(28 * 1024);
    // One message per channel: the job's InProgress state matched no rule.
    expect(smtp.received).toHaveLength(1);
    expect(webhook.received).toHaveLength(1);

    // Act: restore the backup into a new database over HTTP, followed to its end.
    const restore = await api("POST", `backup-instances/${instanceName}/restores`, {
      targetDatabaseName: "crm_restored",
    });
    const restoreDone = await poll(
      () => api("GET", String(restore.body.statusUrl)),
      (r) => r.status !== 200 || r.body.status !== "InProgress",
    );

    // Assert: verified by the provider, and equal row by row to the original.
    expect(restore.status).toBe(202);
    expect(restore.body).toMatchObject({ recoveryPointId: job?.recoveryPointId });
    expect(restoreDone.body).toMatchObject({
      status: "Completed",
      operation: "Restore",
      restoreVerification: { verified: true, rows: 300, mismatches: [] },
    });
    const original = await postgres.query("crm", customersSql);
    const restored = await postgres.query("crm_restored", customersSql);
    expect(restored).toHaveLength(300);
    for (const [index, row] of original.entries()) expect(restored[index]).toEqual(row);
  }, 60_000);
});
