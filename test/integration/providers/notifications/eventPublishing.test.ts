import { AzureKeyCredential, EventGridPublisherClient } from "@azure/eventgrid";
import { afterEach, describe, expect, it } from "vitest";
import { toPublishable } from "../../../../src/domain/events/builders.js";
import { parsePgProtectEvent } from "../../../../src/domain/events/schema.js";
import { oneOfEach } from "../../../support/notificationFixtures.js";
import {
  startWebhookServer,
  type TestWebhookServer,
} from "../../../support/notificationServers.js";

const servers: TestWebhookServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe("pgprotect events through the Event Grid SDK", () => {
  it("reach a topic endpoint as a CloudEvents batch that parses back to the same events", async () => {
    const topic = await startWebhookServer(() => ({ status: 200 }));
    servers.push(topic);
    const endpoint = `http://127.0.0.1:${new URL(topic.url).port}/api/events`;
    const client = new EventGridPublisherClient(
      endpoint,
      "CloudEvent",
      new AzureKeyCredential("topic-key"),
      // The loopback stand-in for the topic speaks plain HTTP.
      { allowInsecureConnection: true },
    );
    const events = oneOfEach();

    await client.send(events.map((event) => toPublishable(event)));

    const request = await topic.next();
    expect(request.headers["content-type"]).toMatch(/^application\/cloudevents-batch\+json/);
    expect(request.headers["aeg-sas-key"]).toBe("topic-key");
    const received = (JSON.parse(request.body) as unknown[]).map((event) =>
      parsePgProtectEvent(event),
    );
    expect(received).toEqual(events);
  });
});
