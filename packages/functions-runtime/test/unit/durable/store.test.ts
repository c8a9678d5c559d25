import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { events, type HistoryEvent } from "../../../src/durable/history.js";
import {
  openDurableStore,
  type DurableStore,
  type EpisodeCommit,
  type InstanceRow,
  type NewMessage,
  type RuntimeStatus,
} from "../../../src/durable/store.js";

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

describe("the Durable store's group commit", () => {
  it("commits several episodes and activity results together, each episode in full", async () => {
    const store = await openDurableStore(stateDir, "hub");
    runningInstance(store, "i1", 0);
    runningInstance(store, "i2", 0);
    store.commitEpisode(
      episode("i1", [events.taskScheduled(new Date(at), 0, "act", "[null]")], {
        activities: [
          { instanceId: "i1", executionId: "e1", taskScheduledId: 0, name: "act", input: "[null]" },
        ],
      }),
    );
    const [queued] = store.activities();

    const outcomes = store.commitGroup(
      [
        episode("i1", [events.orchestratorStarted(new Date(at))]),
        episode("i2", [events.orchestratorStarted(new Date(at))], { status: "Completed" }),
      ],
      [
        {
          activityId: queued?.id ?? -1,
          result: {
            instanceId: "i1",
            executionId: "e1",
            visibleAt: at,
            event: events.taskCompleted(new Date(at), 0, "1"),
          },
        },
      ],
    );
    store.close();
    const reopened = await openDurableStore(stateDir, "hub");

    expect(outcomes.map((o) => o.committed)).toEqual([true, true]);
    expect(reopened.getHistory("i1").map((e) => e.EventType)).toEqual([12, 0, 13, 4, 12]);
    expect(reopened.getInstance("i2")?.status).toBe("Completed");
    expect(reopened.activities()).toEqual([]);
    // The activity's result waits for i1's next episode.
    expect(reopened.readyMessages("i1", at).map((m) => m.event.EventType)).toContain(5);
    reopened.close();
  });

  it("rolls back only the episode that fails, and commits the rest of its group", async () => {
    const store = await openDurableStore(stateDir, "hub");
    runningInstance(store, "i1", 0);
    runningInstance(store, "i2", 0);
    runningInstance(store, "i3", 0);
    const broken = { ...startOf("i2"), event: undefined as never };

    const outcomes = store.commitGroup(
      [
        episode("i1", [events.eventRaised(new Date(at), "one", null)]),
        episode("i2", [events.eventRaised(new Date(at), "two", null)], { messages: [broken] }),
        episode("i3", [events.eventRaised(new Date(at), "three", null)]),
      ],
      [],
    );
    const onDisk = await Promise.all(["i1", "i2", "i3"].map((id) => historyOnDisk(id)));

    expect(outcomes.map((o) => o.committed)).toEqual([true, false, true]);
    expect(onDisk.map((history) => history.length)).toEqual([4, 3, 4]);
    // What the cache serves is what the file holds, for the rolled-back episode too.
    expect(store.getHistory("i1")).toEqual(onDisk[0]);
    expect(store.getHistory("i2")).toEqual(onDisk[1]);
    store.close();
  });

  it("names the instances that received messages since it was last asked, once each", async () => {
    const store = await openDurableStore(stateDir, "hub");
    store.createInstance(instance("i1"), startOf("i1"));
    store.createInstance(instance("i2"), startOf("i2"));
    store.enqueue({ ...startOf("i1"), event: events.eventRaised(new Date(at), "go", null) });

    const first = store.takeNotified();
    const second = store.takeNotified();
    store.enqueue({ ...startOf("i2"), event: events.eventRaised(new Date(at), "go", null) });
    const third = store.takeNotified();
    store.close();

    expect(first).toEqual(["i1", "i2"]);
    expect(second).toEqual([]);
    expect(third).toEqual(["i2"]);
  });
});

/** An episode's commit that appends `appendEvents` and leaves the instance running. */
function episode(
  instanceId: string,
  appendEvents: HistoryEvent[],
  changes: Partial<EpisodeCommit> & { executionId?: string; status?: RuntimeStatus } = {},
): EpisodeCommit {
  const { executionId = "e1", status = "Running", ...rest } = changes;
  return {
    instanceId,
    consumedMessageIds: [],
    resetHistory: false,
    appendEvents,
    instance: { status, executionId, customStatus: null, output: null, updatedAt: at },
    dropPendingMessages: false,
    messages: [],
    activities: [],
    newInstances: [],
    ...rest,
  };
}

function startOf(id: string, executionId = "e1"): NewMessage {
  return {
    instanceId: id,
    executionId,
    visibleAt: at,
    event: events.executionStarted(new Date(at), {
      name: "orchestrator",
      instanceId: id,
      executionId,
      input: "1",
      parent: null,
    }),
  };
}

