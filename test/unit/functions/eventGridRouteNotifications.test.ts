import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { InvocationContext } from "@azure/functions";
import { afterEach, describe, expect, it } from "vitest";
import { eventGridFileSchema } from "../../../src/cli/hostCli.js";
import { localTopicName } from "../../../src/composition.js";
import { loadConfig } from "../../../src/config.js";
import { pgProtectEventTypes } from "../../../src/domain/events/types.js";
import type { TeamsMessage } from "../../../src/domain/notifications/teamsCard.js";
import { routeNotifications } from "../../../src/application/routeNotification.js";
import { invocationLogger } from "../../../src/observability/functionsLogger.js";
import { flushNotificationDigests } from "../../../src/functions/timerFlushNotificationDigests.js";
import {
  createNotificationDependencies,
  type NotificationDependencies,
} from "../../../src/notificationsComposition.js";
import { localDefaultRecipient } from "../../../src/providers/notifications/defaultSettings.js";
import { InMemoryDeliveryLog } from "../../../src/providers/notifications/deliveryLog.js";
import { NotificationDispatcher } from "../../../src/providers/notifications/dispatcher.js";
import { InMemoryIdempotencyStore } from "../../../src/providers/notifications/idempotencyStore.js";
import {
  NotificationDeliveryError,
  NotificationErrorCodes,
  type EmailSender,
  type OutgoingEmail,
  type TeamsSender,
} from "../../../src/providers/notifications/types.js";
import { backupJob, failedJob, jobEvent, settings } from "../../support/notificationFixtures.js";

const projectDir = path.resolve(import.meta.dirname, "../../..");

/** Records what it is asked to send; fails while `failures` lasts. */
class RecordingSender implements EmailSender, TeamsSender {
  readonly sent: (OutgoingEmail | TeamsMessage)[] = [];
  failures: NotificationDeliveryError[] = [];

  async send(message: OutgoingEmail | TeamsMessage): Promise<void> {
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.sent.push(message);
  }
}

function logged() {
  const lines: string[] = [];
  const context = new InvocationContext({
    functionName: "eventGridRouteNotifications",
    logHandler: (level, ...args) => lines.push(`${level}: ${args.map(String).join(" ")}`),
  });
  return { context, log: invocationLogger(context), lines };
}

function delivery(
  options: {
    now?: () => Date;
    digest?: { windowMinutes: number; maxMessagesPerWindow: number };
  } = {},
) {
  const teams = new RecordingSender();
  const email = new RecordingSender();
  const dispatcher = new NotificationDispatcher({
    settings: settings(options.digest ? { digest: options.digest } : {}),
    teams: new Map([["ops-teams", teams]]),
    email,
    idempotency: new InMemoryIdempotencyStore(),
    log: new InMemoryDeliveryLog(),
    ...(options.now ? { now: options.now } : {}),
  });
  const deps = async () => ({ dispatcher }) as unknown as NotificationDependencies;
  return { teams, email, deps };
}

const unavailable = () =>
  new NotificationDeliveryError(
    NotificationErrorCodes.unavailable,
    "The Teams webhook failed with HTTP 503",
    { retryable: true },
  );

