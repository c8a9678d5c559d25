/**
 * Azure Monitor alerts routed: the common-schema notifications of Azure Backup's built-in alerts
 * (`test/fixtures/alerts/`) go through `receiveMonitorAlert` to the notification dispatcher, which
 * sends to a real SMTP server and a real webhook, once per alert however often Azure posts it, and
 * once per failed job whether the alert or the job's own event comes first. Bursts of alarms
 * beyond a channel's budget arrive as one digest.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { receiveMonitorAlert } from "../../../../src/application/monitorAlerts.js";
import { routeNotifications } from "../../../../src/application/routeNotification.js";
import { NotFoundError } from "../../../../src/domain/errors.js";
import {
  backupOverdueEvent,
  jobStuckEvent,
  backupAnomalyEvent,
} from "../../../../src/domain/events/builders.js";
import type { PgProtectEvent } from "../../../../src/domain/events/types.js";
import type { NotificationSettings } from "../../../../src/domain/notifications/rules.js";
import type { BackupJob } from "../../../../src/domain/protection/types.js";
import { createEventLogger, type LogRecord } from "../../../../src/observability/eventLogger.js";
import { FileDeliveryLog } from "../../../../src/providers/notifications/deliveryLog.js";
import { NotificationDispatcher } from "../../../../src/providers/notifications/dispatcher.js";
import { FileIdempotencyStore } from "../../../../src/providers/notifications/idempotencyStore.js";
import { SmtpEmailSender } from "../../../../src/providers/notifications/smtpEmailSender.js";
import { TeamsWebhookSender } from "../../../../src/providers/notifications/teamsWebhookSender.js";
import { adaptiveCardProblems, visibleTexts } from "../../../support/adaptiveCard.js";
import {
  alertFixture,
  FIXTURE_BACKUP_JOB_NAME,
  FIXTURE_DATASOURCE_ID,
  FIXTURE_VAULT_ID,
} from "../../../support/monitorAlerts.js";
import {
  backupInstance,
  backupJob,
  databaseId,
  failedJob,
  jobEvent,
  SOURCE,
  settings,
} from "../../../support/notificationFixtures.js";
import {
  startSmtpServer,
  startWebhookServer,
  type ScriptedResponse,
  type TestSmtpServer,
  type TestWebhookServer,
} from "../../../support/notificationServers.js";

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The failed job the `backup-failure` fixture names, as its vault shows it. */
const alertedJob: BackupJob = failedJob("The server could not be reached.", {
  id: `${FIXTURE_VAULT_ID}/backupJobs/${FIXTURE_BACKUP_JOB_NAME}`,
  name: FIXTURE_BACKUP_JOB_NAME,
  vaultName: "pgprotect-vault",
  dataSourceId: FIXTURE_DATASOURCE_ID,
  dataSourceName: "ledger",
  backupInstanceFriendlyName: "pg-sales/ledger",
});

interface Harness {
  readonly receive: (body: unknown) => ReturnType<typeof receiveMonitorAlert>;
  readonly dispatch: (event: PgProtectEvent) => Promise<readonly string[]>;
  readonly dispatcher: NotificationDispatcher;
  readonly smtp: TestSmtpServer;
  readonly teams: TestWebhookServer;
  readonly clock: { now: Date };
  readonly logs: LogRecord[];
}

/**
 * The dispatcher with real senders, and the alert endpoint's use case over a vault directory that
 * covers the fixtures' vault and a job port that answers with `job` (or not found).
 */
