import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../../../src/config.js";
import { OutboxEmailSender } from "../../../../src/providers/notifications/outboxSender.js";
import {
  createEmailSender,
  emailProviderOf,
} from "../../../../src/providers/notifications/emailSenders.js";

describe("emailProviderOf", () => {
  it("takes EMAIL_PROVIDER first, then ACS, then SMTP, and the outbox when nothing is set", () => {
    // Act
    const chosen = [
      emailProviderOf({ EMAIL_PROVIDER: "outbox", ACS_ENDPOINT: "https://acs.example" }),
      emailProviderOf({ ACS_ENDPOINT: "https://acs.example", SMTP_HOST: "smtp.example" }),
      emailProviderOf({ SMTP_HOST: "smtp.example" }),
      emailProviderOf({}),
    ];

    // Assert
    expect(chosen).toEqual(["outbox", "acs", "smtp", "outbox"]);
  });
});

describe("createEmailSender", () => {
  const folders: string[] = [];
  afterEach(async () => {
    await Promise.all(folders.splice(0).map((f) => rm(f, { recursive: true, force: true })));
  });

  async function folder(): Promise<string> {
    const created = await mkdtemp(path.join(tmpdir(), "pgprotect-email-"));
    folders.push(created);
    return created;
  }

  it("writes to the outbox folder when the outbox is chosen", async () => {
    // Arrange
    const outbox = await folder();

    // Act
    const email = await createEmailSender(loadConfig({}), "outbox", outbox);

    // Assert
    expect(email.sender).toBeInstanceOf(OutboxEmailSender);
  });

  it("refuses an SMTP_TLS_CA_FILE that holds no certificate, naming the setting", async () => {
    // Arrange
    const dir = await folder();
    const caFile = path.join(dir, "ca.pem");
    await writeFile(caFile, "not a certificate\n");
    const config = loadConfig({ SMTP_HOST: "smtp.example", SMTP_TLS_CA_FILE: caFile });

    // Act
    const error = await createEmailSender(config, "smtp", dir).catch((caught: unknown) => caught);

    // Assert
    expect(error).toMatchObject({
      problems: [{ path: "SMTP_TLS_CA_FILE", code: "SMTP_TLS_CA_FILE_NOT_PEM" }],
    });
  });
});
