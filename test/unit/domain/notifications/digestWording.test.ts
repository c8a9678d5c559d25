import { describe, expect, it } from "vitest";
import type { DigestEntry, PendingDigest } from "../../../../src/domain/notifications/digest.js";
import { digestEmailFor, emailFor } from "../../../../src/domain/notifications/email.js";
import { teamsDigestMessageFor } from "../../../../src/domain/notifications/teamsCard.js";
import type { NotificationView } from "../../../../src/domain/notifications/view.js";
import { adaptiveCardProblems, visibleTexts } from "../../../support/adaptiveCard.js";
import { settings } from "../../../support/notificationFixtures.js";

const options = { links: settings().links, ruleNames: ["prod-alarms"] };

let sequence = 0;
/** An entry of a digest: `kind` is the event type, the minute keeps them in order. */
function entry(eventType: string | undefined, datasource: string, title: string): DigestEntry {
  sequence += 1;
  return {
    eventId: `e${sequence}`,
    ...(eventType ? { eventType } : {}),
    occurredAt: new Date(Date.UTC(2026, 11, 7, 3, sequence)).toISOString(),
    title,
    status: eventType === "PgProtect.Backup.Overdue" ? "Overdue" : "Failed",
    datasourceId: `/servers/${datasource}`,
    datasourceName: datasource,
    vaultName: datasource === "pgprotect-vault" ? "pgprotect-vault" : "vault-prod",
  };
}

function digestOf(entries: DigestEntry[]): PendingDigest {
  return { channelId: "dba", entries, digestKeys: [], covers: entries.map((e) => e.eventId) };
}

/** 3 failures and 12 alarms of 9 datasources, as a burst after a bad night. */
function mixedDigest(): PendingDigest {
  const failed = "PgProtect.Backup.JobStateChanged";
  return digestOf([
    entry(failed, "orders", "Backup failed"),
    entry(failed, "orders", "Backup failed"),
    entry(failed, "billing", "Backup failed"),
    ...["orders", "billing", "ledger", "users", "audit"].map((name) =>
      entry("PgProtect.Backup.Overdue", name, "Backup overdue by 2 hours"),
    ),
    ...["ledger", "users", "audit", "events"].map((name) =>
      entry("PgProtect.Job.Stuck", name, "Backup stuck"),
    ),
    entry("PgProtect.Backup.Anomaly", "metrics", "Backup anomaly"),
    entry("PgProtect.Restore.DrillFailed", "search", "Restore drill failed"),
    entry("PgProtect.Alert.Security", "pgprotect-vault", "Security alert: Soft Delete Disabled"),
  ]);
}

describe("digest wording", () => {
  it("counts failures and alarms apart in the subject of a digest that holds both", () => {
    const email = digestEmailFor(mixedDigest(), options);

    expect(email.subject).toBe("[pgprotect] Digest: 3 failures and 12 alarms of 9 datasources");
  });

  it("names the alarms by kind in the plain text, the HTML and the Teams card", () => {
    const digest = mixedDigest();
    const alarms =
      "Alarms: 1 security alert, 1 failed restore drill, 4 stuck jobs, 5 overdue backups, 1 backup anomaly.";

    const email = digestEmailFor(digest, options);
    const card = teamsDigestMessageFor(digest, options);

    expect(email.text).toContain(
      `Repeated failures and a burst of alarms are collected here instead of one message each. ${alarms}`,
    );
    expect(email.html).toContain(alarms);
    const texts = visibleTexts(card).join("\n");
    expect(texts).toContain("3 failures and 12 alarms of 9 datasources");
    expect(texts).toContain(alarms);
    expect(texts).not.toContain("Repeated failures are collected");
    expect(adaptiveCardProblems(card)).toEqual([]);
  });

  it("says per datasource what it had, failures and alarms", () => {
    const digest = mixedDigest();

    const email = digestEmailFor(digest, options);
    const texts = visibleTexts(teamsDigestMessageFor(digest, options));

    expect(email.text).toContain("orders (vault-prod): 2 failures, 1 overdue backup\n");
    expect(email.text).toContain("ledger (vault-prod): 1 stuck job, 1 overdue backup\n");
    expect(texts).toContain("orders (vault-prod): 2 failures, 1 overdue backup");
    expect(texts).toContain("search (vault-prod): 1 failed restore drill");
  });

  it("speaks only of alarms in a digest that holds no failure", () => {
    const digest = digestOf([
      entry("PgProtect.Job.Stuck", "orders", "Backup stuck"),
      entry("PgProtect.Job.Stuck", "billing", "Backup stuck"),
    ]);

    const email = digestEmailFor(digest, options);

    expect(email.subject).toBe("[pgprotect] Digest: 2 alarms of 2 datasources");
    expect(email.text).toContain(
      "A burst of alarms is collected here instead of one message each. Alarms: 2 stuck jobs.",
    );
    expect(email.text).not.toContain("failure");
  });

  it("reads an entry held by an earlier version, which has no event type, as a failure", () => {
    const digest = digestOf([entry(undefined, "orders", "Backup failed")]);

    const email = digestEmailFor(digest, options);

    expect(email.subject).toBe("[pgprotect] Digest: 1 failure of 1 datasource");
    expect(email.text).toContain(
      "Repeated failures are collected here instead of one message each.\n",
    );
  });

  it("names a vault once when a vault-wide alert's datasource is the vault", () => {
    const digest = digestOf([
      entry("PgProtect.Alert.Security", "pgprotect-vault", "Security alert: Soft Delete Disabled"),
      entry("PgProtect.Alert.Security", "pgprotect-vault", "Security alert: MUA Disabled"),
    ]);
    const view: NotificationView = {
      eventId: "alert-1",
      eventType: "PgProtect.Alert.Security",
      occurredAt: "2026-12-07T03:00:00Z",
      title: "Security alert: Soft Delete Disabled for Vault",
      status: "SecurityAlert",
      tone: "attention",
      isFailure: false,
      datasourceId: "/vaults/pgprotect-vault",
      datasourceName: "pgprotect-vault",
      vaultName: "pgprotect-vault",
      datasourceTags: {},
      facts: [{ title: "Status", value: "Fired" }],
      errors: [],
    };

    const subject = emailFor(view, options).subject;
    const digestText = digestEmailFor(digest, options).text;
    const cardTexts = visibleTexts(teamsDigestMessageFor(digest, options));

    expect(subject).toBe(
      "[pgprotect] Security alert: Soft Delete Disabled for Vault: pgprotect-vault",
    );
    expect(digestText).toContain("pgprotect-vault: 2 security alerts\n");
    expect(cardTexts).toContain("pgprotect-vault: 2 security alerts");
  });
});
