/**
 * Two app instances, as Azure Functions scales out to, delivering through one Table Storage table
 * (Azurite) to a real SMTP server and a real webhook: what one instance delivered, the other never
 * delivers again, and digests count both instances' deliveries.
 */
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../../../src/config.js";
import { parsePgProtectEvent } from "../../../../src/domain/events/schema.js";
import { createNotificationDependencies } from "../../../../src/notificationsComposition.js";
import {
  NotificationDispatcher,
  type DeliveryOutcome,
} from "../../../../src/providers/notifications/dispatcher.js";
import { SmtpEmailSender } from "../../../../src/providers/notifications/smtpEmailSender.js";
import { notificationTableName } from "../../../../src/providers/notifications/stateLocation.js";
import { TableDeliveryLog } from "../../../../src/providers/notifications/tableDeliveryLog.js";
import { TableIdempotencyStore } from "../../../../src/providers/notifications/tableIdempotencyStore.js";
import { NotificationTable } from "../../../../src/providers/notifications/tableStorage.js";
import { TeamsWebhookSender } from "../../../../src/providers/notifications/teamsWebhookSender.js";
import { NotificationDeliveryError } from "../../../../src/providers/notifications/types.js";
import { allEntities, uniqueTableName, useAzuriteTable } from "../../../support/azurite.js";
import { backupJob, failedJob, jobEvent, settings } from "../../../support/notificationFixtures.js";
import {
  startSmtpServer,
  startWebhookServer,
  type ScriptedResponse,
  type TestSmtpServer,
  type TestWebhookServer,
} from "../../../support/notificationServers.js";

const azurite = useAzuriteTable();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface TwoInstances {
  /** The instance that received the event first. */
  readonly a: NotificationDispatcher;
  /** Another instance of the same app: its own clients, the same table. */
  readonly b: NotificationDispatcher;
  readonly smtp: TestSmtpServer;
  readonly teams: TestWebhookServer;
  readonly clock: { now: Date };
}

async function twoInstances(
  options: { respond?: (index: number) => ScriptedResponse } = {},
): Promise<TwoInstances> {
  const smtp = await startSmtpServer();
  const teams = await startWebhookServer(options.respond);
  const tableName = uniqueTableName();
  const clock = { now: new Date("2026-11-20T22:05:00Z") };
  const emails: SmtpEmailSender[] = [];
  const instance = () => {
    // Each instance builds its own client and table handle, as separate processes would.
    const table = new NotificationTable({
      tableName,
      connect: () => azurite.service.client(tableName),
    });
    const email = new SmtpEmailSender({
      host: "127.0.0.1",
      port: smtp.port,
      // The test relay on the loopback offers no STARTTLS.
      allowPlaintext: true,
      from: "backup@contoso.example",
    });
    emails.push(email);
    return new NotificationDispatcher({
      settings: settings(),
      teams: new Map([["ops-teams", new TeamsWebhookSender({ url: teams.url, maxAttempts: 1 })]]),
      email,
      idempotency: new TableIdempotencyStore(table),
      log: new TableDeliveryLog(table),
      now: () => clock.now,
    });
  };
  const [a, b] = [instance(), instance()];
  cleanups.push(async () => {
    for (const email of emails) email.close();
    await smtp.close();
    await teams.close();
  });
  return { a, b, smtp, teams, clock };
}

/** An event as an Event Grid handler receives it: JSON, validated. */
/** The same datasource failing again a quarter of an hour later: a repeat the digest holds. */
function repeatedFailure() {
  const name = "6f1c2d3e-0000-4000-8000-000000000009";
  return failedJob("connection refused", {
    name,
    id: backupJob().id.replace(/[^/]+$/, name),
    endTime: "2026-11-20T22:15:00Z",
  });
}

function delivered(job = failedJob()) {
  return parsePgProtectEvent(JSON.parse(JSON.stringify(jobEvent(job))));
}

function resultsOf(outcomes: readonly DeliveryOutcome[]): string[][] {
  return outcomes.map((outcome) => [outcome.channelId, outcome.result]);
}

function rejections(settled: readonly PromiseSettledResult<unknown>[]): unknown[] {
  return settled.flatMap((result) => (result.status === "rejected" ? [result.reason] : []));
}

/** The rejections that Event Grid (or the next timer run) would retry. */
function retryableFailures(settled: readonly PromiseSettledResult<unknown>[]): unknown[] {
  return rejections(settled).filter(
    (reason) => reason instanceof NotificationDeliveryError && reason.retryable,
  );
}

