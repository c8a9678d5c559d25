/**
 * Writes Durable state the way the engine does, in its own process, for the group-commit crash
 * test: a first group (every instance's first episode, each queuing one activity) that commits
 * and is acknowledged on stdout, then a second group (the activities' results and every
 * instance's next episode) during which the process kills itself with SIGKILL: the episodes
 * before the last one have been written inside the transaction, the last one is being written.
 * Between the two the WAL file is checkpointed and truncated, and the second group's events are
 * large: whatever the WAL file holds at the kill is that group's uncommitted pages, spilled from
 * SQLite's page cache.
 */
import { writeSync } from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { events, type HistoryEvent } from "../../src/durable/history.js";
import { openDurableStore, type EpisodeCommit } from "../../src/durable/store.js";

const stateDir = process.env.GROUP_COMMIT_STATE_DIR;
const instanceCount = Number(process.env.GROUP_COMMIT_INSTANCES);
if (!stateDir || !Number.isInteger(instanceCount)) {
  throw new Error("GROUP_COMMIT_STATE_DIR and GROUP_COMMIT_INSTANCES are required");
}
const at = new Date(Date.UTC(2030, 0, 1));
const ids = Array.from({ length: instanceCount }, (_, i) => `i${i}`);
/** About 20 KB per result: the second group outgrows SQLite's default page cache (2 MB). */
const bulky = JSON.stringify("x".repeat(20_000));

function acknowledge(line: string): void {
  writeSync(1, `${line}\n`);
}

function episode(
  instanceId: string,
  consumedMessageIds: readonly number[],
  appendEvents: readonly HistoryEvent[],
  activity: boolean,
): EpisodeCommit {
  return {
    instanceId,
    consumedMessageIds,
    resetHistory: false,
    appendEvents,
    instance: {
      status: "Running",
      executionId: "e1",
      customStatus: null,
      output: null,
      updatedAt: at.getTime(),
    },
    dropPendingMessages: false,
    messages: [],
    activities: activity
      ? [{ instanceId, executionId: "e1", taskScheduledId: 0, name: "act", input: "[null]" }]
      : [],
    newInstances: [],
  };
}

const store = await openDurableStore(stateDir, "hub");
for (const id of ids) {
  const start = events.executionStarted(at, {
    name: "orchestrator",
    instanceId: id,
    executionId: "e1",
    input: null,
    parent: null,
  });
  store.createInstance(
    {
      instanceId: id,
      name: "orchestrator",
      executionId: "e1",
      status: "Pending",
      input: null,
      output: null,
      customStatus: null,
      createdAt: at.getTime(),
      updatedAt: at.getTime(),
      parent: null,
    },
    { instanceId: id, executionId: "e1", visibleAt: at.getTime(), event: start },
  );
}

const first = store.commitGroup(
  ids.map((id) => {
    const ready = store.readyMessages(id, at.getTime());
    return episode(
      id,
      ready.map((m) => m.id),
      [
        events.orchestratorStarted(at),
        ...ready.map((m) => m.event),
        events.taskScheduled(at, 0, "act", "[null]"),
        events.orchestratorCompleted(at),
      ],
      true,
    );
  }),
  [],
);
if (!first.every((outcome) => outcome.committed)) throw new Error("the first group failed");
acknowledge("COMMITTED 1");
const checkpoint = new DatabaseSync(path.join(stateDir, "durable-hub.sqlite"));
checkpoint.exec("PRAGMA wal_checkpoint(TRUNCATE)");
checkpoint.close();

// The last episode's result kills the process while the store serializes it.
const killer = {
  ...events.taskCompleted(at, 0, bulky),
  toJSON(): unknown {
    acknowledge("KILLING");
    process.kill(process.pid, "SIGKILL");
    return {};
  },
} as HistoryEvent;
store.commitGroup(
  ids.map((id, index) =>
    episode(
      id,
      [],
      [
        events.orchestratorStarted(at),
        index === ids.length - 1 ? killer : events.taskCompleted(at, 0, bulky),
        events.orchestratorCompleted(at),
      ],
      false,
    ),
  ),
  store.activities().map((row) => ({
    activityId: row.id,
    result: {
      instanceId: row.instanceId,
      executionId: row.executionId,
      visibleAt: at.getTime(),
      event: events.taskCompleted(at, row.taskScheduledId, bulky),
    },
  })),
);
acknowledge("COMMITTED 2");
