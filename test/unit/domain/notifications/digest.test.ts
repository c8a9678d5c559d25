import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  digestEntryOf,
  digestId,
  digestKeyOf,
  dueDigests,
  planDelivery,
  type DeliveryRecord,
  type DigestSettings,
} from "../../../../src/domain/notifications/digest.js";
import { describeEvent, type NotificationView } from "../../../../src/domain/notifications/view.js";
import {
  backupJob,
  databaseId,
  failedJob,
  jobEvent,
} from "../../../support/notificationFixtures.js";

const hourly: DigestSettings = { windowMinutes: 60, maxMessagesPerWindow: 20 };
const CHANNEL = "ops-teams";
const T0 = Date.parse("2026-11-20T22:00:00Z");
const minutes = (n: number) => new Date(T0 + n * 60_000);

/** A failure of one datasource at a minute past T0; each gets its own job, hence its own event id. */
function failureAt(minute: number, database = "orders"): NotificationView {
  const name = `00000000-0000-4000-8000-${String(minute).padStart(6, "0")}${database.padStart(6, "0").slice(-6)}`;
  const job = failedJob("connection refused", {
    name,
    id: `${backupJob().id.replace(/[^/]+$/, "")}${name}`,
    dataSourceId: databaseId("pg-orders", database),
    dataSourceName: database,
    endTime: minutes(minute).toISOString(),
  });
  return describeEvent(jobEvent(job));
}

/** Plays events through the planner as the dispatcher does, recording every decision. */
class Channel {
  readonly records: DeliveryRecord[] = [];
  readonly messages: { at: Date; eventIds: string[]; kind: "sent" | "digest" }[] = [];

  constructor(private readonly settings: DigestSettings = hourly) {}

  deliver(view: NotificationView, now: Date) {
    const plan = planDelivery({
      view,
      channelId: CHANNEL,
      history: this.records,
      now,
      settings: this.settings,
    });
    if (plan.action === "send") {
      this.records.push({
        kind: "sent",
        channelId: CHANNEL,
        eventId: view.eventId,
        at: now.toISOString(),
        ...(plan.digestKey ? { digestKey: plan.digestKey } : {}),
      });
      this.messages.push({ at: now, eventIds: [view.eventId], kind: "sent" });
    } else if (plan.action === "hold") {
      this.records.push({
        kind: "held",
        channelId: CHANNEL,
        eventId: view.eventId,
        at: now.toISOString(),
        digestKey: plan.digestKey,
        releaseAt: plan.releaseAt,
        entry: digestEntryOf(view),
      });
    } else {
      this.#digest(plan.digest, now);
    }
    return plan;
  }

  flush(now: Date) {
    const digests = dueDigests({ history: this.records, now });
    for (const digest of digests) this.#digest(digest, now);
    return digests;
  }

  #digest(digest: { digestKeys: readonly string[]; covers: readonly string[] }, now: Date) {
    this.records.push({
      kind: "digest",
      channelId: CHANNEL,
      eventId: digestId({ channelId: CHANNEL, covers: digest.covers }),
      at: now.toISOString(),
      digestKeys: digest.digestKeys,
      covers: digest.covers,
    });
    this.messages.push({ at: now, eventIds: [...digest.covers], kind: "digest" });
  }
}

