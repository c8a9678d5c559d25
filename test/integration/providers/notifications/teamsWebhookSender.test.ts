import { afterEach, describe, expect, it } from "vitest";
import { teamsMessageFor } from "../../../../src/domain/notifications/teamsCard.js";
import { describeEvent } from "../../../../src/domain/notifications/view.js";
import { TeamsWebhookSender } from "../../../../src/providers/notifications/teamsWebhookSender.js";
import { NotificationDeliveryError } from "../../../../src/providers/notifications/types.js";
import { adaptiveCardProblems, factsOf, visibleTexts } from "../../../support/adaptiveCard.js";
import { failedJob, jobEvent, settings } from "../../../support/notificationFixtures.js";
import {
  startWebhookServer,
  type ScriptedResponse,
  type TestWebhookServer,
} from "../../../support/notificationServers.js";

const servers: TestWebhookServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function webhook(respond?: (index: number) => ScriptedResponse): Promise<TestWebhookServer> {
  const server = await startWebhookServer(respond);
  servers.push(server);
  return server;
}

function failureCard(errorMessage?: string) {
  return teamsMessageFor(describeEvent(jobEvent(failedJob(errorMessage))), {
    links: settings().links,
    ruleNames: ["prod-failures"],
  });
}

async function errorOf(promise: Promise<unknown>): Promise<NotificationDeliveryError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(NotificationDeliveryError);
    return error as NotificationDeliveryError;
  }
  throw new Error("expected the send to fail");
}

describe("TeamsWebhookSender against a real HTTP endpoint", () => {
  it("posts an Adaptive Card 1.4 in the Workflows envelope, as JSON", async () => {
    const server = await webhook();

    await new TeamsWebhookSender({ url: server.url }).send(failureCard());

    const request = await server.next();
    expect(request.method).toBe("POST");
    expect(request.path).toMatch(/^\/workflows\/.*sig=/);
    expect(request.headers["content-type"]).toBe("application/json");
    const posted = JSON.parse(request.body) as { attachments: { content: { version: string } }[] };
    expect(adaptiveCardProblems(posted)).toEqual([]);
    expect(posted.attachments[0]?.content.version).toBe("1.4");
    expect(factsOf(posted)).toMatchObject({
      Status: "Failed",
      Datasource: "orders",
      Vault: "vault-prod",
      "Backup rule": "BackupWeekly",
    });
  });

  it("delivers a card under 28 KB when the error message is 100 KB, and the card says it was shortened", async () => {
    const server = await webhook();

    await new TeamsWebhookSender({ url: server.url }).send(failureCard("E".repeat(100 * 1024)));

    const request = await server.next();
    expect(Buffer.byteLength(request.body, "utf8")).toBeLessThan(28 * 1024);
    expect(adaptiveCardProblems(JSON.parse(request.body))).toEqual([]);
    expect(visibleTexts(JSON.parse(request.body)).join("\n")).toMatch(
      /the error message \(showing [\d,]+ of 102,400 characters\)/,
    );
  });

  it("waits as long as a 429's Retry-After asks and then delivers", async () => {
    const server = await webhook((index) =>
      index === 0 ? { status: 429, headers: { "retry-after": "1" } } : { status: 202 },
    );

    await new TeamsWebhookSender({ url: server.url }).send(failureCard());

    const [throttled, accepted] = [await server.next(), await server.next()];
    expect(accepted.body).toBe(throttled.body);
    expect(accepted.at - throttled.at).toBeGreaterThanOrEqual(950);
    expect(server.received).toHaveLength(2);
  });

  it("retries a 5xx with back-off and succeeds on a later attempt", async () => {
    const server = await webhook((index) =>
      index < 2 ? { status: 502, body: "Bad gateway" } : { status: 202 },
    );
    const waits: number[] = [];

    await new TeamsWebhookSender({
      url: server.url,
      backoffMs: 200,
      wait: async (ms) => void waits.push(ms),
    }).send(failureCard());

    expect(server.received).toHaveLength(3);
    expect(waits).toEqual([200, 400]);
  });

  it("gives up with a retryable error that carries the delay when Retry-After is longer than it waits in-process", async () => {
    const server = await webhook(() => ({ status: 429, headers: { "retry-after": "120" } }));

    const error = await errorOf(new TeamsWebhookSender({ url: server.url }).send(failureCard()));

    expect(server.received).toHaveLength(1);
    expect(error).toMatchObject({
      code: "NOTIFICATION_THROTTLED",
      retryable: true,
      retryAfterMs: 120_000,
    });
  });

  it("treats a connector's 200 that reports HTTP 429 in the body as throttling", async () => {
    const server = await webhook((index) =>
      index === 0
        ? {
            status: 200,
            body: "Microsoft Teams endpoint returned HTTP error 429 with ContextId abc",
          }
        : { status: 200, body: "1" },
    );
    const waits: number[] = [];

    await new TeamsWebhookSender({ url: server.url, wait: async (ms) => void waits.push(ms) }).send(
      failureCard(),
    );

    expect(server.received).toHaveLength(2);
    expect(waits).toEqual([1_000]);
  });

  it("does not retry a refusal, and never puts the webhook's signature in the error", async () => {
    const server = await webhook(() => ({
      status: 400,
      body: "Bad request: flow failed. See run history.",
    }));

    const error = await errorOf(new TeamsWebhookSender({ url: server.url }).send(failureCard()));

    expect(server.received).toHaveLength(1);
    expect(error).toMatchObject({ code: "NOTIFICATION_REJECTED", retryable: false });
    expect(error.message).toContain("HTTP 400");
    expect(
      JSON.stringify({ message: error.message, json: error.toJSON(), stack: error.stack }),
    ).not.toContain(server.signature);
  });

  it("reports an unreachable endpoint as retryable, without the URL", async () => {
    const server = await webhook();
    const url = server.url;
    await server.close();
    servers.splice(0);

    const error = await errorOf(
      new TeamsWebhookSender({ url, maxAttempts: 1 }).send(failureCard()),
    );

    expect(error).toMatchObject({ code: "NOTIFICATION_ENDPOINT_UNAVAILABLE", retryable: true });
    expect(error.message).not.toContain(server.signature);
  });

  it("keeps the URL out of its own JSON form", async () => {
    const server = await webhook();

    expect(JSON.stringify(new TeamsWebhookSender({ url: server.url }))).not.toContain(
      server.signature,
    );
  });
});
