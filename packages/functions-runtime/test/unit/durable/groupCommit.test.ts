import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, expect, it } from "vitest";
import { GroupCommitter } from "../../../src/durable/groupCommit.js";
import { events } from "../../../src/durable/history.js";
import { openDurableStore, type DurableStore } from "../../../src/durable/store.js";

const at = Date.UTC(2030, 0, 1);
let stateDir: string;

beforeEach(() => {
  stateDir = mkdtempSync(path.join(tmpdir(), "pgprotect-group-commit-"));
});

afterEach(() => {
  rmSync(stateDir, { recursive: true, force: true });
});

/** A running instance with one queued activity; answers the activity row's id. */
function instanceWithActivity(store: DurableStore): number {
  store.createInstance(
    {
      instanceId: "i1",
      name: "orchestrator",
      executionId: "e1",
      status: "Pending",
      input: null,
      output: null,
      customStatus: null,
      createdAt: at,
      updatedAt: at,
      parent: null,
    },
    {
      instanceId: "i1",
      executionId: "e1",
      visibleAt: at,
      event: events.eventRaised(new Date(at), "start", null),
    },
  );
  const [row] = store.commitEpisode({
    instanceId: "i1",
    consumedMessageIds: store.readyMessages("i1", at).map((m) => m.id),
    resetHistory: false,
    appendEvents: [events.taskScheduled(new Date(at), 0, "act", "[null]")],
    instance: {
      status: "Running",
      executionId: "e1",
      customStatus: null,
      output: null,
      updatedAt: at,
    },
    dropPendingMessages: false,
    messages: [],
    activities: [
      { instanceId: "i1", executionId: "e1", taskScheduledId: 0, name: "act", input: "[null]" },
    ],
    newInstances: [],
  });
  return row?.id ?? -1;
}

it("records an activity's result once the store can be written again, after a group that could not commit", async () => {
  const store = await openDurableStore(stateDir, "hub");
  const activityId = instanceWithActivity(store);
  const retries: Array<() => void> = [];
  const lines: string[] = [];
  let recorded = 0;
  const committer = new GroupCommitter({
    store,
    log: (line) => lines.push(line),
    retrySoon: (action) => retries.push(action),
    onCompletionsRecorded: () => (recorded += 1),
  });
  // Another connection holds the write lock past the store's busy timeout.
  const other = new DatabaseSync(path.join(stateDir, "durable-hub.sqlite"));
  other.exec("BEGIN IMMEDIATE");

  committer.completeActivity({
    activityId,
    result: {
      instanceId: "i1",
      executionId: "e1",
      visibleAt: at,
      event: events.taskCompleted(new Date(at), 0, "42"),
    },
  });
  committer.flush();
  const whileLocked = { queued: store.activities().length, recorded, retries: retries.length };
  other.exec("ROLLBACK");
  other.close();
  for (const retry of retries) retry();
  committer.flush();

  expect(whileLocked).toEqual({ queued: 1, recorded: 0, retries: 1 });
  expect(lines).toEqual([
    expect.stringContaining("1 activity result(s) could not be recorded yet"),
  ]);
  expect(recorded).toBe(1);
  expect(store.activities()).toEqual([]);
  expect(store.readyMessages("i1", at).map((m) => m.event.Result)).toEqual(["42"]);
  committer.close();
  store.close();
}, 30_000);
