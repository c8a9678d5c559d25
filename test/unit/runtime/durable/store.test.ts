import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { events } from "../../../../src/runtime/durable/history.js";
import { openDurableStore, type InstanceRow } from "../../../../src/runtime/durable/store.js";

let stateDir: string;

beforeEach(() => {
  stateDir = mkdtempSync(path.join(tmpdir(), "pgprotect-durable-store-"));
});

afterEach(() => {
  rmSync(stateDir, { recursive: true, force: true });
});

const at = Date.UTC(2030, 0, 1);

function instance(id: string): InstanceRow {
  return {
    instanceId: id,
    name: "orchestrator",
    executionId: "e1",
    status: "Pending",
    input: "1",
    output: null,
    customStatus: null,
    createdAt: at,
    updatedAt: at,
    parent: null,
  };
}

describe("the Durable store", () => {
  // First in the file: Node warns only when node:sqlite is first loaded in a process.
  it("opens without printing Node's experimental SQLite warning", async () => {
    const warnings: string[] = [];
    const listener = (warning: Error) => warnings.push(warning.message);
    process.on("warning", listener);

    const store = await openDurableStore(stateDir, "hub");
    await new Promise((resolve) => setImmediate(resolve));

    process.off("warning", listener);
    store.close();
    expect(warnings.filter((w) => /sqlite/i.test(w))).toEqual([]);
  });

  it("keeps instances, history, messages and queued activities across a reopen", async () => {
    const store = await openDurableStore(stateDir, "hub");
    const start = events.executionStarted(new Date(at), {
      name: "orchestrator",
      instanceId: "i1",
      executionId: "e1",
      input: "1",
      parent: null,
    });
    store.createInstance(instance("i1"), {
      instanceId: "i1",
      executionId: "e1",
      visibleAt: at,
      event: start,
    });
    const [message] = store.readyMessages("i1", at);
    store.commitEpisode({
      instanceId: "i1",
      consumedMessageIds: [message?.id ?? -1],
      resetHistory: false,
      appendEvents: [
        events.orchestratorStarted(new Date(at)),
        start,
        events.orchestratorCompleted(new Date(at)),
      ],
      instance: {
        status: "Running",
        executionId: "e1",
        customStatus: '"busy"',
        output: null,
        updatedAt: at + 1,
      },
      dropPendingMessages: false,
      messages: [
        {
          instanceId: "i1",
          executionId: "e1",
          visibleAt: at + 60_000,
          event: events.timerFired(new Date(at + 60_000), 1, ""),
        },
      ],
      activities: [
        { instanceId: "i1", executionId: "e1", taskScheduledId: 0, name: "act", input: "[null]" },
      ],
      newInstances: [],
    });
    store.close();

    const reopened = await openDurableStore(stateDir, "hub");

    expect(reopened.getInstance("i1")).toMatchObject({ status: "Running", customStatus: '"busy"' });
    expect(reopened.getHistory("i1").map((e) => e.EventType)).toEqual([12, 0, 13]);
    expect(reopened.readyInstanceIds(at, 10)).toEqual([]);
    expect(reopened.nextVisibleAt(at)).toBe(at + 60_000);
    expect(reopened.readyInstanceIds(at + 60_000, 10)).toEqual(["i1"]);
    expect(reopened.activities()).toMatchObject([{ name: "act", taskScheduledId: 0 }]);
    reopened.close();
  });

  it("rolls an episode back whole when any part of it fails", async () => {
    const store = await openDurableStore(stateDir, "hub");
    store.createInstance(instance("i1"), {
      instanceId: "i1",
      executionId: "e1",
      visibleAt: at,
      event: events.orchestratorStarted(new Date(at)),
    });
    const broken = {
      instanceId: "i1",
      executionId: "e1",
      visibleAt: at,
      event: undefined as never,
    };

    expect(() =>
      store.commitEpisode({
        instanceId: "i1",
        consumedMessageIds: store.readyMessages("i1", at).map((m) => m.id),
        resetHistory: false,
        appendEvents: [events.orchestratorStarted(new Date(at))],
        instance: {
          status: "Completed",
          executionId: "e1",
          customStatus: null,
          output: "1",
          updatedAt: at,
        },
        dropPendingMessages: true,
        messages: [broken],
        activities: [],
        newInstances: [],
      }),
    ).toThrow();

    expect(store.getInstance("i1")?.status).toBe("Pending");
    expect(store.getHistory("i1")).toEqual([]);
    expect(store.readyMessages("i1", at)).toHaveLength(1);
    store.close();
  });
});
