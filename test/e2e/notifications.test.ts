import { createRequire } from "node:module";
import type * as AdaptiveCards from "adaptivecards";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localTopicName } from "../../src/composition.js";
import { protectionFailedEvent } from "../../src/domain/events/builders.js";
import { createEventGridPublisher } from "../../src/providers/events/eventGridPublisher.js";
import type { LocalProvider } from "../../src/providers/local/index.js";
import type { RunningHost } from "@pgprotect/functions-runtime";
import { adaptiveCardProblems, factsOf, visibleTexts } from "../support/adaptiveCard.js";
import {
  committedEventGrid,
  defaultVaultId,
  startLocalApp,
  weeklyPolicy,
  type LocalApp,
} from "../support/localApp.js";
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

/** How many problems the Adaptive Cards library reports while parsing a Teams message's card. */
function cardParseEvents(message: unknown): number {
  const content = (message as { attachments?: { content?: unknown }[] }).attachments?.[0]?.content;
  const context = new adaptiveCards.SerializationContext();
  new adaptiveCards.AdaptiveCard().parse(content, context);
  return context.eventCount;
}

describe("notifications of a failed protection, through the local topic and the Event Grid trigger", () => {
  let app: LocalApp;
  let host: RunningHost;
  let smtp: TestSmtpServer;
  let webhook: TestWebhookServer;
  const hostLog: string[] = [];
  let provider: LocalProvider;
  let secretUri: string;
  const vaultId = defaultVaultId;

  const api = functionsApi(() => host);

  beforeAll(async () => {
    await postgres.query("postgres", "CREATE DATABASE payroll");
    await postgres.query("postgres", "CREATE DATABASE sales");
    await postgres.query(
      "sales",
      "CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders SELECT generate_series(1, 20)",
    );
    smtp = await startSmtpServer();
    // The first post is throttled for longer than the sender waits in-process: only Event Grid's redelivery gets the card through.
    webhook = await startWebhookServer((index) =>
      index === 0 ? { status: 429, headers: { "retry-after": "120" } } : { status: 202 },
    );
    app = await startLocalApp({
      postgres,
      name: "e2e-notify",
      secrets: { sales: postgres.cluster.connectionUrl("sales") },
      policies: { weekly: weeklyPolicy },
      timers: true,
      log: (line) => hostLog.push(line),
      settings: {
        NOTIFICATION_SETTINGS: JSON.stringify({
          channels: dbaEmailAndOpsTeamsChannels,
          rules: [
            {
              name: "protection-failures",
              match: { eventTypes: ["PgProtect.Protection.Failed"] },
              channels: ["dba-email", "ops-teams"],
            },
            {
              name: "finished-backups",
              match: {
                eventTypes: ["PgProtect.Backup.JobStateChanged"],
                jobStatuses: ["Completed"],
              },
              channels: ["dba-email"],
            },
          ],
        }),
        TEAMS_WEBHOOK_URL: webhook.url,
        ...smtpEmailSettings(smtp),
      },
      // The committed wiring that `npm start` uses, with Event Grid's retry schedule sped up.
      eventGrid: { ...committedEventGrid(), timeScale: 0.001 },
    });
    ({ host, provider } = app);
    secretUri = String(app.secretUris.sales);
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
    await smtp?.close();
    await webhook?.close();
  });

  it("emails the DBAs once, gets an Adaptive Card 1.4 into Teams through Event Grid's redelivery after a throttled post, and a redelivered event notifies no one again", async () => {
    // Act: a protection that fails in its orchestration: the database refuses the secret's credentials.
    const refused = new URL(postgres.cluster.connectionUrl("payroll"));
    refused.username = "nobody";
    refused.password = "wrong";
    const started = await api("POST", "protections", {
      serverName: "local",
      databaseName: "payroll",
      policyName: "weekly",
      secretUri: await provider.secrets.setSecret("payroll", refused.toString()),
    });
    const done = await poll(
      () => api("GET", `protections/${String(started.body.id)}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
    );
    const mail = await smtp.next();
    const throttled = await webhook.next();
    const card = await webhook.next();
    await host.topics.whenIdle();

    // Assert: what the DBAs and the Teams channel see.
    expect(done.body).toMatchObject({
      outcome: "Failed",
      error: { code: "MISSING_DB_PERMISSIONS" },
    });
    expect(mail.recipients).toEqual(["dba@contoso.example"]);
    expect(mail.mailFrom).toBe("pgprotect@contoso.example");
    expect(mail.subject).toContain("Protection failed");
    expect(mail.subject).toContain("payroll");
    expect(mail.text).toContain("MISSING_DB_PERMISSIONS");
    expect(throttled.body).toBe(card.body);
    const message = JSON.parse(card.body) as unknown;
    expect(adaptiveCardProblems(message)).toEqual([]);
    expect(cardParseEvents(message)).toBe(0);
    expect(visibleTexts(message).join("\n")).toContain("Protection failed");
    expect(Object.values(factsOf(message)).join("\n")).toContain("MISSING_DB_PERMISSIONS");
    expect(smtp.received).toHaveLength(1);
    expect(webhook.received).toHaveLength(2);

    // Act: Event Grid delivers the same event again.
    const datasourceId = String(started.body.datasourceId);
    const again = protectionFailedEvent(
      {
        datasourceId,
        vaultName: "pgprotect-vault",
        policyName: "weekly",
        operationId: String(started.body.id),
        error: {
          code: "MISSING_DB_PERMISSIONS",
          message: "The database refused the credentials",
        },
      },
      { source: "/pgprotect/pgprotect", time: new Date().toISOString() },
    );
    await createEventGridPublisher({
      endpoint: host.topics.endpoint(localTopicName),
      key: host.keys.eventGridTopicKey,
    }).publish([again]);
    await host.topics.whenIdle();

    // Assert: nobody hears of it twice, and the webhook's signature never reached a log.
    expect(smtp.received).toHaveLength(1);
    expect(webhook.received).toHaveLength(2);
    expect(hostLog.join("\n")).toContain(
      `Event ${again.id} (PgProtect.Protection.Failed): dba-email duplicate, ops-teams duplicate`,
    );
    expect(hostLog.join("\n")).not.toContain(webhook.signature);
  });

  it("reports a backup that pgprotect did not start, once, through the job watcher", async () => {
    // Arrange: a protected database, backed up behind pgprotect's back (as the schedule or the portal would).
    const started = await api("POST", "protections", {
      serverName: "local",
      databaseName: "sales",
      policyName: "weekly",
      secretUri,
    });
    const protectedDone = await poll(
      () => api("GET", `protections/${String(started.body.id)}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
    );
    const instanceName = String(protectedDone.body.backupInstanceName);
    const { jobId } = await provider.backup.triggerBackup(vaultId, instanceName, {
      ruleName: "BackupWeekly",
    });
    const job = await poll(
      () => provider.backup.getJob(vaultId, jobId),
      (j) => j.status !== "InProgress",
    );
    const mailsBefore = smtp.received.length;

    // Act: two ticks of the watcher's timer.
    await watcherTick();
    const mail = await smtp.next();
    const second = await watcherTick();
    await host.topics.whenIdle();

    // Assert
    expect(job.status).toBe("Completed");
    expect(mail.subject).toContain("Backup completed");
    expect(mail.subject).toContain("sales");
    expect(second.output).toMatchObject({ published: 0 });
    expect(smtp.received).toHaveLength(mailsBefore + 1);
  }, 60_000);

  /** The job watcher's last pass, as the Durable management API shows it. */
  async function watcherPass(): Promise<
    { runtimeStatus: string; input: unknown; output: unknown } | undefined
  > {
    const response = await fetch(
      `${host.url}/runtime/webhooks/durabletask/instances/pgprotect-job-watcher?taskHub=${host.taskHub}`,
      {
        headers: { "x-functions-key": host.keys.systemKeys.durabletask_extension },
      },
    );
    return response.status === 200
      ? ((await response.json()) as { runtimeStatus: string; input: unknown; output: unknown })
      : undefined;
  }

  /**
   * Runs the `timerWatchJobs` timer now and waits for the pass it starts to finish (the timer's
   * own schedule may start it first: either proves the same). A new pass is known by its input,
   * the state the previous pass returned.
   */
  async function watcherTick(): Promise<{ output: unknown }> {
    // A pass the schedule started is let finish first, so the tick below is not skipped for it.
    const last = await poll(
      watcherPass,
      (pass) => pass === undefined || pass.runtimeStatus === "Completed",
    );
    const before = JSON.stringify(last?.input ?? null);
    const invoked = await fetch(`${host.url}/admin/functions/timerWatchJobs`, {
      method: "POST",
      headers: { "x-functions-key": host.keys.masterKey, "content-type": "application/json" },
      body: "{}",
    });
    expect(invoked.status).toBe(202);
    const status = await poll(
      watcherPass,
      (pass) => pass?.runtimeStatus === "Completed" && JSON.stringify(pass.input) !== before,
    );
    expect(status?.runtimeStatus).toBe("Completed");
    return { output: status?.output };
  }
});
