import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../../../src/config.js";
import { ConfigurationError } from "../../../../src/domain/errors.js";
import { parsePgProtectEvent } from "../../../../src/domain/events/schema.js";
import { emailFor } from "../../../../src/domain/notifications/email.js";
import { describeEvent } from "../../../../src/domain/notifications/view.js";
import { AcsEmailSender } from "../../../../src/providers/notifications/acsEmailSender.js";
import {
  SmtpEmailSender,
  type SmtpEmailSenderOptions,
} from "../../../../src/providers/notifications/smtpEmailSender.js";
import { NotificationDeliveryError } from "../../../../src/providers/notifications/types.js";
import { createNotificationDependencies } from "../../../../src/notificationsComposition.js";
import { loopbackCertificate } from "../../../support/loopbackCertificate.js";
import { addressesOf } from "../../../support/mimeMessage.js";
import { failedJob, jobEvent, settings } from "../../../support/notificationFixtures.js";
import { startSmtpServer, type TestSmtpServer } from "../../../support/notificationServers.js";

const servers: TestSmtpServer[] = [];
const senders: SmtpEmailSender[] = [];

afterEach(async () => {
  senders.splice(0).forEach((sender) => sender.close());
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function smtp(options?: Parameters<typeof startSmtpServer>[0]): Promise<TestSmtpServer> {
  const server = await startSmtpServer(options);
  servers.push(server);
  return server;
}

function senderTo(port: number, extra: Partial<SmtpEmailSenderOptions> = {}): SmtpEmailSender {
  const created = new SmtpEmailSender({
    host: "127.0.0.1",
    port,
    from: "pgprotect <backup@contoso.example>",
    timeoutMs: 5_000,
    ...extra,
  });
  senders.push(created);
  return created;
}

function failureEmail() {
  const job = failedJob("could not connect: <timeout> after 30 s", {
    dataSourceName: "commandes-été",
  });
  return emailFor(describeEvent(jobEvent(job)), {
    links: settings().links,
    ruleNames: ["prod-failures"],
  });
}

describe("SmtpEmailSender in clear text to a loopback relay, when allowed", () => {
  // These relays offer no STARTTLS; clear text is allowed because they are on the loopback.
  const sender = (port: number, extra: Partial<SmtpEmailSenderOptions> = {}) =>
    senderTo(port, { allowPlaintext: true, ...extra });

  it("delivers subject, plain text and escaped HTML to every recipient", async () => {
    const server = await smtp();
    const content = failureEmail();

    await sender(server.port).send({
      to: ["dba@contoso.example"],
      cc: ["oncall@contoso.example"],
      bcc: ["audit@contoso.example"],
      ...content,
      messageId: "5d0c4ce4-1111-8222-9333-444455556666",
    });

    const mail = await server.next();
    expect(mail.subject).toBe("[pgprotect] Backup failed: commandes-été (vault-prod)");
    expect(mail.recipients).toEqual([
      "dba@contoso.example",
      "oncall@contoso.example",
      "audit@contoso.example",
    ]);
    expect(addressesOf(mail.headers.get("to"))).toEqual(["dba@contoso.example"]);
    expect(addressesOf(mail.headers.get("cc"))).toEqual(["oncall@contoso.example"]);
    expect(mail.headers.has("bcc")).toBe(false);
    expect(mail.mailFrom).toBe("backup@contoso.example");
    expect(mail.headers.get("message-id")).toBe("<5d0c4ce4-1111-8222-9333-444455556666@pgprotect>");
    expect(mail.text).toContain(
      "Error: MISSING_REQUIRED_PERMISSIONS\ncould not connect: <timeout> after 30 s",
    );
    expect(mail.text).toMatch(/^Vault: +vault-prod$/m);
    expect(mail.html).toContain("could not connect: &lt;timeout&gt; after 30 s");
    expect(mail.html).toContain("Backup failed: commandes-été");
    expect(mail.html).not.toContain("<timeout>");
  });

  it("logs in when the server requires it", async () => {
    const server = await smtp({ users: { pgprotect: "p@ss word" } });

    await sender(server.port, { user: "pgprotect", password: "p@ss word" }).send({
      to: ["dba@contoso.example"],
      ...failureEmail(),
    });

    expect((await server.next()).user).toBe("pgprotect");
  });

  it("fails without retry when the login is refused, and never shows the password", async () => {
    const server = await smtp({ users: { pgprotect: "right" } });

    const error = await sender(server.port, { user: "pgprotect", password: "wrong-password" })
      .send({ to: ["dba@contoso.example"], ...failureEmail() })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(NotificationDeliveryError);
    expect(error).toMatchObject({
      code: "NOTIFICATION_REJECTED",
      retryable: false,
      recommendedAction: "Check the SMTP user name and password.",
    });
    expect(JSON.stringify((error as NotificationDeliveryError).toJSON())).not.toContain(
      "wrong-password",
    );
    expect(server.received).toHaveLength(0);
  });

  it("fails without retry when the server refuses a recipient", async () => {
    const server = await smtp({ rejectRecipients: ["nobody@contoso.example"] });

    const error = await sender(server.port)
      .send({ to: ["nobody@contoso.example"], ...failureEmail() })
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: "NOTIFICATION_REJECTED", retryable: false });
    expect((error as Error).message).toContain("550");
  });

  it("reports a server that is not there as retryable", async () => {
    const server = await smtp();
    const port = server.port;
    await server.close();
    servers.splice(0);

    const error = await sender(port)
      .send({ to: ["dba@contoso.example"], ...failureEmail() })
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: "NOTIFICATION_ENDPOINT_UNAVAILABLE", retryable: true });
  });

  it("keeps credentials out of its JSON form", () => {
    expect(JSON.stringify(sender(25, { user: "u", password: "hunter2" }))).toBe(
      '{"kind":"SmtpEmailSender","host":"127.0.0.1"}',
    );
  });
});

