import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parsePgProtectEvent } from "../../../../src/domain/events/schema.js";
import type { NotificationSettings } from "../../../../src/domain/notifications/rules.js";
import {
  FileDeliveryLog,
  type DeliveryLog,
} from "../../../../src/providers/notifications/deliveryLog.js";
import { NotificationDispatcher } from "../../../../src/providers/notifications/dispatcher.js";
import {
  FileIdempotencyStore,
  type IdempotencyStore,
} from "../../../../src/providers/notifications/idempotencyStore.js";
import { SmtpEmailSender } from "../../../../src/providers/notifications/smtpEmailSender.js";
import { TableDeliveryLog } from "../../../../src/providers/notifications/tableDeliveryLog.js";
import { TableIdempotencyStore } from "../../../../src/providers/notifications/tableIdempotencyStore.js";
import { NotificationTable } from "../../../../src/providers/notifications/tableStorage.js";
import { TeamsWebhookSender } from "../../../../src/providers/notifications/teamsWebhookSender.js";
import { NotificationDeliveryError } from "../../../../src/providers/notifications/types.js";
import { adaptiveCardProblems, visibleTexts } from "../../../support/adaptiveCard.js";
import { uniqueTableName, useAzuriteTable } from "../../../support/azurite.js";
import { backupJob, failedJob, jobEvent, settings } from "../../../support/notificationFixtures.js";
import {
  startSmtpServer,
  startWebhookServer,
  type ScriptedResponse,
  type TestSmtpServer,
  type TestWebhookServer,
} from "../../../support/notificationServers.js";

const cleanups: (() => Promise<void>)[] = [];
const azurite = useAzuriteTable();

interface DeliveryState {
  readonly idempotency: IdempotencyStore;
  readonly log: DeliveryLog;
}

/** Where the dispatcher keeps its delivery state: files (local) or Table Storage (Azure). */
const states: [string, (folder: string) => DeliveryState][] = [
  [
    "in files",
    (folder) => ({
      idempotency: new FileIdempotencyStore(path.join(folder, "idempotency")),
      log: new FileDeliveryLog(folder),
    }),
  ],
  [
    "in Table Storage",
    () => {
      const tableName = uniqueTableName();
      const table = new NotificationTable({
        tableName,
        connect: () => azurite.service.client(tableName),
      });
      return { idempotency: new TableIdempotencyStore(table), log: new TableDeliveryLog(table) };
    },
  ],
];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Harness {
  readonly dispatcher: NotificationDispatcher;
  readonly smtp: TestSmtpServer;
  readonly teams: TestWebhookServer;
  readonly clock: { now: Date };
}

async function harness(options: {
  respond?: (index: number) => ScriptedResponse;
  settings?: NotificationSettings;
  state: (folder: string) => DeliveryState;
}): Promise<Harness> {
  const folder = await mkdtemp(path.join(tmpdir(), "pgprotect-dispatch-"));
  const smtp = await startSmtpServer();
  const teams = await startWebhookServer(options.respond);
  const email = new SmtpEmailSender({
    host: "127.0.0.1",
    port: smtp.port,
    // The test relay on the loopback offers no STARTTLS.
    allowPlaintext: true,
    from: "backup@contoso.example",
  });
  cleanups.push(async () => {
    email.close();
    await smtp.close();
    await teams.close();
    await rm(folder, { recursive: true, force: true });
  });
  const clock = { now: new Date("2026-11-20T22:05:00Z") };
  const dispatcher = new NotificationDispatcher({
    settings: options.settings ?? settings(),
    teams: new Map([["ops-teams", new TeamsWebhookSender({ url: teams.url, maxAttempts: 1 })]]),
    email,
    ...options.state(folder),
    now: () => clock.now,
  });
  return { dispatcher, smtp, teams, clock };
}

/** An event as an Event Grid handler receives it: JSON, validated. */
function delivered(job = failedJob()) {
  return parsePgProtectEvent(JSON.parse(JSON.stringify(jobEvent(job))));
}

