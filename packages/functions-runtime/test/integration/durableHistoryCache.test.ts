import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHost, type RunningHost } from "../../src/host.js";
import {
  createDurableExtension,
  ManualClock,
  type LocalDurableExtension,
} from "../../src/durable/index.js";
import { openDurableStore } from "../../src/durable/store.js";

const appDir = fileURLToPath(new URL("../fixtures/runtime-app", import.meta.url));
/** Small enough that instances are evicted between their episodes and outgrow the cache. */
const historyCacheEvents = 12;

let host: RunningHost;
let durable: LocalDurableExtension;
let stateDir: string;
/** Where the extension keeps its SQLite file (the host gives it a folder of its own). */
let durableStateDir: string;
let taskHub: string;

beforeAll(async () => {
  stateDir = mkdtempSync(path.join(tmpdir(), "pgprotect-durable-cache-"));
  host = await startHost({
    appDir,
    port: 0,
    stateDir,
    banner: false,
    timers: false,
    log: () => undefined,
    durable: (options) => {
      durableStateDir = options.stateDir;
      taskHub = options.taskHub;
      durable = createDurableExtension({
        ...options,
        clock: new ManualClock(Date.UTC(2030, 0, 1, 8)),
        historyCacheEvents,
      });
      return durable;
    },
  });
});

afterAll(async () => {
  await host?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

function outputOf(instanceId: string): unknown {
  const row = durable.engine.getInstance(instanceId);
  return row?.output === null || row?.output === undefined ? row?.status : JSON.parse(row.output);
}

describe("the Durable engine with a small history cache", () => {
  it("runs orchestrations to the same results while histories are evicted between episodes", async () => {
    const engine = durable.engine;

    for (const id of ["seq-1", "seq-2", "seq-3"]) engine.startNew("durableSequence", id, null);
    engine.startNew("durableFanOut", "fan", JSON.stringify({ count: 5 }));
    engine.startNew("durableCounter", "counter", "0");
    await engine.whenIdle();

    for (const id of ["seq-1", "seq-2", "seq-3"]) {
      expect(outputOf(id)).toEqual(["Hello Tokyo!", "Hello Seattle!", "Hello London!"]);
    }
    expect(outputOf("fan")).toBe(30);
    expect(outputOf("counter")).toBe("counted to 3");
  });

  it("replays a waiting instance from the same history SQLite holds", async () => {
    const engine = durable.engine;
    engine.startNew("durableCustomStatus", "waiting", null);
    await engine.whenIdle();
    const onDisk = await openDurableStore(durableStateDir, taskHub, { historyCacheEvents: 0 });

    const fromEngine = engine.history("waiting");
    const fromFile = onDisk.getHistory("waiting");
    onDisk.close();
    engine.raiseEvent("waiting", "Next", "7");
    await engine.whenIdle();

    expect(fromEngine).toEqual(fromFile);
    expect(fromEngine.length).toBeGreaterThan(0);
    expect(engine.getInstance("waiting")).toMatchObject({
      status: "Completed",
      customStatus: JSON.stringify({ step: "done", next: 7 }),
    });
  });
});
