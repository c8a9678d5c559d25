import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import {
  AzureKeyCredential,
  AzureSASCredential,
  EventGridPublisherClient,
  generateSharedAccessSignature,
} from "@azure/eventgrid";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { startFixtureHost, type TestHost } from "./runtimeHost.js";

interface RecordedEvent {
  readonly kind: string;
  readonly payload: {
    readonly event: Record<string, unknown>;
    readonly triggerMetadata?: Record<string, unknown>;
    readonly id?: string;
  };
}

const topicKey = randomBytes(32).toString("base64");

describe("Event Grid: the webhook and the local topics", () => {
  let testHost: TestHost;
  let base: string;

  async function received(kind: string): Promise<RecordedEvent[]> {
    return (await (await fetch(`${base}/api/received?kind=${kind}`)).json()) as RecordedEvent[];
  }

  function webhook(functionName: string, init: RequestInit): Promise<Response> {
    const code = encodeURIComponent(testHost.host.keys.systemKeys.eventgrid_extension);
    return fetch(
      `${base}/runtime/webhooks/eventgrid?functionName=${functionName}&code=${code}`,
      init,
    );
  }

  beforeAll(async () => {
    testHost = await startFixtureHost({
      eventGrid: {
        timeScale: 0.001,
        topics: {
          "backup-events": {
            key: topicKey,
            subscriptions: [
              {
                function: "onEvent",
                includedEventTypes: ["PgProtect.Backup.JobStateChanged", "PgProtect.Test.Retry"],
              },
              {
                name: "down-subscriber",
                function: "alwaysFails",
                includedEventTypes: ["PgProtect.Test.DeadLetter"],
                maxDeliveryAttempts: 3,
              },
              {
                name: "short-lived",
                function: "alwaysFails",
                includedEventTypes: ["PgProtect.Test.Expiring"],
                eventTimeToLiveMinutes: 1,
              },
            ],
          },
          "cloud-events": {
            key: topicKey,
            inputSchema: "CloudEventSchemaV1_0",
            subscriptions: [{ function: "onEvent", subjectBeginsWith: "/servers/" }],
          },
        },
      },
    });
    base = testHost.host.url;
  });

  beforeEach(async () => {
    await fetch(`${base}/api/received`, { method: "DELETE" });
  });

  afterAll(async () => {
    await testHost.close();
  });

  describe("the webhook /runtime/webhooks/eventgrid", () => {
    test("answers the subscription-validation handshake without invoking the function", async () => {
      const response = await webhook("onEvent", {
        method: "POST",
        headers: { "aeg-event-type": "SubscriptionValidation", "content-type": "application/json" },
        body: JSON.stringify([
          {
            id: "2d1781af-3a4c-4d7c-bd0c-e34b19da4e66",
            topic: "/subscriptions/x/resourceGroups/rg/providers/Microsoft.EventGrid/topics/t",
            subject: "",
            data: {
              validationCode: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6",
              validationUrl: "https://example.invalid",
            },
            eventType: "Microsoft.EventGrid.SubscriptionValidationEvent",
            eventTime: "2026-01-01T00:00:00Z",
            metadataVersion: "1",
            dataVersion: "1",
          },
        ]),
      });

      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        validationResponse: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6",
      });
      expect(await received("event")).toHaveLength(0);
    });

    test("answers the CloudEvents OPTIONS handshake with the allowed origin", async () => {
      const known = await webhook("onEvent", {
        method: "OPTIONS",
        headers: { "WebHook-Request-Origin": "eventgrid.azure.net" },
      });
      const other = await webhook("onEvent", {
        method: "OPTIONS",
        headers: { "WebHook-Request-Origin": "attacker.example" },
      });

      expect(known.status).toBe(200);
      expect(known.headers.get("webhook-allowed-origin")).toBe("eventgrid.azure.net");
      expect(other.headers.get("webhook-allowed-origin")).toBe("eventgrid.azure.net");
    });

    test("rejects a request without aeg-event-type with 400 and an unknown function with 404", async () => {
      const noHeader = await webhook("onEvent", { method: "POST", body: "[]" });
      const unknown = await webhook("nope", {
        method: "POST",
        headers: { "aeg-event-type": "Notification" },
        body: "[]",
      });

      expect(noHeader.status).toBe(400);
      expect(unknown.status).toBe(404);
      expect(unknown.headers.get("content-type")).toBe("application/problem+json");
      expect(await unknown.json()).toMatchObject({
        status: 404,
        detail: "cannot find function: 'nope'",
      });
    });

    test("dispatches a batch one invocation per event and answers 202", async () => {
      const events = ["a", "b", "c"].map((id) => ({
        id,
        subject: `/jobs/${id}`,
        eventType: "PgProtect.Backup.JobStateChanged",
        eventTime: "2026-01-01T00:00:00Z",
        dataVersion: "1.0",
        data: { job: id },
      }));

      const response = await webhook("onEvent", {
        method: "POST",
        headers: { "aeg-event-type": "Notification", "content-type": "application/json" },
        body: JSON.stringify(events),
      });

      expect(response.status).toBe(202);
      const deliveries = await received("event");
      expect(deliveries.map((entry) => entry.payload.event["id"]).sort()).toEqual(["a", "b", "c"]);
      const first = deliveries.find((entry) => entry.payload.event["id"] === "a");
      expect(first?.payload.event).toEqual(events[0]);
      expect(first?.payload.triggerMetadata?.["data"]).toEqual({ job: "a" });
    });

    test("answers 500 with the failure's message when any event of a batch fails, after running all of them", async () => {
      const response = await webhook("onEvent", {
        method: "POST",
        headers: { "aeg-event-type": "Notification" },
        body: JSON.stringify([
          {
            id: "ok-1",
            subject: "s",
            eventType: "t",
            eventTime: "2026-01-01T00:00:00Z",
            dataVersion: "1",
            data: {},
          },
          {
            id: "bad-1",
            subject: "s",
            eventType: "t",
            eventTime: "2026-01-01T00:00:00Z",
            dataVersion: "1",
            data: { fail: true },
          },
        ]),
      });

      expect(response.status).toBe(500);
      expect(await response.text()).toContain("event bad-1 asked to fail");
      expect((await received("event")).map((entry) => entry.payload.event["id"]).sort()).toEqual([
        "bad-1",
        "ok-1",
      ]);
    });

    test("passes a single CloudEvent through with its own field names", async () => {
      const cloudEvent = {
        specversion: "1.0",
        id: "ce-1",
        source: "/pgprotect",
        type: "PgProtect.Protection.Configured",
        time: "2026-01-01T00:00:00Z",
        datacontenttype: "application/json",
        data: { datasource: "db1" },
      };

      const response = await webhook("onEvent", {
        method: "POST",
        headers: {
          "aeg-event-type": "Notification",
          "content-type": "application/cloudevents+json",
        },
        body: JSON.stringify(cloudEvent),
      });

      expect(response.status).toBe(202);
      expect((await received("event"))[0]?.payload.event).toEqual(cloudEvent);
    });
  });

  describe("a local topic fed by the real EventGridPublisherClient", () => {
    test("delivers Event Grid schema events to the subscriptions whose filters match", async () => {
      const client = new EventGridPublisherClient(
        testHost.host.topics.endpoint("backup-events"),
        "EventGrid",
        new AzureKeyCredential(topicKey),
        { allowInsecureConnection: true },
      );

      await client.send([
        {
          id: "job-1",
          subject: "/vaults/v1/jobs/job-1",
          eventType: "PgProtect.Backup.JobStateChanged",
          dataVersion: "1.0",
          data: { state: "Completed" },
        },
        { subject: "/ignored", eventType: "PgProtect.Unsubscribed", dataVersion: "1.0", data: {} },
      ]);
      await testHost.host.topics.whenIdle();

      const deliveries = await received("event");
      expect(deliveries).toHaveLength(1);
      expect(deliveries[0]?.payload.event).toMatchObject({
        id: "job-1",
        subject: "/vaults/v1/jobs/job-1",
        eventType: "PgProtect.Backup.JobStateChanged",
        data: { state: "Completed" },
        dataVersion: "1.0",
        metadataVersion: "1",
        topic: expect.stringMatching(/\/topics\/backup-events$/),
      });
    });

    test("delivers CloudEvents 1.0 and filters on the subject", async () => {
      const client = new EventGridPublisherClient(
        testHost.host.topics.endpoint("cloud-events"),
        "CloudEvent",
        new AzureKeyCredential(topicKey),
        { allowInsecureConnection: true },
      );

      await client.send([
        {
          type: "PgProtect.Protection.Configured",
          source: "/pgprotect",
          subject: "/servers/pg1",
          data: { ok: true },
        },
        {
          type: "PgProtect.Protection.Configured",
          source: "/pgprotect",
          subject: "/other/pg2",
          data: { ok: true },
        },
      ]);
      await testHost.host.topics.whenIdle();

      const deliveries = await received("event");
      expect(deliveries).toHaveLength(1);
      expect(deliveries[0]?.payload.event).toMatchObject({
        specversion: "1.0",
        type: "PgProtect.Protection.Configured",
        source: "/pgprotect",
        subject: "/servers/pg1",
        data: { ok: true },
      });
    });

    test("rejects a wrong key with 401 and accepts a shared access signature made from the right one", async () => {
      const endpoint = testHost.host.topics.endpoint("backup-events");
      const wrong = new EventGridPublisherClient(
        endpoint,
        "EventGrid",
        new AzureKeyCredential(randomBytes(32).toString("base64")),
        {
          allowInsecureConnection: true,
        },
      );
      const sas = await generateSharedAccessSignature(
        endpoint,
        new AzureKeyCredential(topicKey),
        new Date(Date.now() + 60_000),
      );
      const signed = new EventGridPublisherClient(
        endpoint,
        "EventGrid",
        new AzureSASCredential(sas),
        {
          allowInsecureConnection: true,
        },
      );
      const event = {
        subject: "/s",
        eventType: "PgProtect.Backup.JobStateChanged",
        dataVersion: "1.0",
        data: {},
      };

      await expect(wrong.send([event])).rejects.toMatchObject({ statusCode: 401 });
      await signed.send([event]);
      await testHost.host.topics.whenIdle();

      expect(await received("event")).toHaveLength(1);
    });

    test("rejects events that break the schema with 400", async () => {
      const response = await fetch(testHost.host.topics.endpoint("backup-events"), {
        method: "POST",
        headers: { "aeg-sas-key": topicKey, "content-type": "application/json" },
        body: JSON.stringify([{ id: "x", eventType: "t" }]),
      });

      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: "BadRequest" } });
    });

    test("retries a failing delivery on the Event Grid schedule until it succeeds", async () => {
      const client = new EventGridPublisherClient(
        testHost.host.topics.endpoint("backup-events"),
        "EventGrid",
        new AzureKeyCredential(topicKey),
        { allowInsecureConnection: true },
      );

      await client.send([
        {
          id: "retry-1",
          subject: "/r",
          eventType: "PgProtect.Test.Retry",
          dataVersion: "1.0",
          data: { failUntilAttempt: 3 },
        },
      ]);
      await testHost.host.topics.whenIdle();

      expect(await received("event")).toHaveLength(3);
      const failures = testHost.logLines.filter((line) =>
        /Executed 'Functions\.onEvent' \(Failed.*event retry-1 fails/.test(line),
      );
      expect(failures).toHaveLength(2);
    });

    test("dead-letters an event after its subscription's maximum delivery attempts", async () => {
      const client = new EventGridPublisherClient(
        testHost.host.topics.endpoint("backup-events"),
        "EventGrid",
        new AzureKeyCredential(topicKey),
        { allowInsecureConnection: true },
      );

      await client.send([
        {
          id: "dead-1",
          subject: "/d",
          eventType: "PgProtect.Test.DeadLetter",
          dataVersion: "1.0",
          data: {},
        },
      ]);
      await testHost.host.topics.whenIdle();

      expect(await received("failedEvent")).toHaveLength(3);
      const dir = path.join(
        testHost.stateDir,
        "eventgrid",
        "deadletter",
        "backup-events",
        "down-subscriber",
      );
      const files = readdirSync(dir).filter((file) => file.startsWith("dead-1."));
      expect(files).toHaveLength(1);
      const [letter] = JSON.parse(readFileSync(path.join(dir, files[0] ?? ""), "utf8")) as Array<
        Record<string, unknown>
      >;
      expect(letter).toMatchObject({
        id: "dead-1",
        deadLetterReason: "MaxDeliveryAttemptsExceeded",
        deliveryAttempts: 3,
        lastHttpStatusCode: 500,
        lastDeliveryOutcome: expect.stringContaining("this subscriber is down"),
      });
    });

    test("dead-letters an event whose time-to-live runs out before the next retry", async () => {
      const client = new EventGridPublisherClient(
        testHost.host.topics.endpoint("backup-events"),
        "EventGrid",
        new AzureKeyCredential(topicKey),
        { allowInsecureConnection: true },
      );

      await client.send([
        {
          id: "ttl-1",
          subject: "/t",
          eventType: "PgProtect.Test.Expiring",
          dataVersion: "1.0",
          data: {},
        },
      ]);
      await testHost.host.topics.whenIdle();

      const dir = path.join(
        testHost.stateDir,
        "eventgrid",
        "deadletter",
        "backup-events",
        "short-lived",
      );
      const [file] = readdirSync(dir).filter((name) => name.startsWith("ttl-1."));
      const [letter] = JSON.parse(readFileSync(path.join(dir, file ?? ""), "utf8")) as Array<
        Record<string, unknown>
      >;
      expect(letter?.["deadLetterReason"]).toBe("TimeToLiveExceeded");
      expect(Number(letter?.["deliveryAttempts"])).toBeLessThan(30);
      expect((await received("failedEvent")).length).toBe(Number(letter?.["deliveryAttempts"]));
    });
  });
});
