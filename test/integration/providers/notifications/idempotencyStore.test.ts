import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { DeliveryRecord } from "../../../../src/domain/notifications/digest.js";
import {
  FileDeliveryLog,
  InMemoryDeliveryLog,
  type DeliveryLog,
} from "../../../../src/providers/notifications/deliveryLog.js";
import {
  FileIdempotencyStore,
  InMemoryIdempotencyStore,
  type IdempotencyStore,
} from "../../../../src/providers/notifications/idempotencyStore.js";

const folders: string[] = [];

afterEach(async () => {
  await Promise.all(
    folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })),
  );
});

async function tempFolder(): Promise<string> {
  const folder = await mkdtemp(path.join(tmpdir(), "pgprotect-notify-"));
  folders.push(folder);
  return folder;
}

const now = new Date("2026-11-20T22:00:00Z");
const later = (ms: number) => new Date(now.getTime() + ms);
const KEY = "8d5c8f0e-3f1a-8b2c-9d4e-5f6a7b8c9d0e:ops-teams";

const stores: [string, () => Promise<IdempotencyStore>][] = [
  ["in memory", async () => new InMemoryIdempotencyStore()],
  ["in files", async () => new FileIdempotencyStore(await tempFolder())],
];

describe.each(stores)("an idempotency store %s", (_name, create) => {
  it("answers done for an event delivered before", async () => {
    const store = await create();
    expect(await store.claim(KEY, now, 60_000)).toBe("claimed");
    await store.complete(KEY, now);

    expect(await store.claim(KEY, later(86_400_000), 60_000)).toBe("done");
  });

  it("answers busy while another delivery holds the claim, and free again once its lease expires", async () => {
    const store = await create();
    await store.claim(KEY, now, 60_000);

    expect(await store.claim(KEY, later(59_000), 60_000)).toBe("busy");
    expect(await store.claim(KEY, later(61_000), 60_000)).toBe("claimed");
  });

  it("lets a retry claim at once after a failed delivery released it", async () => {
    const store = await create();
    await store.claim(KEY, now, 60_000);
    await store.release(KEY);

    expect(await store.claim(KEY, now, 60_000)).toBe("claimed");
  });

  it("grants one of many simultaneous claims of the same key", async () => {
    const store = await create();

    const results = await Promise.all(
      Array.from({ length: 25 }, () => store.claim(KEY, now, 60_000)),
    );

    expect(results.filter((result) => result === "claimed")).toHaveLength(1);
    expect(results.filter((result) => result === "busy")).toHaveLength(24);
  });

  it("does not let release undo a completed delivery", async () => {
    const store = await create();
    await store.claim(KEY, now, 60_000);
    await store.complete(KEY, now);
    await store.release(KEY);

    expect(await store.claim(KEY, now, 60_000)).toBe("done");
  });
});

describe("FileIdempotencyStore", () => {
  it("remembers deliveries across restarts and across store instances", async () => {
    const folder = await tempFolder();
    const first = new FileIdempotencyStore(folder);
    await first.claim(KEY, now, 60_000);
    await first.complete(KEY, now);

    expect(await new FileIdempotencyStore(folder).claim(KEY, now, 60_000)).toBe("done");
  });

  it("leaves one file per key and no temporary files behind", async () => {
    const folder = await tempFolder();
    const store = new FileIdempotencyStore(folder);
    await Promise.all(Array.from({ length: 10 }, () => store.claim(KEY, now, 60_000)));
    await store.complete(KEY, now);
    await store.claim("other:key/with:odd chars", now, 60_000);

    const names = await readdir(folder);
    expect(names).toHaveLength(2);
    expect(names.every((name) => /^[0-9a-f]{64}\.json$/.test(name))).toBe(true);
  });
});

const logs: [string, () => Promise<DeliveryLog>][] = [
  ["in memory", async () => new InMemoryDeliveryLog()],
  ["in a file", async () => new FileDeliveryLog(await tempFolder())],
];

const sent = (minute: number, eventId = `e${minute}`): DeliveryRecord => ({
  kind: "sent",
  channelId: "ops-teams",
  eventId,
  at: later(minute * 60_000).toISOString(),
  digestKey: "datasource:/db/orders",
});

describe.each(logs)("a delivery log %s", (_name, create) => {
  it("lists records since a time, in the order they were written", async () => {
    const log = await create();
    for (const minute of [0, 10, 20]) await log.append(sent(minute));

    expect((await log.list(later(5 * 60_000))).map((record) => record.eventId)).toEqual([
      "e10",
      "e20",
    ]);
  });

  it("keeps a held record until its release, however old, and prunes what is older", async () => {
    const log = await create();
    await log.append({
      ...sent(0),
      kind: "held",
      digestKey: "k",
      releaseAt: later(60 * 60_000).toISOString(),
      entry: {} as never,
    });
    await log.append(sent(1));
    await log.prune(later(30 * 60_000));

    expect((await log.list(later(30 * 60_000))).map((record) => record.kind)).toEqual(["held"]);
  });
});

describe("FileDeliveryLog", () => {
  it("skips a line torn by a crash instead of failing", async () => {
    const folder = await tempFolder();
    const log = new FileDeliveryLog(folder);
    await log.append(sent(0));
    await writeFile(
      path.join(folder, "deliveries.jsonl"),
      `${JSON.stringify(sent(0))}\n{"kind":"se`,
      "utf8",
    );

    expect(await log.list(now)).toHaveLength(1);
  });
});