describe.each(states)(
  "NotificationDispatcher with a real SMTP server and a real webhook, delivery state %s",
  (_name, state) => {
    it("notifies Teams and email once when Event Grid delivers the same event twice", async () => {
      const { dispatcher, smtp, teams } = await harness({ state });

      const first = await dispatcher.dispatch(delivered());
      const second = await dispatcher.dispatch(delivered());

      expect(first.map((outcome) => outcome.result)).toEqual(["sent", "sent"]);
      expect(second.map((outcome) => outcome.result)).toEqual(["duplicate", "duplicate"]);
      const [mail, card] = [await smtp.next(), await teams.next()];
      expect(mail.subject).toBe("[pgprotect] Backup failed: orders (vault-prod)");
      expect(mail.recipients).toEqual(["dba@contoso.example", "oncall@contoso.example"]);
      expect(adaptiveCardProblems(JSON.parse(card.body))).toEqual([]);
      expect(visibleTexts(JSON.parse(card.body))[0]).toBe("❌ Backup failed: orders");
      expect(smtp.received).toHaveLength(1);
      expect(teams.received).toHaveLength(1);
    });

    it("retries only the channel that failed when the event is delivered again", async () => {
      let teamsUp = false;
      const { dispatcher, smtp, teams } = await harness({
        respond: () => (teamsUp ? { status: 202 } : { status: 503 }),
        state,
      });

      const error = await dispatcher.dispatch(delivered()).catch((caught: unknown) => caught);
      teamsUp = true;
      const retry = await dispatcher.dispatch(delivered());

      expect(error).toBeInstanceOf(NotificationDeliveryError);
      expect(error).toMatchObject({ code: "NOTIFICATION_PARTIAL_FAILURE", retryable: true });
      expect((error as Error).message).toContain("'ops-teams'");
      expect(retry.map((outcome) => [outcome.channelId, outcome.result])).toEqual([
        ["ops-teams", "sent"],
        ["dba-email", "duplicate"],
      ]);
      expect(teams.received).toHaveLength(2);
      expect(smtp.received).toHaveLength(1);
    });

    it("holds a repeated failure of the same datasource and sends it as a digest when the window closes", async () => {
      const { dispatcher, smtp, teams, clock } = await harness({ state });
      const secondJob = failedJob("connection refused", {
        name: "6f1c2d3e-0000-4000-8000-000000000009",
        id: backupJob().id.replace(/[^/]+$/, "6f1c2d3e-0000-4000-8000-000000000009"),
        endTime: "2026-11-20T22:15:00Z",
      });

      await dispatcher.dispatch(delivered());
      clock.now = new Date("2026-11-20T22:15:00Z");
      const held = await dispatcher.dispatch(delivered(secondJob));
      clock.now = new Date("2026-11-20T23:04:00Z");
      const early = await dispatcher.flushDigests();
      clock.now = new Date("2026-11-20T23:05:00Z");
      const flushed = await dispatcher.flushDigests();

      expect(held.map((outcome) => outcome.result)).toEqual(["held", "held"]);
      expect(early).toEqual([]);
      expect(flushed.map((outcome) => outcome.result)).toEqual(["digest", "digest"]);
      await smtp.next();
      const digestMail = await smtp.next();
      expect(digestMail.subject).toBe("[pgprotect] Digest: 1 failure of 1 datasource");
      expect(digestMail.text).toContain("connection refused");
      await teams.next();
      const digestCard = JSON.parse((await teams.next()).body);
      expect(adaptiveCardProblems(digestCard)).toEqual([]);
      expect(visibleTexts(digestCard)).toContain("orders (vault-prod): 1 failure");
      expect(await dispatcher.flushDigests()).toEqual([]);
    });

    it("sends nothing for an event no rule selects", async () => {
      const { dispatcher, smtp, teams } = await harness({
        state,
        settings: settings({
          rules: [
            {
              name: "failures",
              match: { jobStatuses: ["Failed"] },
              channels: ["ops-teams", "dba-email"],
            },
          ],
        }),
      });

      expect(await dispatcher.dispatch(delivered(backupJob()))).toEqual([]);
      expect(smtp.received).toHaveLength(0);
      expect(teams.received).toHaveLength(0);
    });
  },
);
