/**
 * An overdue backup on the local runtime reaches the DBAs' email and the Teams channel (both in
 * the outbox) through the reconciliation timer, once however often the reconciliation runs.
 */
import { randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock, type RunningHost } from "@pgprotect/functions-runtime";
import { PgProtectEventTypes } from "../../src/domain/events/types.js";
import { stableUuid } from "../../src/domain/events/stableId.js";
import { formatDatabaseId, LOCAL_SCOPE } from "../../src/domain/protection/ids.js";
import { backupInstanceNameFor, datasourceTargetOf } from "../../src/domain/protection/naming.js";
import { createLocalProvider } from "../../src/providers/local/index.js";
import { visibleTexts } from "../support/adaptiveCard.js";
import {
  committedEventGrid,
  defaultVaultId,
  startLocalApp,
  weeklyPolicy,
  type LocalApp,
} from "../support/localApp.js";
import { instanceSpec } from "../support/localProvider.js";
import { parseMimeMessage } from "../support/mimeMessage.js";
import { dbaEmailAndOpsTeamsChannels } from "../support/notificationServers.js";
import { poll } from "../support/poll.js";
import { usePostgresCluster } from "../support/postgres.js";

const postgres = usePostgresCluster();
const tenDaysMs = 10 * 86_400_000;

describe("an overdue backup, reported by the reconciliation timer on the local runtime", () => {
  let app: LocalApp;
  let host: RunningHost;
  let ledgerName = "";
  const hostLog: string[] = [];
  // Timers are scheduled on a clock that never moves: the reconciliation runs only when the test runs it.
  const clock = new ManualClock(new Date());

  const outbox = () => path.join(app.stateDir, "notifications", "outbox");
  /** The outbox's files that announce the event `eventId`. */
  const outboxFilesOf = async (eventId: string) =>
    (await readdir(outbox()).catch(() => [] as string[])).filter((name) => name.includes(eventId));

  const reconcilePass = async () => {
    const response = await fetch(`${host.url}/admin/functions/timerReconcileProtection`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-functions-key": host.keys.masterKey },
      body: "{}",
    });
    expect(response.status).toBe(202);
    await host.timers.idle();
    await host.topics.whenIdle();
  };

  beforeAll(async () => {
    await postgres.query("postgres", "CREATE DATABASE ledger");
    app = await startLocalApp({
      postgres,
      name: "e2e-overdue",
      policies: { weekly: weeklyPolicy },
      timers: true,
      clock,
      log: (line) => hostLog.push(line),
      settings: {
        NOTIFICATION_SETTINGS: JSON.stringify({
          channels: dbaEmailAndOpsTeamsChannels,
          rules: [
            {
              name: "overdue-backups",
              match: { eventTypes: [PgProtectEventTypes.backupOverdue] },
              channels: ["dba-email", "ops-teams"],
            },
          ],
        }),
      },
      eventGrid: { ...committedEventGrid(), timeScale: 0.001 },
    });
    host = app.host;

    // ledger: protected ten days ago under the weekly policy, as an operator would have, and
    // never backed up since.
    const past = await createLocalProvider({
      stateDir: app.stateDir,
      servers: [{ name: "local", connectionString: postgres.cluster.connectionUrl() }],
      binDir: postgres.cluster.binDir,
      now: () => new Date(Date.now() - tenDaysMs),
    });
    const policy = await past.backup.getPolicy(defaultVaultId, "weekly");
    const secretUri = await past.secrets.setSecret(
      "ledger",
      postgres.cluster.connectionUrl("ledger"),
    );
    const datasourceId = formatDatabaseId({
      ...LOCAL_SCOPE,
      kind: "servers",
      serverName: "local",
      databaseName: "ledger",
    });
    ledgerName = backupInstanceNameFor(datasourceTargetOf(datasourceId), randomUUID());
    await past.backup.createBackupInstance(
      defaultVaultId,
      ledgerName,
      instanceSpec(datasourceId, policy.id ?? "", secretUri),
    );
    await poll(
      () => app.api("GET", `backup-instances/${ledgerName}`),
      (r) => r.body.protectionStatus === "ProtectionConfigured",
    );
  }, 180_000);

  afterAll(async () => {
    await app?.stop();
  });

  it("emails the DBAs and posts to Teams once, naming the database and how late its backup is, across two reconciliation passes", async () => {
    // Arrange: the dashboard's view of the instance says since when its backup is overdue.
    const view = await app.api("GET", `backup-instances/${ledgerName}`);
    const overdueSince = String(view.body.overdueSince);
    const eventId = stableUuid([
      PgProtectEventTypes.backupOverdue,
      String(view.body.id).toLowerCase(),
      overdueSince,
    ]);

    // Act: two passes of the reconciliation timer.
    await reconcilePass();
    const afterFirst = await poll(
      () => outboxFilesOf(eventId),
      (files) => files.length >= 2,
    );
    await reconcilePass();

    // Assert: one email and one card for the missed backup, with the second pass recognised as the same fact.
    expect(afterFirst.sort()).toEqual([`email-${eventId}.eml`, `ops-teams-${eventId}.json`]);
    expect((await outboxFilesOf(eventId)).sort()).toEqual(afterFirst);
    const email = parseMimeMessage(
      await readFile(path.join(outbox(), `email-${eventId}.eml`), "utf8"),
    );
    expect(email.subject).toContain("Backup overdue by 2 days");
    expect(email.subject).toContain("ledger");
    const card = JSON.parse(
      await readFile(path.join(outbox(), `ops-teams-${eventId}.json`), "utf8"),
    ) as unknown;
    expect(visibleTexts(card)[0]).toContain("Backup overdue by 2 days: ledger");
    expect(hostLog.join("\n")).toContain(
      `Event ${eventId} (${PgProtectEventTypes.backupOverdue}): dba-email duplicate, ops-teams duplicate`,
    );
  }, 120_000);
});