/** The self-signed CA certificate the TLS relays of these tests present. */
const relayCertificate = () => loopbackCertificate("pgprotect test SMTP relay");

describe("SmtpEmailSender over TLS", () => {
  const login = { user: "pgprotect", password: "Tls-Only-p4ssword" };

  it("delivers over STARTTLS to a relay whose private CA it trusts, upgrading before it logs in", async () => {
    // Arrange
    const certificate = await relayCertificate();
    const server = await smtp({
      tls: "starttls",
      certificate,
      users: { [login.user]: login.password },
    });

    // Act
    await senderTo(server.port, { ...login, ca: certificate.cert }).send({
      to: ["dba@contoso.example"],
      ...failureEmail(),
    });

    // Assert
    const mail = await server.next();
    expect(mail).toMatchObject({ user: "pgprotect", overTls: true });
    expect(server.logins).toEqual([{ ...login, overTls: true }]);
  });

  it("still sends STARTTLS when the relay's offer of it has been stripped from its greeting", async () => {
    const certificate = await relayCertificate();
    const server = await smtp({
      tls: "hidden-starttls",
      certificate,
      users: { [login.user]: login.password },
    });

    await senderTo(server.port, { ...login, ca: certificate.cert }).send({
      to: ["dba@contoso.example"],
      ...failureEmail(),
    });

    expect((await server.next()).overTls).toBe(true);
    expect(server.logins.map((entry) => entry.overTls)).toEqual([true]);
  });

  it("delivers over implicit TLS (port 465 style) when secure is set", async () => {
    const certificate = await relayCertificate();
    const server = await smtp({
      tls: "implicit",
      certificate,
      users: { [login.user]: login.password },
    });

    await senderTo(server.port, { ...login, secure: true, ca: certificate.cert }).send({
      to: ["dba@contoso.example"],
      ...failureEmail(),
    });

    expect((await server.next()).overTls).toBe(true);
    expect(server.logins).toEqual([{ ...login, overTls: true }]);
  });

  it("refuses a relay that offers no STARTTLS, with a stable code and without sending the login", async () => {
    // Arrange
    const server = await smtp({ users: { [login.user]: login.password } });

    // Act
    const error = await senderTo(server.port, login)
      .send({ to: ["dba@contoso.example"], ...failureEmail() })
      .catch((caught: unknown) => caught);

    // Assert
    expect(error).toBeInstanceOf(NotificationDeliveryError);
    expect(error).toMatchObject({ code: "NOTIFICATION_TLS_UNAVAILABLE", retryable: false });
    expect(server.logins).toEqual([]);
    expect(server.received).toEqual([]);
    expect(JSON.stringify((error as NotificationDeliveryError).toJSON())).not.toContain(
      login.password,
    );
  });

  it("refuses a relay whose certificate it does not trust, before logging in", async () => {
    const server = await smtp({
      tls: "starttls",
      certificate: await relayCertificate(),
      users: { [login.user]: login.password },
    });

    const error = await senderTo(server.port, login)
      .send({ to: ["dba@contoso.example"], ...failureEmail() })
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: "NOTIFICATION_TLS_FAILED", retryable: false });
    expect((error as NotificationDeliveryError).recommendedAction).toContain("SMTP_TLS_CA_FILE");
    expect(server.logins).toEqual([]);
    expect(server.received).toEqual([]);
  });

  it("refuses a relay signed by another authority than the one it was told to trust", async () => {
    const server = await smtp({
      tls: "implicit",
      certificate: await relayCertificate(),
      users: { [login.user]: login.password },
    });
    const otherAuthority = await loopbackCertificate("some other authority");

    const error = await senderTo(server.port, { ...login, secure: true, ca: otherAuthority.cert })
      .send({ to: ["dba@contoso.example"], ...failureEmail() })
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: "NOTIFICATION_TLS_FAILED", retryable: false });
    expect(server.logins).toEqual([]);
  });

  it("uses STARTTLS when offered even where clear text is allowed", async () => {
    const certificate = await relayCertificate();
    const server = await smtp({
      tls: "starttls",
      certificate,
      users: { [login.user]: login.password },
    });

    await senderTo(server.port, { ...login, allowPlaintext: true, ca: certificate.cert }).send({
      to: ["dba@contoso.example"],
      ...failureEmail(),
    });

    expect(server.logins).toEqual([{ ...login, overTls: true }]);
  });

  it("refuses to allow clear text to a relay that is not on the loopback", () => {
    const build = () =>
      new SmtpEmailSender({
        host: "smtp.contoso.example",
        allowPlaintext: true,
        from: "backup@contoso.example",
      });

    expect(build).toThrow(ConfigurationError);
    expect(build).toThrow(/loopback/);
  });
});

