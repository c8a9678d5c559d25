import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigurationError } from "../../../../src/domain/errors.js";
import { emailFor } from "../../../../src/domain/notifications/email.js";
import { teamsMessageFor } from "../../../../src/domain/notifications/teamsCard.js";
import { describeEvent } from "../../../../src/domain/notifications/view.js";
import { createTeamsSenders } from "../../../../src/providers/notifications/channels.js";
import {
  OutboxEmailSender,
  OutboxTeamsSender,
} from "../../../../src/providers/notifications/outboxSender.js";
import { TeamsWebhookSender } from "../../../../src/providers/notifications/teamsWebhookSender.js";
import { adaptiveCardProblems } from "../../../support/adaptiveCard.js";
import { parseMimeMessage } from "../../../support/mimeMessage.js";
import { failedJob, jobEvent, settings } from "../../../support/notificationFixtures.js";

const folders: string[] = [];

afterEach(async () => {
  await Promise.all(
    folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })),
  );
});

async function tempFolder(): Promise<string> {
  const folder = await mkdtemp(path.join(tmpdir(), "pgprotect-outbox-"));
  folders.push(folder);
  return folder;
}

const view = describeEvent(jobEvent(failedJob("disk <full>")));

describe("the outbox", () => {
  it("writes an email as an .eml file a mail client can open, once per message id", async () => {
    const folder = await tempFolder();
    const outbox = new OutboxEmailSender({ folder });
    const email = {
      to: ["dba@contoso.example"],
      ...emailFor(view, { links: settings().links }),
      messageId: view.eventId,
    };

    await outbox.send(email);
    await outbox.send(email);

    expect(await readdir(folder)).toEqual([`email-${view.eventId}.eml`]);
    const mail = parseMimeMessage(
      await readFile(path.join(folder, `email-${view.eventId}.eml`), "utf8"),
    );
    expect(mail.subject).toBe("[pgprotect] Backup failed: orders (vault-prod)");
    expect(mail.text).toContain("disk <full>");
    expect(mail.html).toContain("disk &lt;full&gt;");
  });

  it("writes a Teams message as the JSON payload that would have been posted", async () => {
    const folder = await tempFolder();

    await new OutboxTeamsSender({ folder, channelId: "ops-teams" }).send(
      teamsMessageFor(view, { links: settings().links }),
      {
        messageId: view.eventId,
      },
    );

    const payload = JSON.parse(
      await readFile(path.join(folder, `ops-teams-${view.eventId}.json`), "utf8"),
    );
    expect(adaptiveCardProblems(payload)).toEqual([]);
  });
});

describe("createTeamsSenders", () => {
  it("reads each channel's webhook URL from its app setting", () => {
    const senders = createTeamsSenders(settings(), {
      lookup: (name) =>
        name === "TEAMS_OPS_WEBHOOK_URL" ? "https://example.invalid/hook?sig=x" : undefined,
    });

    expect(senders.get("ops-teams")).toBeInstanceOf(TeamsWebhookSender);
  });

  it("falls back to the outbox when a URL is missing and an outbox is configured", () => {
    const senders = createTeamsSenders(settings(), {
      lookup: () => undefined,
      outboxFolder: "/tmp/outbox",
    });

    expect(senders.get("ops-teams")).toBeInstanceOf(OutboxTeamsSender);
  });

  it("names the missing setting, and never echoes a bad URL's value", () => {
    const missing = () => createTeamsSenders(settings(), { lookup: () => undefined });
    const malformed = () =>
      createTeamsSenders(settings(), { lookup: () => "ftp://host/path?sig=topsecret" });

    expect(missing).toThrow(ConfigurationError);
    expect(missing).toThrow(/TEAMS_OPS_WEBHOOK_URL/);
    expect(malformed).toThrow(/not an http\(s\) URL/);
    expect(malformed).not.toThrow(/topsecret/);
  });
});
