import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { TableClient } from "@azure/data-tables";
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
import { TableDeliveryLog } from "../../../../src/providers/notifications/tableDeliveryLog.js";
import { TableIdempotencyStore } from "../../../../src/providers/notifications/tableIdempotencyStore.js";
import {
  NotificationTable,
  notificationStateUnavailable,
} from "../../../../src/providers/notifications/tableStorage.js";
import { NotificationDeliveryError } from "../../../../src/providers/notifications/types.js";
import { allEntities, uniqueTableName, useAzuriteTable } from "../../../support/azurite.js";

const azurite = useAzuriteTable();

/** A fresh table on the file's Azurite, created by the store at first use. */
function freshTable(): NotificationTable {
  const tableName = uniqueTableName();
  return new NotificationTable({ tableName, connect: () => azurite.service.client(tableName) });
}

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
  ["in Table Storage", async () => new TableIdempotencyStore(freshTable())],
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

describe("TableIdempotencyStore", () => {
  it("answers done to another instance sharing the table", async () => {
    // Arrange
    const tableName = uniqueTableName();
    const instance = () =>
      new TableIdempotencyStore(
        new NotificationTable({ tableName, connect: () => azurite.service.client(tableName) }),
      );
    const first = instance();
    await first.claim(KEY, now, 60_000);
    await first.complete(KEY, now);

    // Act
    const answer = await instance().claim(KEY, later(1_000), 60_000);

    // Assert
    expect(answer).toBe("done");
  });

  it("lets exactly one of many instances take over a claim whose lease expired", async () => {
    // Arrange
    const tableName = uniqueTableName();
    const instances = Array.from(
      { length: 12 },
      () =>
        new TableIdempotencyStore(
          new NotificationTable({ tableName, connect: () => azurite.service.client(tableName) }),
        ),
    );
    await instances[0]!.claim(KEY, now, 60_000);

    // Act
    const results = await Promise.all(
      instances.map((store) => store.claim(KEY, later(61_000), 60_000)),
    );

    // Assert
    expect(results.filter((result) => result === "claimed")).toHaveLength(1);
    expect(results.filter((result) => result === "busy")).toHaveLength(11);
  });

  it("keeps apart keys that differ only in characters Table Storage forbids in keys", async () => {
    // Arrange
    const store = new TableIdempotencyStore(freshTable());
    const keys = [
      "event:a/b",
      "event:a\\b",
      "event:a#b",
      "event:a?b",
      "event:a%2Fb",
      "event:a~2Fb",
      "event:a\u0001b",
      "event:a\u0085b",
      "event:a'b",
      "event:a''b",
      `event:${"x".repeat(2_000)}`,
      `event:${"x".repeat(1_999)}y`,
    ];

    // Act
    const claims = await Promise.all(keys.map((key) => store.claim(key, now, 60_000)));
    await store.complete(keys[0]!, now);
    const again = await Promise.all(keys.map((key) => store.claim(key, now, 60_000)));

    // Assert
    expect(claims).toEqual(keys.map(() => "claimed"));
    expect(again).toEqual(["done", ...keys.slice(1).map(() => "busy")]);
  });

  it("creates its table at first use", async () => {
    // Arrange
    const tableName = uniqueTableName();
    const probe = azurite.service.client(tableName);
    const before = await allEntities(probe).catch(
      (error: { statusCode?: number }) => error.statusCode,
    );
    const store = new TableIdempotencyStore(
      new NotificationTable({ tableName, connect: () => azurite.service.client(tableName) }),
    );

    // Act
    await store.claim(KEY, now, 60_000);

    // Assert
    expect(before).toBe(404);
    expect(await allEntities(probe)).toHaveLength(1);
  });

  it("fails retryably when the service refuses the credentials, and names neither the key nor the connection string", async () => {
    // Arrange
    const wrongKey = Buffer.from("not-the-account-key-at-all-0123456789").toString("base64");
    const connectionString = azurite.service.connectionString.replace(
      /AccountKey=[^;]+/,
      `AccountKey=${wrongKey}`,
    );
    const tableName = uniqueTableName();
    const store = new TableIdempotencyStore(
      new NotificationTable({
        tableName,
        connect: () =>
          TableClient.fromConnectionString(connectionString, tableName, {
            allowInsecureConnection: true,
            retryOptions: { maxRetries: 0 },
          }),
      }),
    );

    // Act
    const error = await store.claim(KEY, now, 60_000).catch((caught: unknown) => caught);

    // Assert
    expect(error).toBeInstanceOf(NotificationDeliveryError);
    expect(error).toMatchObject({
      code: notificationStateUnavailable,
      retryable: true,
      httpStatus: 503,
    });
    expect((error as Error).message).toMatch(new RegExp(`failed \\(table '${tableName}', 403\\b`));
    expect((error as Error).message).not.toContain(wrongKey);
    expect((error as Error).message).not.toContain("AccountKey");
    expect((error as NotificationDeliveryError).recommendedAction).toContain(
      "Storage Table Data Contributor",
    );
  });

  it("fails retryably when the service cannot be reached", async () => {
    // Arrange
    const tableName = uniqueTableName();
    const closedPort = azurite.service.connectionString.replace(/127\.0\.0\.1:\d+/, "127.0.0.1:1");
    const store = new TableIdempotencyStore(
      new NotificationTable({
        tableName,
        connect: () =>
          TableClient.fromConnectionString(closedPort, tableName, {
            allowInsecureConnection: true,
            retryOptions: { maxRetries: 0 },
          }),
      }),
    );

    // Act
    const error = await store.claim(KEY, now, 60_000).catch((caught: unknown) => caught);

    // Assert
    expect(error).toMatchObject({ code: notificationStateUnavailable, retryable: true });
  });
});