describe("SMTP built from the app settings", () => {
  const folders: string[] = [];
  afterEach(async () => {
    await Promise.all(
      folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })),
    );
  });

  async function stateFolder(): Promise<string> {
    const folder = await mkdtemp(path.join(tmpdir(), "pgprotect-smtp-"));
    folders.push(folder);
    return folder;
  }

  function smtpSettings(folder: string, port: number, extra: Record<string, string> = {}) {
    return {
      PGPROTECT_STATE_DIR: folder,
      NOTIFICATION_SETTINGS: JSON.stringify({
        channels: [{ id: "dba-email", type: "email", to: ["dba@contoso.example"] }],
        rules: [{ name: "everything", channels: ["dba-email"] }],
      }),
      SMTP_HOST: "127.0.0.1",
      SMTP_PORT: String(port),
      SMTP_USER: "pgprotect",
      SMTP_PASSWORD: "Settings-p4ssword",
      EMAIL_SENDER_ADDRESS: "backup@contoso.example",
      ...extra,
    };
  }

  it("delivers over STARTTLS to a relay signed by the CA in SMTP_TLS_CA_FILE", async () => {
    // Arrange
    const folder = await stateFolder();
    const certificate = await relayCertificate();
    const caFile = path.join(folder, "relay-ca.pem");
    await writeFile(caFile, certificate.cert);
    const server = await smtp({
      tls: "starttls",
      certificate,
      users: { pgprotect: "Settings-p4ssword" },
    });
    const notifications = await createNotificationDependencies(
      loadConfig(smtpSettings(folder, server.port, { SMTP_TLS_CA_FILE: caFile })),
    );

    // Act
    const outcomes = await notifications.dispatcher
      .dispatch(parsePgProtectEvent(JSON.parse(JSON.stringify(jobEvent(failedJob())))))
      .finally(() => notifications.close());

    // Assert
    expect(outcomes.map((outcome) => outcome.result)).toEqual(["sent"]);
    expect(server.logins).toEqual([
      { user: "pgprotect", password: "Settings-p4ssword", overTls: true },
    ]);
  });

  it("refuses clear text unless SMTP_ALLOW_PLAINTEXT is set, and then only for a loopback relay", async () => {
    // Arrange
    const folder = await stateFolder();
    const server = await smtp({ users: { pgprotect: "Settings-p4ssword" } });
    const event = () => parsePgProtectEvent(JSON.parse(JSON.stringify(jobEvent(failedJob()))));
    const strict = await createNotificationDependencies(
      loadConfig(smtpSettings(folder, server.port)),
    );
    const allowed = await createNotificationDependencies(
      loadConfig(smtpSettings(await stateFolder(), server.port, { SMTP_ALLOW_PLAINTEXT: "true" })),
    );

    // Act
    const refused = await strict.dispatcher
      .dispatch(event())
      .catch((caught: unknown) => caught)
      .finally(() => strict.close());
    const loginsAfterRefusal = server.logins.length;
    const sent = await allowed.dispatcher.dispatch(event()).finally(() => allowed.close());
    const remote = () =>
      loadConfig({ SMTP_HOST: "smtp.contoso.example", SMTP_ALLOW_PLAINTEXT: "true" });

    // Assert
    expect(refused).toBeInstanceOf(NotificationDeliveryError);
    expect((refused as Error).message).toContain("'dba-email' (NOTIFICATION_TLS_UNAVAILABLE");
    expect(refused).toMatchObject({ retryable: false });
    expect(loginsAfterRefusal).toBe(0);
    expect(sent.map((outcome) => outcome.result)).toEqual(["sent"]);
    expect(server.logins).toEqual([
      { user: "pgprotect", password: "Settings-p4ssword", overTls: false },
    ]);
    expect(remote).toThrow(/SMTP_ALLOW_PLAINTEXT/);
  });

  it("names an unreadable SMTP_TLS_CA_FILE at start", async () => {
    const folder = await stateFolder();
    const config = loadConfig(
      smtpSettings(folder, 2525, { SMTP_TLS_CA_FILE: path.join(folder, "missing.pem") }),
    );

    await expect(createNotificationDependencies(config)).rejects.toMatchObject({
      code: "CONFIG_INVALID",
      problems: [expect.objectContaining({ path: "SMTP_TLS_CA_FILE" })],
    });
  });
});

describe("AcsEmailSender", () => {
  // Azure Communication Services cannot be reached from here; only construction is checked.
  it("builds from a connection string without calling the service, and keeps the key out of its JSON form", () => {
    const acs = new AcsEmailSender({
      connectionString:
        "endpoint=https://contoso.europe.communication.azure.com/;accesskey=c2VjcmV0LWtleQ==",
      senderAddress: "DoNotReply@contoso.example",
    });

    expect(JSON.stringify(acs)).toBe(
      '{"kind":"AcsEmailSender","senderAddress":"DoNotReply@contoso.example"}',
    );
  });
});