describe("planDelivery", () => {
  it("sends the first failure of a datasource at once", () => {
    expect(new Channel().deliver(failureAt(0), minutes(0))).toEqual({
      action: "send",
      digestKey: digestKeyOf({ datasourceId: databaseId() }),
    });
  });

  it("holds a repeat failure of the same datasource until an hour after the message that went out", () => {
    const channel = new Channel();
    channel.deliver(failureAt(0), minutes(0));

    const plan = channel.deliver(failureAt(10), minutes(10));

    expect(plan).toMatchObject({
      action: "hold",
      reason: "repeat",
      releaseAt: minutes(60).toISOString(),
    });
  });

  it("does not hold a failure of another datasource", () => {
    const channel = new Channel();
    channel.deliver(failureAt(0, "orders"), minutes(0));

    expect(channel.deliver(failureAt(1, "billing"), minutes(1)).action).toBe("send");
  });

  it("never holds good news, however often it comes", () => {
    const channel = new Channel();
    const completed = describeEvent(jobEvent(backupJob()));

    expect([0, 1, 2].map((minute) => channel.deliver(completed, minutes(minute)).action)).toEqual([
      "send",
      "send",
      "send",
    ]);
  });

  it("merges held failures into the next failure that goes out after the window", () => {
    const channel = new Channel();
    channel.deliver(failureAt(0), minutes(0));
    channel.deliver(failureAt(10), minutes(10));
    channel.deliver(failureAt(20), minutes(20));

    const plan = channel.deliver(failureAt(70), minutes(70));

    expect(plan.action).toBe("digest");
    expect(channel.messages.map((message) => message.eventIds.length)).toEqual([1, 3]);
    expect(channel.messages[1]?.eventIds).toEqual([
      failureAt(10).eventId,
      failureAt(20).eventId,
      failureAt(70).eventId,
    ]);
  });

  it("holds failures beyond the channel's budget per window and sends them as one digest", () => {
    const channel = new Channel({ windowMinutes: 60, maxMessagesPerWindow: 20 });

    const plans = Array.from({ length: 100 }, (_, i) =>
      channel.deliver(failureAt(0, `db${i}`), minutes(0)),
    );
    const digests = channel.flush(minutes(60));

    expect(plans.filter((plan) => plan.action === "send")).toHaveLength(20);
    expect(plans.filter((plan) => plan.action === "hold" && plan.reason === "burst")).toHaveLength(
      80,
    );
    expect(digests).toHaveLength(1);
    expect(digests[0]?.entries).toHaveLength(80);
  });

  it("sends every failure on its own when digests are off", () => {
    const channel = new Channel({ windowMinutes: 0, maxMessagesPerWindow: 20 });

    expect(
      [0, 1].map((minute) => channel.deliver(failureAt(minute), minutes(minute)).action),
    ).toEqual(["send", "send"]);
  });
});

describe("dueDigests", () => {
  it("releases held failures when their window closes, and only once", () => {
    const channel = new Channel();
    channel.deliver(failureAt(0), minutes(0));
    channel.deliver(failureAt(5), minutes(5));

    expect(channel.flush(minutes(59))).toEqual([]);
    const [digest] = channel.flush(minutes(60));
    expect(digest?.entries.map((entry) => entry.eventId)).toEqual([failureAt(5).eventId]);
    expect(channel.flush(minutes(120))).toEqual([]);
  });

  it("gives a digest an id that depends only on what it covers", () => {
    expect(digestId({ channelId: CHANNEL, covers: ["b", "a"] })).toBe(
      digestId({ channelId: CHANNEL, covers: ["a", "b"] }),
    );
    expect(digestId({ channelId: CHANNEL, covers: ["a"] })).not.toBe(
      digestId({ channelId: "dba-email", covers: ["a"] }),
    );
  });
});

describe("digests over any sequence of failures", () => {
  const step = fc.record({
    gap: fc.integer({ min: 0, max: 90 }),
    database: fc.constantFrom("orders", "billing", "crm"),
    flush: fc.boolean(),
  });

  it("deliver every failure exactly once, and a datasource at most once an hour", () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
        const channel = new Channel({ windowMinutes: 60, maxMessagesPerWindow: 1000 });
        const views: NotificationView[] = [];
        let minute = 0;
        for (const { gap, database, flush } of steps) {
          minute += gap;
          const view = failureAt(minute, database);
          if (views.some((seen) => seen.eventId === view.eventId)) continue;
          views.push(view);
          channel.deliver(view, minutes(minute));
          if (flush) channel.flush(minutes(minute));
        }
        channel.flush(minutes(minute + 1_000));

        const delivered = channel.messages.flatMap((message) => message.eventIds);
        expect([...delivered].sort()).toEqual(views.map((view) => view.eventId).sort());
        for (const database of ["orders", "billing", "crm"]) {
          const ids = new Set(
            views.filter((view) => view.datasourceName === database).map((view) => view.eventId),
          );
          const times = channel.messages
            .filter((message) => message.eventIds.some((id) => ids.has(id)))
            .map((message) => message.at.getTime());
          for (let i = 1; i < times.length; i++)
            expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(60 * 60_000);
        }
      }),
      { numRuns: 300 },
    );
  });
});
