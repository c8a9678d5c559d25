import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ErrorCode } from "../../../../src/domain/errorCodes.js";
import type { PendingDigest } from "../../../../src/domain/notifications/digest.js";
import {
  TEAMS_MESSAGE_BUDGET_BYTES,
  teamsDigestMessageFor,
  teamsMessageBytes,
  teamsMessageFor,
} from "../../../../src/domain/notifications/teamsCard.js";
import { describeEvent } from "../../../../src/domain/notifications/view.js";
import {
  adaptiveCardProblems,
  factsOf,
  openUrls,
  visibleTexts,
} from "../../../support/adaptiveCard.js";
import {
  backupJob,
  failedJob,
  jobEvent,
  oneOfEach,
  settings,
} from "../../../support/notificationFixtures.js";

const options = { links: settings().links, ruleNames: ["prod-failures"] };

describe("teamsMessageFor", () => {
  it("passes the Adaptive Card 1.4 check for every event type", () => {
    for (const event of oneOfEach()) {
      const message = teamsMessageFor(describeEvent(event), options);

      expect(adaptiveCardProblems(message), event.type).toEqual([]);
    }
  });

  it("shows status, datasource, vault, backup rule, duration and the routing rule of a completed backup", () => {
    const message = teamsMessageFor(describeEvent(jobEvent(backupJob())), options);

    expect(factsOf(message)).toMatchObject({
      Status: "Completed",
      Datasource: "orders",
      Vault: "vault-prod",
      "Backup rule": "BackupWeekly",
      Duration: "3 min 25 s",
      "Data transferred": "1.5 GiB",
    });
    expect(visibleTexts(message)[0]).toBe("✅ Backup completed: orders");
    expect(visibleTexts(message).join("\n")).toContain("Routing rule: prod-failures");
  });

  it("shows the error code, message and recommended action of a failed backup", () => {
    const texts = visibleTexts(teamsMessageFor(describeEvent(jobEvent(failedJob())), options));

    expect(texts[0]).toBe("❌ Backup failed: orders");
    expect(texts).toContain("Code: MISSING_REQUIRED_PERMISSIONS");
    expect(texts).toContain(
      "Backup vault does not have the required permissions on the PostgreSQL server.",
    );
    expect(texts.join("\n")).toMatch(
      /Recommended action\n• Assign the 'PostgreSQL Flexible Server Long Term Retention Backup Role'/,
    );
  });

  it("links to the job through the configured URL template", () => {
    const message = teamsMessageFor(describeEvent(jobEvent(backupJob())), options);

    expect(openUrls(message)).toEqual([
      "https://portal.example/jobs?vault=vault-prod&job=6f1c2d3e-0000-4000-8000-000000000001",
    ]);
  });

  it("offers no button when the template names something the event lacks", () => {
    const links = {
      ...settings().links,
      resourceUrlTemplate: "https://portal.example/jobs/{jobName}",
    };

    const message = teamsMessageFor(describeEvent(oneOfEach()[1]!), { links });

    expect(openUrls(message)).toEqual([]);
    expect(adaptiveCardProblems(message)).toEqual([]);
  });

  it("stays under 28 KB with a 100 KB error message, keeps its start and says it was shortened", () => {
    const longMessage = `pg_dump: error: ${"connection to server lost; ".repeat(4_000)}`.slice(
      0,
      100_000,
    );

    const message = teamsMessageFor(describeEvent(jobEvent(failedJob(longMessage))), options);

    expect(teamsMessageBytes(message)).toBeLessThan(28_000);
    const texts = visibleTexts(message).join("\n");
    expect(texts).toContain("pg_dump: error: connection to server lost;");
    expect(texts).toMatch(
      /Shortened to fit the 28 KB Teams message limit: the error message \(showing [\d,]+ of 100,000 characters\)/,
    );
    expect(adaptiveCardProblems(message)).toEqual([]);
  });

  it("does not mention shortening when nothing was shortened", () => {
    expect(
      visibleTexts(teamsMessageFor(describeEvent(jobEvent(failedJob())), options)).join("\n"),
    ).not.toContain("Shortened");
  });

  it("fits any names and error texts, in any script, into a valid card under the budget", () => {
    const anyText = fc.oneof(
      fc.string({ unit: "grapheme", minLength: 1, maxLength: 60 }),
      fc.string({ unit: "grapheme", minLength: 5_000, maxLength: 40_000, size: "max" }),
    );
    fc.assert(
      fc.property(
        anyText,
        anyText,
        anyText,
        fc.array(anyText, { maxLength: 4 }),
        (datasourceName, errorCode, errorMessage, actions) => {
          const job = failedJob(errorMessage, { dataSourceName: datasourceName });
          const withError = {
            ...job,
            errorDetails: [
              // An event from outside may carry any code; the card must hold it all the same.
              { code: errorCode as ErrorCode, message: errorMessage, recommendedAction: actions },
              ...(job.errorDetails ?? []),
            ],
          };

          const message = teamsMessageFor(describeEvent(jobEvent(withError)), options);

          expect(teamsMessageBytes(message)).toBeLessThanOrEqual(TEAMS_MESSAGE_BUDGET_BYTES);
          expect(adaptiveCardProblems(message)).toEqual([]);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("teamsDigestMessageFor", () => {
  function digestOf(count: number, datasources: number): PendingDigest {
    const entries = Array.from({ length: count }, (_, i) => ({
      eventId: `e${i}`,
      occurredAt: new Date(Date.UTC(2026, 10, 20, 22, i)).toISOString(),
      title: "Backup failed",
      status: "Failed",
      datasourceId: `/db/${i % datasources}`,
      datasourceName: `db-${i % datasources}`,
      vaultName: "vault-prod",
      errorCode: "UserErrorDatasourceUnreachable",
      errorMessage: "connection refused",
    }));
    return {
      channelId: "ops-teams",
      entries,
      digestKeys: [],
      covers: entries.map((entry) => entry.eventId),
    };
  }

  it("counts the failures per datasource, the most affected first", () => {
    const message = teamsDigestMessageFor(digestOf(5, 2), options);

    const texts = visibleTexts(message);
    expect(texts[0]).toBe("❌ 5 failures of 2 datasources");
    expect(texts.filter((text) => / failures?$/.test(text))).toEqual([
      "db-0 (vault-prod): 3 failures",
      "db-1 (vault-prod): 2 failures",
    ]);
    expect(adaptiveCardProblems(message)).toEqual([]);
  });

  it("lists only as many datasources as fit and says how many more failed", () => {
    const message = teamsDigestMessageFor(digestOf(400, 200), options);

    expect(teamsMessageBytes(message)).toBeLessThanOrEqual(TEAMS_MESSAGE_BUDGET_BYTES);
    expect(visibleTexts(message).join("\n")).toMatch(
      /\d+ more datasources not shown; see the job list for all of them\./,
    );
  });
});

describe("the Adaptive Card 1.4 check itself", () => {
  const valid = () =>
    structuredClone(teamsMessageFor(describeEvent(jobEvent(failedJob())), options)) as unknown as {
      type: string;
      attachments: {
        contentType: string;
        content: {
          version: string;
          body: Record<string, unknown>[];
          actions?: Record<string, unknown>[];
        };
      }[];
    };

  it("refuses version 1.5, which Workflows rejects", () => {
    const message = valid();
    message.attachments[0]!.content.version = "1.5";

    expect(adaptiveCardProblems(message)).toEqual([
      '$.attachments[0].content.version: expected "1.4", got "1.5"',
    ]);
  });

  it("refuses elements and properties that 1.4 does not have", () => {
    const message = valid();
    message.attachments[0]!.content.body.push(
      { type: "Table", rows: [] },
      { type: "TextBlock", text: "x", style: "heading" },
    );

    expect(adaptiveCardProblems(message)).toEqual([
      expect.stringContaining('"Table" is not an Adaptive Card 1.4 element'),
      expect.stringContaining(".style: not a property of TextBlock"),
    ]);
  });

  it("refuses actions other than Action.OpenUrl and URLs that are not absolute", () => {
    const message = valid();
    message.attachments[0]!.content.actions = [
      { type: "Action.Submit", title: "Retry" },
      { type: "Action.OpenUrl", url: "/jobs/1" },
    ];

    expect(adaptiveCardProblems(message)).toEqual([
      expect.stringContaining("only Action.OpenUrl is allowed"),
      expect.stringContaining("expected an absolute http(s) URL"),
    ]);
  });

  it("refuses a payload without the attachments envelope", () => {
    expect(adaptiveCardProblems({ type: "message", text: "hello" })).toEqual([
      "$.attachments: expected a non-empty array",
    ]);
  });
});
