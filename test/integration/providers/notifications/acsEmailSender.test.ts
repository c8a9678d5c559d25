import { inspect } from "node:util";
import { DefaultAzureCredential, type AccessToken, type TokenCredential } from "@azure/identity";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { emailFor } from "../../../../src/domain/notifications/email.js";
import { describeEvent } from "../../../../src/domain/notifications/view.js";
import {
  AcsEmailSender,
  type AcsEmailSenderOptions,
} from "../../../../src/providers/notifications/acsEmailSender.js";
import {
  NotificationDeliveryError,
  type OutgoingEmail,
} from "../../../../src/providers/notifications/types.js";
import { FakeAcsEmail } from "../../../support/fakeAcsEmail.js";
import { FakeManagedIdentity } from "../../../support/fakeArm/fakeManagedIdentity.js";
import { failedJob, jobEvent, settings } from "../../../support/notificationFixtures.js";

const SENDER = "DoNotReply@contoso.example";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const fakes: FakeAcsEmail[] = [];

afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.stop()));
});

async function acs(options?: Parameters<typeof FakeAcsEmail.start>[0]): Promise<FakeAcsEmail> {
  const fake = await FakeAcsEmail.start(options);
  fakes.push(fake);
  return fake;
}

/**
 * A sender on the fake (its connection string unless `extra` has an endpoint) that never sleeps:
 * waits are recorded instead.
 */
function sender(
  fake: FakeAcsEmail,
  extra: Partial<AcsEmailSenderOptions> = {},
): { sender: AcsEmailSender; waits: number[] } {
  const waits: number[] = [];
  const auth = "endpoint" in extra ? {} : { connectionString: fake.connectionString() };
  const created = new AcsEmailSender({
    ...auth,
    senderAddress: SENDER,
    pollIntervalMs: 1,
    tlsOptions: { ca: fake.ca },
    wait: async (ms) => {
      waits.push(ms);
    },
    ...extra,
  } as AcsEmailSenderOptions);
  return { sender: created, waits };
}

function failureEmail(extra: Partial<OutgoingEmail> = {}): OutgoingEmail {
  const job = failedJob("could not connect: <timeout> after 30 s", {
    dataSourceName: "commandes-été",
  });
  return {
    to: ["dba@contoso.example"],
    ...emailFor(describeEvent(jobEvent(job)), {
      links: settings().links,
      ruleNames: ["prod-failures"],
    }),
    ...extra,
  };
}

async function failureOf(sending: Promise<void>): Promise<NotificationDeliveryError> {
  const caught: unknown = await sending.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(caught).toBeInstanceOf(NotificationDeliveryError);
  return caught as NotificationDeliveryError;
}