async function harness(
  options: {
    job?: BackupJob;
    settings?: NotificationSettings;
    respond?: (index: number) => ScriptedResponse;
  } = {},
): Promise<Harness> {
  const folder = await mkdtemp(path.join(tmpdir(), "pgprotect-alerts-"));
  const smtp = await startSmtpServer();
  const teams = await startWebhookServer(options.respond);
  const email = new SmtpEmailSender({
    host: "127.0.0.1",
    port: smtp.port,
    allowPlaintext: true,
    from: "backup@contoso.example",
  });
  cleanups.push(async () => {
    email.close();
    await smtp.close();
    await teams.close();
    await rm(folder, { recursive: true, force: true });
  });
  const clock = { now: new Date("2026-11-24T08:30:00Z") };
  const dispatcher = new NotificationDispatcher({
    settings: options.settings ?? settings(),
    teams: new Map([["ops-teams", new TeamsWebhookSender({ url: teams.url, maxAttempts: 1 })]]),
    email,
    idempotency: new FileIdempotencyStore(path.join(folder, "idempotency")),
    log: new FileDeliveryLog(folder),
    now: () => clock.now,
  });
  const logs: LogRecord[] = [];
  const log = createEventLogger((record) => logs.push(record));
  const deps = {
    provider: {
      backup: {
        getJob: async (_vaultId: string, jobId: string): Promise<BackupJob> => {
          if (options.job && jobId === options.job.name) return options.job;
          throw new NotFoundError("RESOURCE_NOT_FOUND", `The job ${jobId} was not found`);
        },
      },
    },
    vaults: {
      resolve: (name?: string): string => {
        if (name?.toLowerCase() === "pgprotect-vault") return FIXTURE_VAULT_ID;
        throw new NotFoundError("VAULT_NOT_CONFIGURED", `The vault '${name}' is not covered`);
      },
    },
    eventSource: SOURCE,
  };
  return {
    receive: (body) =>
      receiveMonitorAlert(body, deps, async () => ({ dispatcher }), log, clock.now),
    // As the Event Grid handler does with the app's own events.
    dispatch: async (event) =>
      (
        await routeNotifications(JSON.parse(JSON.stringify(event)), log, async () => ({
          dispatcher,
        }))
      ).outcomes.map((outcome) => outcome.result),
    dispatcher,
    smtp,
    teams,
    clock,
    logs,
  };
}

const results = (answer: { deliveries: readonly { result: string }[] }) =>
  answer.deliveries.map((delivery) => delivery.result);