describe("two instances sharing one Table Storage table", () => {
  it("notify once when Event Grid redelivers an event to the other instance", async () => {
    // Arrange
    const { a, b, smtp, teams } = await twoInstances();

    // Act
    const first = await a.dispatch(delivered());
    const redelivered = await b.dispatch(delivered());

    // Assert
    expect(resultsOf(first)).toEqual([
      ["ops-teams", "sent"],
      ["dba-email", "sent"],
    ]);
    expect(resultsOf(redelivered)).toEqual([
      ["ops-teams", "duplicate"],
      ["dba-email", "duplicate"],
    ]);
    expect(smtp.received).toHaveLength(1);
    expect(teams.received).toHaveLength(1);
  });

  it("notify once when both instances receive the same event at the same moment", async () => {
    // Arrange
    const { a, b, smtp, teams } = await twoInstances();

    // Act
    const settled = await Promise.allSettled([a.dispatch(delivered()), b.dispatch(delivered())]);
    const retried = await Promise.allSettled([a.dispatch(delivered()), b.dispatch(delivered())]);

    // Assert: an instance that lost a channel's claim failed retryably (Event Grid redelivers),
    // having sent nothing on that channel; each instance may win one channel and lose the other.
    expect(retryableFailures(settled)).toEqual(rejections(settled));
    expect(retried.map((result) => result.status)).toEqual(["fulfilled", "fulfilled"]);
    expect(smtp.received).toHaveLength(1);
    expect(teams.received).toHaveLength(1);
  });

  it("retry on the other instance only the channel that failed", async () => {
    // Arrange
    let teamsUp = false;
    const { a, b, smtp, teams } = await twoInstances({
      respond: () => (teamsUp ? { status: 202 } : { status: 503 }),
    });

    // Act
    const error = await a.dispatch(delivered()).catch((caught: unknown) => caught);
    teamsUp = true;
    const retry = await b.dispatch(delivered());

    // Assert
    expect(error).toMatchObject({ code: "NOTIFICATION_PARTIAL_FAILURE", retryable: true });
    expect(resultsOf(retry)).toEqual([
      ["ops-teams", "sent"],
      ["dba-email", "duplicate"],
    ]);
    expect(teams.received).toHaveLength(2);
    expect(smtp.received).toHaveLength(1);
  });

  it("hold a failure that repeats one the other instance sent, and flush one digest whichever instance's timer runs", async () => {
    // Arrange
    const { a, b, smtp, teams, clock } = await twoInstances();
    const secondJob = repeatedFailure();

    // Act
    await a.dispatch(delivered());
    clock.now = new Date("2026-11-20T22:15:00Z");
    const held = await b.dispatch(delivered(secondJob));
    clock.now = new Date("2026-11-20T23:05:00Z");
    const flushed = await a.flushDigests();
    const flushedAgain = await b.flushDigests();

    // Assert
    expect(resultsOf(held)).toEqual([
      ["ops-teams", "held"],
      ["dba-email", "held"],
    ]);
    expect(resultsOf(flushed)).toEqual([
      ["dba-email", "digest"],
      ["ops-teams", "digest"],
    ]);
    expect(flushedAgain).toEqual([]);
    expect(smtp.received.map((mail) => mail.subject)).toEqual([
      "[pgprotect] Backup failed: orders (vault-prod)",
      "[pgprotect] Digest: 1 failure of 1 datasource",
    ]);
    expect(teams.received).toHaveLength(2);
  });

  it("send a digest once when both instances flush it at the same moment", async () => {
    // Arrange
    const { a, b, smtp, teams, clock } = await twoInstances();
    const secondJob = repeatedFailure();
    await a.dispatch(delivered());
    clock.now = new Date("2026-11-20T22:15:00Z");
    await b.dispatch(delivered(secondJob));
    clock.now = new Date("2026-11-20T23:05:00Z");

    // Act
    const settled = await Promise.allSettled([a.flushDigests(), b.flushDigests()]);
    const later = await Promise.all([a.flushDigests(), b.flushDigests()]);

    // Assert
    expect(retryableFailures(settled)).toEqual(rejections(settled));
    expect(later).toEqual([[], []]);
    expect(smtp.received.filter((mail) => mail.subject.includes("Digest"))).toHaveLength(1);
    expect(teams.received).toHaveLength(2);
  });
});

describe("notification delivery built for Azure from the host storage settings", () => {
  it("keeps its state in the host storage account's table, so two app instances notify once", async () => {
    // Arrange
    const smtp = await startSmtpServer();
    const teams = await startWebhookServer();
    const taskHub = uniqueTableName("hub");
    const config = loadConfig({
      PGPROTECT_PROVIDER: "azure",
      AZURE_SUBSCRIPTION_ID: "11111111-2222-4333-8444-555555555555",
      EVENTGRID_TOPIC_ENDPOINT: "https://topic.example/api/events",
      TASKHUB_NAME: taskHub,
      AzureWebJobsStorage: azurite.service.connectionString,
      NOTIFICATION_SETTINGS: JSON.stringify({
        channels: settings().channels,
        rules: [{ name: "everything", channels: ["ops-teams", "dba-email"] }],
      }),
      EMAIL_PROVIDER: "smtp",
      SMTP_HOST: "127.0.0.1",
      SMTP_PORT: String(smtp.port),
      SMTP_ALLOW_PLAINTEXT: "true",
      EMAIL_SENDER_ADDRESS: "backup@contoso.example",
    });
    const lookup = (name: string) => (name === "TEAMS_OPS_WEBHOOK_URL" ? teams.url : undefined);
    const [first, second] = await Promise.all([
      createNotificationDependencies(config, { lookup }),
      createNotificationDependencies(config, { lookup }),
    ]);
    cleanups.push(async () => {
      first.close();
      second.close();
      await smtp.close();
      await teams.close();
    });

    // Act
    const sent = await first.dispatcher.dispatch(delivered());
    const redelivered = await second.dispatcher.dispatch(delivered());

    // Assert
    expect(resultsOf(sent).map(([, result]) => result)).toEqual(["sent", "sent"]);
    expect(resultsOf(redelivered).map(([, result]) => result)).toEqual(["duplicate", "duplicate"]);
    expect(smtp.received).toHaveLength(1);
    expect(teams.received).toHaveLength(1);
    const entities = await allEntities(azurite.service.client(notificationTableName(config)));
    expect(entities.filter((entity) => entity["state"] === "done")).toHaveLength(2);
    expect(entities.filter((entity) => entity["partitionKey"] === "log")).toHaveLength(2);
  });
});
