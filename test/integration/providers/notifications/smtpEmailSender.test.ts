import { afterEach, describe, expect, it } from "vitest";
import { emailFor } from "../../../../src/domain/notifications/email.js";
import { describeEvent } from "../../../../src/domain/notifications/view.js";
import { AcsEmailSender } from "../../../../src/providers/notifications/acsEmailSender.js";
import { SmtpEmailSender } from "../../../../src/providers/notifications/smtpEmailSender.js";
import { NotificationDeliveryError } from "../../../../src/providers/notifications/types.js";
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

function sender(
  port: number,
  extra: Partial<ConstructorParameters<typeof SmtpEmailSender>[0]> = {},
): SmtpEmailSender {
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

describe("SmtpEmailSender against a real SMTP server", () => {
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
      "Error: UserErrorMissingRequiredPermissions\ncould not connect: <timeout> after 30 s",
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