/** A running instance with `activities` completed activities in its history. */
function runningInstance(store: DurableStore, id: string, activities: number): void {
  store.createInstance(instance(id), startOf(id));
  store.commitEpisode(
    episode(id, [
      events.orchestratorStarted(new Date(at)),
      startOf(id).event,
      events.orchestratorCompleted(new Date(at)),
    ]),
  );
  for (let n = 0; n < activities; n += 1) {
    store.commitEpisode(
      episode(id, [
        events.orchestratorStarted(new Date(at)),
        events.taskCompleted(new Date(at), n, JSON.stringify(n)),
        events.orchestratorCompleted(new Date(at)),
      ]),
    );
  }
}

/** The history as a store with nothing cached reads it from the file. */
async function historyOnDisk(id: string): Promise<HistoryEvent[]> {
  const fresh = await openDurableStore(stateDir, "hub", { historyCacheEvents: 0 });
  try {
    return fresh.getHistory(id);
  } finally {
    fresh.close();
  }
}

describe("the Durable store's history cache", () => {
  it("serves a running instance's history from memory after the first read, extended by each commit", async () => {
    const store = await openDurableStore(stateDir, "hub");
    runningInstance(store, "i1", 2);
    const first = store.getHistory("i1");

    store.commitEpisode(
      episode("i1", [
        events.orchestratorStarted(new Date(at)),
        events.eventRaised(new Date(at), "next", '"go"'),
        events.orchestratorCompleted(new Date(at)),
      ]),
    );
    const second = store.getHistory("i1");

    expect(first).toHaveLength(9);
    expect(store.historyCacheSize).toEqual({ instances: 1, events: 12 });
    expect(second).toEqual(await historyOnDisk("i1"));
    expect(second.map((e) => e.EventType)).toEqual([12, 0, 13, 12, 5, 13, 12, 5, 13, 12, 15, 13]);
    store.close();
  });

  it("gives an episode after a rolled-back commit only the committed history", async () => {
    const store = await openDurableStore(stateDir, "hub");
    runningInstance(store, "i1", 1);
    const before = store.getHistory("i1");
    const broken = { ...startOf("i1"), event: undefined as never };

    expect(() =>
      store.commitEpisode(
        episode("i1", [events.orchestratorStarted(new Date(at))], { messages: [broken] }),
      ),
    ).toThrow();
    const afterRollback = store.getHistory("i1");
    store.commitEpisode(episode("i1", [events.orchestratorCompleted(new Date(at))]));
    const afterNextCommit = store.getHistory("i1");

    expect(afterRollback).toEqual(before);
    expect(afterNextCommit.map((e) => e.EventType)).toEqual([
      ...before.map((e) => e.EventType),
      13,
    ]);
    expect(afterNextCommit).toEqual(await historyOnDisk("i1"));
    store.close();
  });

  it("starts a fresh history when the instance continues as new", async () => {
    const store = await openDurableStore(stateDir, "hub");
    runningInstance(store, "i1", 2);
    store.getHistory("i1");

    store.commitEpisode(
      episode("i1", [], { resetHistory: true, executionId: "e2", status: "ContinuedAsNew" }),
    );
    const afterReset = store.getHistory("i1");
    store.commitEpisode(
      episode("i1", [events.orchestratorStarted(new Date(at)), startOf("i1", "e2").event], {
        executionId: "e2",
      }),
    );
    const nextExecution = store.getHistory("i1");

    expect(afterReset).toEqual([]);
    expect(nextExecution.map((e) => e.EventType)).toEqual([12, 0]);
    expect(nextExecution[1]?.OrchestrationInstance?.ExecutionId).toBe("e2");
    expect(nextExecution).toEqual(await historyOnDisk("i1"));
    store.close();
  });

  it("starts afresh when a commit resets the history under the same execution id", async () => {
    const store = await openDurableStore(stateDir, "hub");
    runningInstance(store, "i1", 1);
    store.getHistory("i1");

    store.commitEpisode(
      episode("i1", [events.orchestratorStarted(new Date(at))], { resetHistory: true }),
    );

    expect(store.getHistory("i1").map((e) => e.EventType)).toEqual([12]);
    expect(store.getHistory("i1")).toEqual(await historyOnDisk("i1"));
    store.close();
  });

  it("evicts the least recently read histories beyond its bound and reads them again in full", async () => {
    const store = await openDurableStore(stateDir, "hub", { historyCacheEvents: 10 });
    runningInstance(store, "i1", 1);
    runningInstance(store, "i2", 1);
    const i1 = store.getHistory("i1");
    store.getHistory("i2");
    const cachedAfterBoth = store.historyCacheSize;

    const reread = store.getHistory("i1");

    expect(cachedAfterBoth).toEqual({ instances: 1, events: 6 });
    expect(reread).toHaveLength(6);
    expect(reread).toEqual(i1);
    expect(reread).toEqual(await historyOnDisk("i1"));
    expect(store.getHistory("i2")).toEqual(await historyOnDisk("i2"));
    store.close();
  });

  it("reads a history larger than its whole bound from SQLite every time", async () => {
    const store = await openDurableStore(stateDir, "hub", { historyCacheEvents: 4 });
    runningInstance(store, "i1", 1);

    const history = store.getHistory("i1");

    expect(history).toHaveLength(6);
    expect(store.historyCacheSize).toEqual({ instances: 0, events: 0 });
    store.close();
  });

  it("gives a reopened store over the same file the same history", async () => {
    const store = await openDurableStore(stateDir, "hub");
    runningInstance(store, "i1", 3);
    const cached = store.getHistory("i1");
    store.close();

    const reopened = await openDurableStore(stateDir, "hub");
    const sizeAtOpen = reopened.historyCacheSize;
    const afterRestart = reopened.getHistory("i1");

    expect(sizeAtOpen).toEqual({ instances: 0, events: 0 });
    expect(afterRestart).toEqual(cached);
    reopened.close();
  });

  it("forgets the history of an instance that is replaced, purged or replaced by a sub-orchestration", async () => {
    const store = await openDurableStore(stateDir, "hub");
    runningInstance(store, "replaced", 1);
    runningInstance(store, "purged", 1);
    runningInstance(store, "child", 1);
    runningInstance(store, "parent", 1);
    for (const id of ["replaced", "purged", "child", "parent"]) store.getHistory(id);

    store.createInstance(instance("replaced"), startOf("replaced"));
    store.purge("purged");
    store.commitEpisode(
      episode("parent", [events.orchestratorCompleted(new Date(at))], {
        newInstances: [{ row: instance("child"), start: startOf("child") }],
      }),
    );

    // The replacements reuse the execution id "e1": only the explicit invalidation keeps them right.
    expect(store.getHistory("replaced")).toEqual([]);
    expect(store.getHistory("purged")).toEqual([]);
    expect(store.getHistory("child")).toEqual([]);
    expect(store.getHistory("parent")).toEqual(await historyOnDisk("parent"));
    store.close();
  });

  it("re-reads the history when a commit moves the instance to another execution", async () => {
    const store = await openDurableStore(stateDir, "hub");
    runningInstance(store, "i1", 1);
    store.getHistory("i1");

    store.commitEpisode(
      episode("i1", [events.orchestratorStarted(new Date(at))], { executionId: "e2" }),
    );

    expect(store.getHistory("i1")).toEqual(await historyOnDisk("i1"));
    expect(store.getHistory("i1")).toHaveLength(7);
    store.close();
  });

  it("keeps no history of an instance that has finished", async () => {
    const store = await openDurableStore(stateDir, "hub");
    runningInstance(store, "i1", 1);
    store.getHistory("i1");

    store.commitEpisode(
      episode("i1", [events.orchestratorCompleted(new Date(at))], {
        status: "Completed",
        dropPendingMessages: true,
      }),
    );
    const finished = store.getHistory("i1");

    expect(store.historyCacheSize).toEqual({ instances: 0, events: 0 });
    expect(finished).toEqual(await historyOnDisk("i1"));
    store.close();
  });

  it("hands out arrays the caller may change and events the caller cannot change", async () => {
    const store = await openDurableStore(stateDir, "hub");
    runningInstance(store, "i1", 1);
    const first = store.getHistory("i1");

    first.push(events.orchestratorStarted(new Date(at)));
    first.reverse();
    const event = first[1] as HistoryEvent;
    const mutate = (): void => {
      event.IsPlayed = true;
    };

    expect(mutate).toThrow(TypeError);
    expect(store.getHistory("i1")).toEqual(await historyOnDisk("i1"));
    expect(store.getHistory("i1").map((e) => e.IsPlayed)).toEqual(Array(6).fill(false));
    store.close();
  });

  it("keeps no reference to the events a commit was given", async () => {
    const store = await openDurableStore(stateDir, "hub");
    runningInstance(store, "i1", 0);
    store.getHistory("i1");
    const appended = events.eventRaised(new Date(at), "next", '"go"');

    store.commitEpisode(episode("i1", [appended]));
    appended.Input = '"changed"';

    expect(store.getHistory("i1").at(-1)?.Input).toBe('"go"');
    store.close();
  });
});
