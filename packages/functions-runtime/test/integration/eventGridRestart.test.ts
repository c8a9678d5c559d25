import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { AzureKeyCredential, EventGridPublisherClient } from "@azure/eventgrid";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { EventGridSettings } from "../../src/eventgrid/topics.js";
import { ManualClock } from "../../src/timers/clock.js";
import { startFixtureHost } from "./runtimeHost.js";

const topicKey = randomBytes(32).toString("base64");
const eventGrid: EventGridSettings = {
  topics: {
    jobs: {
      key: topicKey,
      subscriptions: [
        { function: "onEvent", includedEventTypes: ["PgProtect.Test.Retry"] },
        {
          name: "expiring",
          function: "alwaysFails",
          includedEventTypes: ["PgProtect.Test.Expiring"],
          eventTimeToLiveMinutes: 30,
        },
      ],
    },
  },
};

describe("Event Grid deliveries across a host restart", () => {
  let stateDir: string;

  beforeAll(() => {
    stateDir = mkdtempSync(path.join(os.tmpdir(), "pgprotect-eg-restart-"));
  });

  afterAll(() => {
    rmSync(stateDir, { recursive: true, force: true });
  });

  test("a delivery waiting for its retry when the host stops is resumed, and an expired one is dead-lettered", async () => {
    const publishedAt = new Date("2026-05-01T10:00:00Z");
    const first = await startFixtureHost({
      clock: new ManualClock(publishedAt),
      stateDir,
      eventGrid,
    });
    const client = new EventGridPublisherClient(
      first.host.topics.endpoint("jobs"),
      "EventGrid",
      new AzureKeyCredential(topicKey),
      {
        allowInsecureConnection: true,
      },
    );
    await client.send([
      {
        id: "resume-1",
        subject: "/r",
        eventType: "PgProtect.Test.Retry",
        dataVersion: "1.0",
        data: { failUntilAttempt: 2 },
      },
      {
        id: "expire-1",
        subject: "/e",
        eventType: "PgProtect.Test.Expiring",
        dataVersion: "1.0",
        data: {},
      },
    ]);
    await first.host.topics.whenQuiet();
    expect(first.host.topics.pendingDeliveries).toBe(2);
    await first.close();
    expect(readdirSync(path.join(stateDir, "eventgrid", "pending"))).toHaveLength(2);

    // One hour later: the retry is overdue and the 30-minute time-to-live has run out.
    const clock = new ManualClock(new Date(publishedAt.getTime() + 3_600_000));
    const second = await startFixtureHost({ clock, stateDir, eventGrid });
    try {
      await second.host.topics.whenQuiet();
      clock.advanceBy(30_000);
      await second.host.topics.whenIdle();

      const received = (await (
        await fetch(`${second.host.url}/api/received?kind=event`)
      ).json()) as unknown[];
      expect(received).toHaveLength(2);
      expect(second.logLines.join("\n")).toMatch(/Resumed 2 pending Event Grid deliveries/);
      expect(
        second.logLines.filter((line) => /Executed 'Functions\.onEvent' \(Succeeded/.test(line)),
      ).toHaveLength(1);
      expect(readdirSync(path.join(stateDir, "eventgrid", "pending"))).toHaveLength(0);
      const letters = readdirSync(
        path.join(stateDir, "eventgrid", "deadletter", "jobs", "expiring"),
      );
      expect(letters.filter((file) => file.startsWith("expire-1."))).toHaveLength(1);
    } finally {
      await second.close();
    }
  });
});