const logs: [string, () => Promise<DeliveryLog>][] = [
  ["in memory", async () => new InMemoryDeliveryLog()],
  ["in a file", async () => new FileDeliveryLog(await tempFolder())],
  ["in Table Storage", async () => new TableDeliveryLog(freshTable())],
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

describe("TableDeliveryLog", () => {
  it("shows every instance the records any instance appended", async () => {
    // Arrange
    const tableName = uniqueTableName();
    const instance = () =>
      new TableDeliveryLog(
        new NotificationTable({ tableName, connect: () => azurite.service.client(tableName) }),
      );
    const [a, b] = [instance(), instance()];
    await a.append(sent(0, "from-a"));
    await b.append(sent(1, "from-b"));

    // Act
    const seenByA = await a.list(now);
    const seenByB = await b.list(now);

    // Assert
    expect(seenByA.map((record) => record.eventId)).toEqual(["from-a", "from-b"]);
    expect(seenByB).toEqual(seenByA);
  });

  it("lists records in the order one instance appended them, even within one millisecond", async () => {
    // Arrange
    const log = new TableDeliveryLog(freshTable());
    const ids = Array.from({ length: 40 }, (_, index) => `e${String(index).padStart(2, "0")}`);

    // Act
    for (const id of ids) await log.append(sent(40 - ids.indexOf(id), id));

    // Assert
    expect((await log.list(now)).map((record) => record.eventId)).toEqual(ids);
  });

  it("gives back each record exactly as appended", async () => {
    // Arrange
    const log = new TableDeliveryLog(freshTable());
    const digest: DeliveryRecord = {
      kind: "digest",
      channelId: "ops/teams#1",
      eventId: "5c0e4a8e-1111-4222-8333-444455556666",
      at: now.toISOString(),
      digestKeys: ["datasource:/subscriptions/x/databases/orders"],
      covers: ["e1", "e2"],
    };

    // Act
    await log.append(digest);

    // Assert
    expect(await log.list(now)).toEqual([digest]);
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