describe("Azure Monitor alerts routed through the notification rules", () => {
  it.each([
    [
      "backup-failure",
      "[pgprotect] Backup failed (Azure Monitor alert): pg-sales/ledger (pgprotect-vault)",
    ],
    [
      "restore-failure",
      "[pgprotect] Restore failed (Azure Monitor alert): pg-sales/ledger (pgprotect-vault)",
    ],
    [
      "delete-backup-data",
      "[pgprotect] Security alert: Delete Backup Data: pg-sales/ledger (pgprotect-vault)",
    ],
    [
      "soft-delete-disabled",
      "[pgprotect] Security alert: Soft Delete Disabled for Vault: pgprotect-vault",
    ],
  ] as const)(
    "sends Azure Backup's %s alert to Teams and email once, though Azure posts it twice",
    async (fixture, subject) => {
      // Arrange
      const { receive, smtp, teams } = await harness();

      // Act
      const first = await receive(alertFixture(fixture));
      const retried = await receive(alertFixture(fixture));

      // Assert
      expect(first.status).toBe("routed");
      expect(results(first)).toEqual(["sent", "sent"]);
      expect(results(retried)).toEqual(["duplicate", "duplicate"]);
      const mail = await smtp.next();
      expect(mail.subject).toBe(subject);
      const card = JSON.parse((await teams.next()).body);
      expect(adaptiveCardProblems(card)).toEqual([]);
      expect(smtp.received).toHaveLength(1);
      expect(teams.received).toHaveLength(1);
    },
  );

  it("tells what the alert says: severity, what happened and the recommended action", async () => {
    const { receive, smtp, teams } = await harness();

    await receive(alertFixture("delete-backup-data"));

    const mail = await smtp.next();
    expect(mail.text).toContain("Sev0");
    expect(mail.text).toContain("Backup data of the datasource was deleted");
    expect(mail.text).toContain("undelete the backup instance");
    const texts = visibleTexts(JSON.parse((await teams.next()).body)).join("\n");
    expect(texts).toContain("Delete Backup Data");
    expect(texts).toContain("pgprotect-vault");
  });

  it("routes a notification that leaves out every optional field of the schema", async () => {
    const { receive, smtp } = await harness();

    const answer = await receive(alertFixture("minimal"));

    expect(answer.status).toBe("routed");
    expect(answer.eventType).toBe("PgProtect.Alert.JobFailed");
    expect((await smtp.next()).subject).toBe(
      "[pgprotect] Backup failed (Azure Monitor alert): pgprotect-vault",
    );
  });

  it("acknowledges the documentation's metric alert sample and sends nothing: it is not Azure Backup's", async () => {
    const { receive, smtp, teams } = await harness();

    const answer = await receive(alertFixture("common-schema-sample"));

    expect(answer.status).toBe("ignored");
    expect(answer.reason).toMatch(/not an Azure Backup alert/);
    expect(smtp.received).toHaveLength(0);
    expect(teams.received).toHaveLength(0);
  });

  it("ignores an alert of a vault the app does not cover", async () => {
    const { receive, smtp } = await harness();

    const answer = await receive(
      alertFixture("delete-backup-data", {
        vaultId: FIXTURE_VAULT_ID.replace("pgprotect-vault", "someone-elses-vault"),
      }),
    );

    expect(answer.status).toBe("ignored");
    expect(smtp.received).toHaveLength(0);
  });

  it("refuses a body outside the common alert schema with the fields at fault", async () => {
    const { receive } = await harness();
    const body = alertFixture("backup-failure") as { data: { essentials: object } };
    body.data.essentials = { ...body.data.essentials, monitorCondition: "Smouldering" };

    await expect(receive(body)).rejects.toMatchObject({
      code: "ALERT_INVALID",
      httpStatus: 400,
      problems: [expect.objectContaining({ path: "$.data.essentials.monitorCondition" })],
    });
  });

  it("sends nothing for a job failure alert that comes after the job's own Failed event", async () => {
    // Arrange: the job watcher published the job's failure, and it went out.
    const { receive, dispatch, smtp, teams } = await harness({ job: alertedJob });
    expect(await dispatch(jobEvent(alertedJob))).toEqual(["sent", "sent"]);

    // Act
    const answer = await receive(alertFixture("backup-failure"));

    // Assert
    expect(answer.eventType).toBe("PgProtect.Backup.JobStateChanged");
    expect(results(answer)).toEqual(["duplicate", "duplicate"]);
    expect(smtp.received).toHaveLength(1);
    expect(teams.received).toHaveLength(1);
  });

  it("sends nothing for the job's own Failed event that comes after its alert, even when the alert came before the job could be read", async () => {
    // Arrange: the vault does not show the job yet; the alert goes out as it came.
    const { receive, dispatch, smtp, teams, logs } = await harness();
    const answer = await receive(alertFixture("backup-failure"));
    expect(answer.eventType).toBe("PgProtect.Alert.JobFailed");
    expect(results(answer)).toEqual(["sent", "sent"]);

    // Act: the job watcher publishes the job's failure.
    const later = await dispatch(jobEvent(alertedJob));

    // Assert
    expect(later).toEqual(["duplicate", "duplicate"]);
    expect(smtp.received).toHaveLength(1);
    expect(teams.received).toHaveLength(1);
    expect(logs.map((record) => record.event.name)).toContain("PgProtect.MonitorAlert.JobUnread");
  });

  it("sends a job failure alert as the job's own failure when the vault shows the job", async () => {
    const { receive, dispatch, smtp } = await harness({ job: alertedJob });

    const answer = await receive(alertFixture("backup-failure"));
    const later = await dispatch(jobEvent(alertedJob));

    expect(answer.eventType).toBe("PgProtect.Backup.JobStateChanged");
    expect(later).toEqual(["duplicate", "duplicate"]);
    expect((await smtp.next()).text).toContain("The server could not be reached.");
  });

  it("tells a security alert's resolution once, and sends nothing when a job failure's alert resolves", async () => {
    const { receive, smtp } = await harness();
    const jobAlertResolved = alertFixture("backup-failure") as {
      data: { essentials: Record<string, unknown> };
    };
    jobAlertResolved.data.essentials["monitorCondition"] = "Resolved";

    await receive(alertFixture("delete-backup-data"));
    const resolved = await receive(alertFixture("delete-backup-data.resolved"));
    const again = await receive(alertFixture("delete-backup-data.resolved"));
    const jobResolved = await receive(jobAlertResolved);

    expect(results(resolved)).toEqual(["sent", "sent"]);
    expect(results(again)).toEqual(["duplicate", "duplicate"]);
    expect(jobResolved.status).toBe("resolved");
    await smtp.next();
    expect((await smtp.next()).subject).toBe(
      "[pgprotect] Security alert resolved: Delete Backup Data: pg-sales/ledger (pgprotect-vault)",
    );
    expect(smtp.received).toHaveLength(2);
  });
});

