import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../../src/domain/errors.js";
import { protectionFailedEvent } from "../../../../src/domain/events/builders.js";
import type { PgProtectEvent } from "../../../../src/domain/events/types.js";
import {
  parseNotificationSettings,
  routeEvent,
} from "../../../../src/domain/notifications/rules.js";
import {
  backupJob,
  databaseId,
  failedJob,
  jobEvent,
  missingPermissions,
  SOURCE,
} from "../../../support/notificationFixtures.js";

const channels = [
  { id: "ops-teams", type: "teams", webhookUrlSetting: "TEAMS_OPS_WEBHOOK_URL" },
  { id: "dba-email", type: "email", to: ["dba@contoso.example"] },
  { id: "audit-email", type: "email", to: ["audit@contoso.example"] },
];

function settingsWith(rules: unknown[]) {
  return parseNotificationSettings(JSON.stringify({ channels, rules }));
}

function problemsOf(json: string) {
  try {
    parseNotificationSettings(json);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as InvalidInputError).problems;
  }
  throw new Error("expected the settings to be refused");
}

function routedChannels(settingsRules: unknown[], event: PgProtectEvent = jobEvent()) {
  return routeEvent(event, settingsWith(settingsRules)).map((route) => route.channel.id);
}

describe("parseNotificationSettings", () => {
  it("reads no settings as no notifications, with portal links and an hourly digest", () => {
    const settings = parseNotificationSettings("");

    expect(settings.rules).toEqual([]);
    expect(settings.links.jobUrlTemplate).toBe("https://portal.azure.com/#resource{jobId}");
    expect(settings.digest).toEqual({ windowMinutes: 60, maxMessagesPerWindow: 20 });
  });

  it("names every problem with its JSON path", () => {
    const problems = problemsOf(
      JSON.stringify({
        channels: [
          { id: "t", type: "teams" },
          { id: "m", type: "email", to: ["not-an-address"] },
        ],
        rules: [
          {
            name: "r",
            match: { eventTypes: ["PgProtect.Backup.Finished"] },
            channels: ["t", "nowhere"],
          },
        ],
      }),
    );

    expect(problems.map((problem) => problem.path)).toEqual(
      expect.arrayContaining([
        "$.channels[0]",
        "$.channels[1].to[0]",
        "$.rules[0].match.eventTypes[0]",
        "$.rules[0].channels[1]",
      ]),
    );
    expect(
      problems.find((problem) => problem.path === "$.rules[0].channels[1]")?.message,
    ).toContain("'nowhere'");
  });

  it("refuses text that is not JSON with a clear code", () => {
    expect(() => parseNotificationSettings("{channels:")).toThrow(
      expect.objectContaining({ code: "NOTIFICATION_SETTINGS_INVALID" }),
    );
  });

  it("refuses more than 50 recipients on one email channel, the service's limit", () => {
    const to = Array.from({ length: 30 }, (_, i) => `a${i}@contoso.example`);
    const cc = Array.from({ length: 21 }, (_, i) => `c${i}@contoso.example`);

    const problems = problemsOf(JSON.stringify({ channels: [{ id: "m", type: "email", to, cc }] }));

    expect(problems[0]?.message).toContain("50 recipients");
  });
});

describe("routeEvent", () => {
  it("sends failed jobs to the failure channels and completed ones only to the audit channel", () => {
    const rules = [
      {
        name: "failures",
        match: { jobStatuses: ["Failed"] },
        channels: ["ops-teams", "dba-email"],
      },
      { name: "audit", match: { jobStatuses: ["Completed"] }, channels: ["audit-email"] },
    ];

    expect(routedChannels(rules, jobEvent(failedJob()))).toEqual(["ops-teams", "dba-email"]);
    expect(routedChannels(rules, jobEvent(backupJob()))).toEqual(["audit-email"]);
  });

  it("lets a job status condition pass events that are not about jobs", () => {
    const failure = protectionFailedEvent(
      {
        datasourceId: databaseId(),
        vaultName: "vault-prod",
        operationId: "op",
        error: missingPermissions,
      },
      { source: SOURCE, time: "2026-11-20T21:05:00Z" },
    );
    const rules = [
      {
        name: "failures",
        match: {
          eventTypes: ["PgProtect.Protection.Failed", "PgProtect.Backup.*"],
          jobStatuses: ["Failed"],
        },
        channels: ["ops-teams"],
      },
    ];

    expect(routedChannels(rules, failure)).toEqual(["ops-teams"]);
    expect(routedChannels(rules, jobEvent(backupJob()))).toEqual([]);
  });

  it("matches vault names case-insensitively, as Azure does", () => {
    expect(
      routedChannels([
        { name: "prod", match: { vaults: ["VAULT-PROD"] }, channels: ["ops-teams"] },
      ]),
    ).toEqual(["ops-teams"]);
    expect(
      routedChannels([
        { name: "test", match: { vaults: ["vault-test"] }, channels: ["ops-teams"] },
      ]),
    ).toEqual([]);
  });

  it("selects by datasource tags: tag names case-insensitively, values exactly, '*' for any value", () => {
    const rules = [
      { name: "prod", match: { datasourceTags: { Env: ["prod"] } }, channels: ["ops-teams"] },
      { name: "owned", match: { datasourceTags: { owner: "*" } }, channels: ["dba-email"] },
    ];

    expect(routedChannels(rules, jobEvent(backupJob(), { env: "prod", owner: "team-a" }))).toEqual([
      "ops-teams",
      "dba-email",
    ]);
    expect(routedChannels(rules, jobEvent(backupJob(), { env: "Prod" }))).toEqual([]);
    expect(routedChannels(rules, jobEvent(backupJob()))).toEqual([]);
  });

  it("sends one message to a channel that several matching rules name, crediting each rule", () => {
    const routes = routeEvent(
      jobEvent(failedJob()),
      settingsWith([
        { name: "failures", match: { jobStatuses: ["Failed"] }, channels: ["ops-teams"] },
        { name: "prod-vault", match: { vaults: ["vault-prod"] }, channels: ["ops-teams"] },
      ]),
    );

    expect(routes).toHaveLength(1);
    expect(routes[0]?.ruleNames).toEqual(["failures", "prod-vault"]);
  });

  it("ignores a disabled rule", () => {
    expect(routedChannels([{ name: "off", enabled: false, channels: ["ops-teams"] }])).toEqual([]);
  });
});