describe("AcsEmailSender against a fake ACS Email endpoint", () => {
  it("delivers a message sent with a connection string once, to every recipient, with subject, text and HTML", async () => {
    // Arrange
    const fake = await acs({ pollsBeforeDone: 2 });
    const email = failureEmail({
      to: ["dba@contoso.example", "lead@contoso.example"],
      cc: ["oncall@contoso.example"],
      bcc: ["audit@contoso.example"],
      messageId: "5d0c4ce4-1111-8222-9333-444455556666",
    });

    // Act
    await sender(fake).sender.send(email);

    // Assert
    expect(fake.emails).toHaveLength(1);
    expect(fake.delivered[0]).toMatchObject({
      operationId: "5d0c4ce4-1111-8222-9333-444455556666",
      operationIdFromClient: true,
      auth: "hmac",
      senderAddress: SENDER,
      to: ["dba@contoso.example", "lead@contoso.example"],
      cc: ["oncall@contoso.example"],
      bcc: ["audit@contoso.example"],
      subject: "[pgprotect] Backup failed: commandes-été (vault-prod)",
      plainText: email.text,
      html: email.html,
    });
    expect(fake.delivered[0]!.plainText).toContain("could not connect: <timeout> after 30 s");
    // `send` returned only once the operation had finished: three status reads for two `Running`.
    expect(fake.requests.map((request) => request.method)).toEqual(["POST", "GET", "GET", "GET"]);
    expect(fake.violations).toEqual([]);
  });

  it("asks a token credential for the Communication Services scope and sends with its token", async () => {
    // Arrange
    const fake = await acs();
    const scopes: string[] = [];
    const credential: TokenCredential = {
      getToken: async (scope): Promise<AccessToken> => {
        scopes.push(...[scope].flat());
        return { token: fake.token, expiresOnTimestamp: Date.now() + 3_600_000 };
      },
    };

    // Act
    await sender(fake, { endpoint: fake.endpoint, credential }).sender.send(failureEmail());

    // Assert
    expect(fake.delivered).toHaveLength(1);
    expect(fake.delivered[0]).toMatchObject({ auth: "bearer", to: ["dba@contoso.example"] });
    expect(new Set(scopes)).toEqual(new Set(["https://communication.azure.com//.default"]));
    expect(fake.violations).toEqual([]);
  });

  describe("with the Function app's managed identity, as the app composes it", () => {
    let identity: FakeManagedIdentity;
    let fake: FakeAcsEmail;
    const saved = {
      IDENTITY_ENDPOINT: process.env["IDENTITY_ENDPOINT"],
      IDENTITY_HEADER: process.env["IDENTITY_HEADER"],
    };

    beforeAll(async () => {
      fake = await FakeAcsEmail.start();
      identity = await FakeManagedIdentity.start(fake.token);
      // @azure/identity reads these itself, as it does inside Azure Functions.
      process.env["IDENTITY_ENDPOINT"] = identity.endpoint;
      process.env["IDENTITY_HEADER"] = identity.header;
    });

    afterAll(async () => {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      await identity.stop();
      await fake.stop();
    });

    it("delivers a message sent with an endpoint and DefaultAzureCredential", async () => {
      // Arrange
      const acsSender = sender(fake, {
        endpoint: fake.endpoint,
        credential: new DefaultAzureCredential(),
      }).sender;

      // Act
      await acsSender.send(failureEmail({ cc: ["oncall@contoso.example"] }));

      // Assert
      expect(fake.delivered).toHaveLength(1);
      expect(fake.delivered[0]).toMatchObject({
        auth: "bearer",
        to: ["dba@contoso.example"],
        cc: ["oncall@contoso.example"],
      });
      expect(identity.requests.map((request) => request.resource)).toContain(
        "https://communication.azure.com/",
      );
      expect(fake.violations).toEqual([]);
    });
  });

  it("delivers a message sent twice under the same message id only once", async () => {
    // Arrange
    const fake = await acs();
    const { sender: acsSender } = sender(fake);
    const email = failureEmail({ messageId: "0b6c8f53-7a44-8d2e-9c31-5e1f2a3b4c5d" });

    // Act
    await acsSender.send(email);
    await acsSender.send(email);

    // Assert
    expect(fake.sendRequests.map((request) => request.operationId)).toEqual([
      "0b6c8f53-7a44-8d2e-9c31-5e1f2a3b4c5d",
      "0b6c8f53-7a44-8d2e-9c31-5e1f2a3b4c5d",
    ]);
    expect(fake.delivered).toHaveLength(1);
    expect(fake.violations).toEqual([]);
  });

  it("sends a message id that is not a UUID as a stable UUID, so a repeat is still recognised", async () => {
    // Arrange
    const fake = await acs();
    const { sender: acsSender } = sender(fake);
    const email = failureEmail({ messageId: "digest:prod-failures:2024-05-01T10:00Z" });

    // Act
    await acsSender.send(email);
    await acsSender.send(email);

    // Assert
    const [first, second] = fake.sendRequests.map((request) => request.operationId);
    expect(first).toMatch(UUID);
    expect(second).toBe(first);
    expect(fake.delivered).toHaveLength(1);
    expect(fake.violations).toEqual([]);
  });

  it("gives a message without an id an operation id of its own", async () => {
    // Arrange
    const fake = await acs();

    // Act
    await sender(fake).sender.send(failureEmail());

    // Assert
    expect(fake.delivered[0]).toMatchObject({ operationIdFromClient: true });
    expect(fake.delivered[0]!.operationId).toMatch(UUID);
    expect(fake.violations).toEqual([]);
  });

  it("reports a 429 whose Retry-After is longer than it waits in-process as retryable, with the delay", async () => {
    // Arrange
    const fake = await acs();
    fake.throttleNextSends(1, 120);
    const { sender: acsSender, waits } = sender(fake);

    // Act
    const error = await failureOf(acsSender.send(failureEmail()));

    // Assert
    expect(error).toMatchObject({
      code: "NOTIFICATION_THROTTLED",
      retryable: true,
      retryAfterMs: 120_000,
    });
    expect(waits).toEqual([]);
    expect(fake.sendRequests).toHaveLength(1);
    expect(fake.emails).toEqual([]);
    expect(fake.violations).toEqual([]);
  });

  it("waits out a short Retry-After and then delivers the message once", async () => {
    // Arrange
    const fake = await acs();
    fake.throttleNextSends(1, 2);
    const { sender: acsSender, waits } = sender(fake);

    // Act
    await acsSender.send(failureEmail({ messageId: "7e57a11e-0000-8000-8000-000000000429" }));

    // Assert
    expect(waits).toEqual([2_000]);
    expect(fake.sendRequests.map((request) => request.status)).toEqual([429, 202]);
    expect(fake.delivered).toHaveLength(1);
    expect(fake.violations).toEqual([]);
  });

  it("reports throttling as retryable, with the Retry-After, once its attempts are spent", async () => {
    // Arrange
    const fake = await acs();
    fake.throttleNextSends(3, 1);
    const { sender: acsSender, waits } = sender(fake, { maxAttempts: 3 });

    // Act
    const error = await failureOf(acsSender.send(failureEmail()));

    // Assert
    expect(error).toMatchObject({
      code: "NOTIFICATION_THROTTLED",
      retryable: true,
      retryAfterMs: 1_000,
    });
    expect(waits).toEqual([1_000, 1_000]);
    expect(fake.sendRequests).toHaveLength(3);
    expect(fake.emails).toEqual([]);
  });

  it("retries a 503 under the same operation id and delivers the message once", async () => {
    // Arrange
    const fake = await acs();
    fake.refuseNextSends(1, {
      status: 503,
      code: "ServiceUnavailable",
      message: "The service is temporarily unavailable.",
    });
    const { sender: acsSender, waits } = sender(fake, { backoffMs: 250 });

    // Act
    await acsSender.send(failureEmail());

    // Assert
    expect(waits).toEqual([250]);
    const [first, second] = fake.sendRequests;
    expect([first?.status, second?.status]).toEqual([503, 202]);
    expect(second?.operationId).toBe(first?.operationId);
    expect(fake.delivered).toHaveLength(1);
    expect(fake.violations).toEqual([]);
  });

  it("reports an operation the service failed as not retryable, with the service's code only", async () => {
    // Arrange
    const fake = await acs();
    fake.failNextOperation({
      code: "EmailDroppedAllRecipientsSuppressed",
      message: "Message was dropped: dba@contoso.example is on the suppression list.",
    });
    const { sender: acsSender, waits } = sender(fake);

    // Act
    const error = await failureOf(acsSender.send(failureEmail()));

    // Assert
    expect(error).toMatchObject({ code: "NOTIFICATION_REJECTED", retryable: false });
    expect(error.message).toContain("Failed: EmailDroppedAllRecipientsSuppressed");
    expect(error.message).not.toContain("dba@contoso.example");
    expect(waits).toEqual([]);
    expect(fake.sendRequests).toHaveLength(1);
    expect(fake.emails.map((email) => email.status)).toEqual(["Failed"]);
    expect(fake.violations).toEqual([]);
  });

  it("reports a 400 refusal as not retryable, with the service's code, and does not retry it", async () => {
    // Arrange
    const fake = await acs();
    fake.refuseNextSends(1, {
      status: 400,
      code: "InvalidSenderUserName",
      message: "The sender user name is not valid for the domain.",
    });
    const { sender: acsSender, waits } = sender(fake);

    // Act
    const error = await failureOf(acsSender.send(failureEmail()));

    // Assert
    expect(error).toMatchObject({
      code: "NOTIFICATION_REJECTED",
      retryable: false,
      recommendedAction: "Check the sender address (a verified domain) and the recipients.",
    });
    expect(error.message).toContain("HTTP 400");
    expect(error.message).toContain("InvalidSenderUserName");
    expect(waits).toEqual([]);
    expect(fake.sendRequests).toHaveLength(1);
    expect(fake.emails).toEqual([]);
  });

  it("keeps the access key and the message body out of the error a wrong key causes", async () => {
    // Arrange
    const fake = await acs();
    const wrongKey = Buffer.from("a-key-of-another-resource-0123456789").toString("base64");
    const email = failureEmail();

    // Act
    const error = await failureOf(
      sender(fake, { connectionString: fake.connectionString(wrongKey) }).sender.send(email),
    );

    // Assert
    expect(error).toMatchObject({ code: "NOTIFICATION_REJECTED", retryable: false });
    expect(error.message).toContain("HTTP 401");
    expect(error.recommendedAction).toContain("access key");
    for (const logged of [error.message, inspect(error, { depth: 10 }), JSON.stringify(error)]) {
      expect(logged).not.toContain(wrongKey);
      expect(logged).not.toContain("could not connect: <timeout>");
    }
    expect(fake.violations).toEqual([
      "POST /emails:send: the HMAC-SHA256 signature does not match the access key",
    ]);
    expect(fake.emails).toEqual([]);
  });

  it("refuses a malformed connection string without quoting it", async () => {
    // Arrange
    const fake = await acs();
    const malformed = `endpoint=${fake.endpoint}/; accesskey=${fake.accessKey}`;

    // Act
    const construct = () =>
      new AcsEmailSender({ connectionString: malformed, senderAddress: SENDER });

    // Assert
    expect(construct).toThrow(NotificationDeliveryError);
    const error = (() => {
      try {
        construct();
      } catch (caught) {
        return caught as NotificationDeliveryError;
      }
      throw new Error("the constructor accepted a malformed connection string");
    })();
    expect(error).toMatchObject({ code: "NOTIFICATION_REJECTED", retryable: false });
    expect(error.message).not.toContain(fake.accessKey);
    expect(inspect(error, { depth: 10 })).not.toContain(fake.accessKey);
  });

  it("refuses to send without a sender address, and without calling the service", async () => {
    // Arrange
    const fake = await acs();
    const { sender: acsSender } = sender(fake, { senderAddress: " " });

    // Act
    const error = await failureOf(acsSender.send(failureEmail()));

    // Assert
    expect(error).toMatchObject({
      code: "NOTIFICATION_REJECTED",
      retryable: false,
      message: "Azure Communication Services email needs a sender address",
    });
    expect(fake.requests).toEqual([]);
  });
});
