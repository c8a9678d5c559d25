import { describe, expect, it } from "vitest";
import { digestEmailFor, emailFor } from "../../../../src/domain/notifications/email.js";
import { describeEvent } from "../../../../src/domain/notifications/view.js";
import {
  backupJob,
  failedJob,
  jobEvent,
  oneOfEach,
  settings,
} from "../../../support/notificationFixtures.js";

const options = { links: settings().links, ruleNames: ["prod-failures"] };

describe("emailFor", () => {
  it("says in the subject what happened, to which datasource, in which vault", () => {
    expect(emailFor(describeEvent(jobEvent(failedJob())), options).subject).toBe(
      "[pgprotect] Backup failed: orders (vault-prod)",
    );
    expect(
      emailFor(describeEvent(oneOfEach()[1]!), { ...options, subjectPrefix: "[backup-prod]" })
        .subject,
    ).toBe("[backup-prod] Protection configured: orders (vault-prod)");
  });

  it("puts the facts, the error, the recommended action and the job link in the plain text", () => {
    const { text } = emailFor(describeEvent(jobEvent(failedJob())), options);

    expect(text).toMatch(/^Status: +Failed$/m);
    expect(text).toMatch(/^Backup rule: +BackupWeekly$/m);
    expect(text).toMatch(/^Duration: +3 min 25 s$/m);
    expect(text).toContain(
      "Error: MISSING_REQUIRED_PERMISSIONS\nBackup vault does not have the required permissions",
    );
    expect(text).toContain(
      "Recommended action:\n- Assign the 'PostgreSQL Flexible Server Long Term Retention Backup Role'",
    );
    expect(text).toContain(
      "Job: https://portal.example/jobs?vault=vault-prod&job=6f1c2d3e-0000-4000-8000-000000000001",
    );
    expect(text).toContain("routing rule: prod-failures");
  });

  it("escapes markup from names and error texts in the HTML body", () => {
    const job = failedJob('<img src=x onerror=alert(1)> & "quoted"', {
      dataSourceName: "<script>alert('x')</script>",
    });

    const { html } = emailFor(describeEvent(jobEvent(job)), options);

    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quoted&quot;");
    expect(html).toContain(
      '<a href="https://portal.example/jobs?vault=vault-prod&amp;job=6f1c2d3e-0000-4000-8000-000000000001">Open job</a>',
    );
  });

  it("keeps a line break in a datasource name out of the subject, where it would start a new header", () => {
    const job = backupJob({ dataSourceName: "orders\r\nBcc: attacker@example.com" });

    const { subject } = emailFor(describeEvent(jobEvent(job)), options);

    expect(subject).toBe(
      "[pgprotect] Backup completed: orders Bcc: attacker@example.com (vault-prod)",
    );
  });

  it("shortens a runaway error text and says so", () => {
    const { text, html } = emailFor(
      describeEvent(jobEvent(failedJob("x".repeat(100_000)))),
      options,
    );

    expect(text.length).toBeLessThan(25_000);
    expect(text).toContain(
      "(Shortened: the message has 100,000 characters; the full text is in the job details.)",
    );
    expect(html).toContain("Shortened: the message has 100,000 characters");
  });
});

describe("digestEmailFor", () => {
  it("counts failures per datasource and lists each with its time and error", () => {
    const entries = [0, 1, 2].map((i) => ({
      eventId: `e${i}`,
      occurredAt: `2026-11-20T22:0${i}:00Z`,
      title: "Backup failed",
      status: "Failed",
      datasourceId: "/db/orders",
      datasourceName: "orders",
      vaultName: "vault-prod",
      errorCode: "UserErrorDatasourceUnreachable",
      errorMessage: "connection <refused>",
    }));

    const email = digestEmailFor(
      { channelId: "dba-email", entries, digestKeys: [], covers: [] },
      options,
    );

    expect(email.subject).toBe("[pgprotect] Digest: 3 failures of 1 datasource");
    expect(email.text).toContain(
      "orders (vault-prod): 3 failures\n  2026-11-20 22:00:00 UTC  Backup failed - UserErrorDatasourceUnreachable: connection <refused>",
    );
    expect(email.html).toContain("connection &lt;refused&gt;");
  });
});