describe("Azure Monitor alerts whose delivery fails", () => {
  it("answers an error worth retrying, so that Azure posts again, and then sends only to the channel that missed it", async () => {
    // Arrange: Teams is unavailable once.
    const { receive, smtp, teams } = await harness({
      respond: (index) => (index === 0 ? { status: 503 } : { status: 202 }),
    });

    // Act
    const first = receive(alertFixture("delete-backup-data"));
    await expect(first).rejects.toMatchObject({ retryable: true, httpStatus: 503 });
    const retried = await receive(alertFixture("delete-backup-data"));

    // Assert
    expect(retried.deliveries).toEqual([
      { channelId: "ops-teams", result: "sent" },
      { channelId: "dba-email", result: "duplicate" },
    ]);
    expect(smtp.received).toHaveLength(1);
    expect(teams.received).toHaveLength(2);
  });

  it("acknowledges a refusal that retrying cannot fix, so that Azure does not post in vain", async () => {
    const { receive, logs } = await harness({ respond: () => ({ status: 400 }) });

    const answer = await receive(alertFixture("delete-backup-data"));

    expect(answer).toMatchObject({ status: "routed", deliveries: [] });
    expect(answer.reason).toMatch(/not delivered everywhere/);
    expect(logs.map((record) => record.event.name)).toContain(
      "PgProtect.MonitorAlert.NotDelivered",
    );
  });
});

