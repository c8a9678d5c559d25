import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  publishResourceChanges,
  watermarkFile,
} from "../../../src/application/localResourceEvents.js";
import { formatDatabaseId, LOCAL_SCOPE } from "../../../src/domain/protection/ids.js";
import type {
  PublishedEvent,
  ResourceChangePage,
  ResourceDirectoryPort,
  ResourceWriteChange,
} from "../../../src/providers/ports.js";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const salesId = formatDatabaseId({
  ...LOCAL_SCOPE,
  kind: "servers",
  serverName: "local",
  databaseName: "sales",
});

/** A directory that has one change after watermark `w0`, and records the watermarks asked with. */
function directory() {
  const asked: (string | undefined)[] = [];
  const change: ResourceWriteChange = {
    eventType: "Microsoft.Resources.ResourceWriteSuccess",
    resourceId: salesId,
    reason: "created",
    eventTime: "2026-12-07T10:00:00.000Z",
    operationName: "Microsoft.DBforPostgreSQL/servers/databases/write",
    tags: {},
  };
  const port = {
    changesSince: async (watermark?: string): Promise<ResourceChangePage> => {
      asked.push(watermark);
      return watermark === "w1"
        ? { changes: [], watermark: "w1" }
        : { changes: [change], watermark: "w1" };
    },
  } as unknown as ResourceDirectoryPort;
  return { port, asked };
}

/** Records what it publishes; fails while `failing` is set. */
function publisher() {
  const published: PublishedEvent[] = [];
  return {
    published,
    failing: false,
    async publish(this: { failing: boolean }, events: PublishedEvent[]) {
      if (this.failing) throw new Error("the topic is down");
      published.push(...events);
    },
  };
}

async function stateDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "pgprotect-resource-events-"));
  dirs.push(dir);
  return path.join(dir, "state");
}

describe("publishResourceChanges", () => {
  it("publishes a change once and stores the watermark the next run starts from", async () => {
    // Arrange
    const dir = await stateDir();
    const { port, asked } = directory();
    const events = publisher();
    const deps = { stateDir: dir, directory: port, publisher: events };

    // Act
    const first = await publishResourceChanges(deps);
    const second = await publishResourceChanges(deps);

    // Assert
    expect([first, second]).toEqual([1, 0]);
    expect(asked).toEqual([undefined, "w1"]);
    expect(events.published.map((e) => e.subject)).toEqual([salesId]);
    expect(JSON.parse(await readFile(watermarkFile(dir), "utf8"))).toEqual({ watermark: "w1" });
  });

  it("keeps the old watermark when publishing fails, so the change goes out again", async () => {
    // Arrange
    const dir = await stateDir();
    const { port, asked } = directory();
    const events = publisher();
    events.failing = true;
    const deps = { stateDir: dir, directory: port, publisher: events };

    // Act
    await expect(publishResourceChanges(deps)).rejects.toThrow("the topic is down");
    events.failing = false;
    const retried = await publishResourceChanges(deps);

    // Assert
    expect(retried).toBe(1);
    expect(asked).toEqual([undefined, undefined]);
    expect(events.published).toHaveLength(1);
  });
});