describe("eventGridRouteNotifications", () => {
  it("sends a job event to every channel its rules name, as a Teams card and an email", async () => {
    const { teams, email, deps } = delivery();
    const { log } = logged();

    const result = await routeNotifications(jobEvent(failedJob()), log, deps);

    expect(result.outcomes.map((o) => `${o.channelId} ${o.result}`)).toEqual([
      "ops-teams sent",
      "dba-email sent",
    ]);
    expect(teams.sent).toHaveLength(1);
    expect((email.sent[0] as OutgoingEmail).subject).toContain("failed");
  });

  it("notifies once when Event Grid delivers the same event again", async () => {
    const { teams, email, deps } = delivery();
    const event = jobEvent(failedJob());

    await routeNotifications(event, logged().log, deps);
    const again = await routeNotifications(structuredClone(event), logged().log, deps);

    expect(again.outcomes.map((o) => o.result)).toEqual(["duplicate", "duplicate"]);
    expect(teams.sent).toHaveLength(1);
    expect(email.sent).toHaveLength(1);
  });

  it("throws when a channel is down, so Event Grid redelivers, and the redelivery sends only to that channel", async () => {
    const { teams, email, deps } = delivery();
    teams.failures = [unavailable()];
    const event = jobEvent(failedJob());
    const first = logged();

    await expect(routeNotifications(event, first.log, deps)).rejects.toMatchObject({
      code: NotificationErrorCodes.partialFailure,
      retryable: true,
    });
    const second = await routeNotifications(event, logged().log, deps);

    expect(second.outcomes.map((o) => `${o.channelId} ${o.result}`)).toEqual([
      "ops-teams sent",
      "dba-email duplicate",
    ]);
    expect(teams.sent).toHaveLength(1);
    expect(email.sent).toHaveLength(1);
    expect(first.lines.join("\n")).toContain("will be delivered again");
  });

  it("acknowledges a refusal that retrying cannot fix, and says so in the log", async () => {
    const { teams, deps } = delivery();
    teams.failures = [
      new NotificationDeliveryError(
        NotificationErrorCodes.rejected,
        "The Teams webhook refused the message with HTTP 404",
        { retryable: false },
      ),
    ];
    const { log, lines } = logged();

    const result = await routeNotifications(jobEvent(failedJob()), log, deps);

    expect(result.status).toBe("routed");
    expect(lines.some((line) => line.startsWith("error:") && line.includes("HTTP 404"))).toBe(true);
  });

  it("ignores an event that is not pgprotect's, or is malformed, without sending anything", async () => {
    const { teams, email, deps } = delivery();
    const { log, lines } = logged();
    const malformed = { ...jobEvent(), data: { ...jobEvent().data, status: "Exploded" } };

    const foreign = await routeNotifications(
      {
        specversion: "1.0",
        id: "x1",
        type: "Microsoft.Resources.ResourceWriteSuccess",
        source: "/s",
      },
      log,
      deps,
    );
    const broken = await routeNotifications(malformed, log, deps);

    expect([foreign.status, broken.status]).toEqual(["ignored", "ignored"]);
    expect(teams.sent.length + email.sent.length).toBe(0);
    expect(lines.filter((line) => line.startsWith("warning:"))).toHaveLength(2);
  });
});

describe("timerFlushNotificationDigests", () => {
  it("sends the held failures as one digest once their window has closed", async () => {
    let now = new Date("2026-11-24T08:00:00Z");
    const { email, deps } = delivery({
      now: () => now,
      digest: { windowMinutes: 60, maxMessagesPerWindow: 20 },
    });
    const failure = (name: string) =>
      jobEvent(
        failedJob(undefined, { name, id: `${backupJob().id.replace(/[^/]+$/, "")}${name}` }),
      );
    await routeNotifications(failure("j1"), logged().log, deps);
    now = new Date("2026-11-24T08:05:00Z");
    await routeNotifications(failure("j2"), logged().log, deps);
    await routeNotifications(failure("j3"), logged().log, deps);

    const early = await flushNotificationDigests(undefined, logged().context, deps);
    now = new Date("2026-11-24T09:01:00Z");
    const due = await flushNotificationDigests(undefined, logged().context, deps);

    expect(early).toEqual([]);
    expect(due.map((o) => `${o.channelId} ${o.result}`).sort()).toEqual([
      "dba-email digest",
      "ops-teams digest",
    ]);
    expect(email.sent).toHaveLength(2);
    expect((email.sent[1] as OutgoingEmail).subject).toContain("Digest");
    expect((email.sent[1] as OutgoingEmail).text).toContain("2 failures");
  });
});