describe("Digests of alarms", () => {
  const budgetOfTwo = () => settings({ digest: { windowMinutes: 60, maxMessagesPerWindow: 2 } });

  /** A stuck alarm, an anomaly and an overdue backup, each of another datasource. */
  function alarmsOfFiveDatasources(): PgProtectEvent[] {
    const ofDatabase = (database: string) => {
      const job = backupJob({
        name: `6f1c2d3e-0000-4000-8000-0000000${database.length}${database.charCodeAt(0)}`,
        dataSourceId: databaseId("pg-orders", database),
        dataSourceName: database,
      });
      return { ...job, id: job.id.replace(/[^/]+$/, job.name) };
    };
    const running = (database: string) => ({
      ...ofDatabase(database),
      status: "InProgress" as const,
      endTime: undefined,
      duration: undefined,
    });
    return [
      jobStuckEvent(
        {
          job: running("alpha"),
          detectedAt: "2026-11-24T08:00:00Z",
          runningMinutes: 100,
          expectedWithinMinutes: 30,
          earlierRuns: 12,
          basis: "history",
        },
        { source: SOURCE },
      ),
      jobStuckEvent(
        {
          job: running("bravo"),
          detectedAt: "2026-11-24T08:01:00Z",
          runningMinutes: 90,
          expectedWithinMinutes: 30,
          earlierRuns: 12,
          basis: "history",
        },
        { source: SOURCE },
      ),
      backupAnomalyEvent(
        {
          job: ofDatabase("charlie"),
          findings: [
            { measure: "size", observed: 1_000, usual: 1_000_000, ratio: 0.001, limit: 0.5 },
          ],
          earlierBackups: 10,
        },
        { source: SOURCE, time: "2026-11-24T08:02:00Z" },
      ),
      backupOverdueEvent(
        {
          instance: backupInstance({
            id: `${backupInstance().id}-delta`,
            dataSourceInfo: {
              ...backupInstance().dataSourceInfo,
              resourceId: databaseId("pg-orders", "delta"),
              resourceName: "delta",
            },
          }),
          expectedEvery: "P1D",
          overdueSince: "2026-11-23T22:00:00Z",
        },
        { source: SOURCE, time: "2026-11-24T08:03:00Z" },
      ),
    ];
  }

  it("sends a burst of stuck, anomaly, overdue and security alarms beyond the channel's budget as one digest on email and Teams", async () => {
    // Arrange
    const { receive, dispatch, dispatcher, smtp, teams, clock } = await harness({
      settings: budgetOfTwo(),
    });

    // Act: five alarms within minutes, then the window closes.
    const outcomes: string[][] = [];
    for (const event of alarmsOfFiveDatasources()) outcomes.push([...(await dispatch(event))]);
    outcomes.push(results(await receive(alertFixture("soft-delete-disabled"))));
    clock.now = new Date("2026-11-24T09:31:00Z");
    const flushed = await dispatcher.flushDigests();

    // Assert: two messages each, then everything else held and sent as one digest per channel.
    expect(outcomes).toEqual([
      ["sent", "sent"],
      ["sent", "sent"],
      ["held", "held"],
      ["held", "held"],
      ["held", "held"],
    ]);
    expect(flushed.map((outcome) => outcome.result)).toEqual(["digest", "digest"]);
    const mails = [await smtp.next(), await smtp.next(), await smtp.next()];
    expect(mails[2]?.subject).toMatch(/Digest/);
    for (const text of ["charlie", "delta", "Soft Delete Disabled for Vault"]) {
      expect(mails[2]?.text).toContain(text);
    }
    const cards = [await teams.next(), await teams.next(), await teams.next()];
    const digestCard = JSON.parse(cards[2]?.body ?? "{}");
    expect(adaptiveCardProblems(digestCard)).toEqual([]);
    expect(visibleTexts(digestCard).join("\n")).toContain("charlie");
    expect(smtp.received).toHaveLength(3);
    expect(teams.received).toHaveLength(3);
  });

  it("never holds an alarm behind an earlier message about the same datasource", async () => {
    // Arrange: a failed backup of the datasource went out.
    const { dispatch, smtp } = await harness();
    await dispatch(jobEvent(failedJob()));
    const stuck = jobStuckEvent(
      {
        job: backupJob({
          name: "6f1c2d3e-0000-4000-8000-0000000000aa",
          id: backupJob().id.replace(/[^/]+$/, "6f1c2d3e-0000-4000-8000-0000000000aa"),
          status: "InProgress",
          endTime: undefined,
          duration: undefined,
        }),
        detectedAt: "2026-11-24T08:10:00Z",
        runningMinutes: 100,
        expectedWithinMinutes: 30,
        earlierRuns: 12,
        basis: "history",
      },
      { source: SOURCE },
    );

    // Act
    const outcome = await dispatch(stuck);

    // Assert
    expect(outcome).toEqual(["sent", "sent"]);
    await smtp.next();
    expect((await smtp.next()).subject).toMatch(/Backup stuck/);
  });
});