describe("notification delivery built from the settings", () => {
  let stateDir: string | undefined;
  afterEach(() => {
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    stateDir = undefined;
  });

  it("writes every finished job to the outbox locally when nothing is configured: an .eml file and a Teams .json", async () => {
    stateDir = mkdtempSync(path.join(tmpdir(), "pgprotect-notify-"));
    const deps = await createNotificationDependencies(
      loadConfig({ PGPROTECT_STATE_DIR: stateDir }),
      { lookup: () => undefined },
    );

    await routeNotifications(
      jobEvent(backupJob({ status: "InProgress", endTime: undefined })),
      logged().log,
      async () => deps,
    );
    await routeNotifications(jobEvent(failedJob()), logged().log, async () => deps);

    const files = readdirSync(deps.outboxFolder).sort();
    expect(deps.outboxFolder).toBe(path.join(stateDir, "notifications", "outbox"));
    expect(files.filter((f) => f.endsWith(".eml"))).toHaveLength(1);
    expect(files.filter((f) => f.endsWith(".json"))).toHaveLength(1);
    const eml = readFileSync(
      path.join(
        deps.outboxFolder,
        files.find((f) => f.endsWith(".eml"))!,
      ),
      "utf8",
    );
    expect(eml).toContain(`To: ${localDefaultRecipient}`);
    expect(eml).toMatch(/Subject: .*failed/i);
  });

  it("sends nothing in Azure when NOTIFICATION_SETTINGS is empty", async () => {
    const config = loadConfig({
      PGPROTECT_STATE_DIR: "unused",
      EVENTGRID_TOPIC_ENDPOINT: "https://t.example/api/events",
      AZURE_SUBSCRIPTION_ID: "11111111-2222-4333-8444-555555555555",
      PGPROTECT_PROVIDER: "azure",
    });

    const deps = await createNotificationDependencies(config);

    expect(deps.settings.rules).toEqual([]);
    expect(deps.emailProvider).toBe("outbox");
  });

  it("picks SMTP when SMTP_HOST is set and Azure Communication Services when ACS_ENDPOINT is", async () => {
    stateDir = mkdtempSync(path.join(tmpdir(), "pgprotect-notify-"));

    const smtp = await createNotificationDependencies(
      loadConfig({ PGPROTECT_STATE_DIR: stateDir, SMTP_HOST: "127.0.0.1", SMTP_PORT: "2525" }),
    );
    const acs = await createNotificationDependencies(
      loadConfig({
        PGPROTECT_STATE_DIR: stateDir,
        ACS_ENDPOINT: "https://acs.example.communication.azure.com",
        EMAIL_SENDER_ADDRESS: "DoNotReply@x.azurecomm.net",
      }),
    );
    smtp.close();

    expect([smtp.emailProvider, acs.emailProvider]).toEqual(["smtp", "acs"]);
  });

  it("refuses bad notification and email settings at start, naming the setting", () => {
    const badJson = () =>
      loadConfig({ NOTIFICATION_SETTINGS: '{"rules":[{"name":"r","channels":["nowhere"]}]}' });
    const smtpWithoutHost = () => loadConfig({ EMAIL_PROVIDER: "smtp" });
    const badPort = () => loadConfig({ SMTP_HOST: "mail", SMTP_PORT: "70000" });

    expect(badJson).toThrow(/NOTIFICATION_SETTINGS: .*channel 'nowhere'/);
    expect(smtpWithoutHost).toThrow(/SMTP_HOST/);
    expect(badPort).toThrow(/SMTP_PORT/);
  });
});

describe("eventgrid.local.json", () => {
  it("wires the app's local topic to eventGridRouteNotifications for every pgprotect event, and commits no key (the runtime generates one per state folder)", () => {
    const file = eventGridFileSchema.parse(
      JSON.parse(readFileSync(path.join(projectDir, "eventgrid.local.json"), "utf8")),
    );

    const topic = file.topics?.[localTopicName];

    expect(topic?.key).toBeUndefined();
    expect(file.topics?.["resources"]?.key).toBeUndefined();
    const subscription = topic?.subscriptions.find(
      (s) => s.function === "eventGridRouteNotifications",
    );
    expect([...(subscription?.includedEventTypes ?? [])].sort()).toEqual(
      [...pgProtectEventTypes].sort(),
    );
    expect(file.topics?.["resources"]?.subscriptions).toBeDefined();
  });
});
