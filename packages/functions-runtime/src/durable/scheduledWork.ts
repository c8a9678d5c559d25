/**
 * What an episode's new work becomes: `TaskScheduled`, `TimerCreated` and
 * `SubOrchestrationInstanceCreated` history events, and the activity rows, timer messages and
 * child instances the same commit stores.
 *
 * @remarks Timers are delayed messages: a `TimerFired` message that becomes visible at the fire
 * time. A sub-orchestration whose instance id is taken by a running instance fails at once, as
 * in the extension.
 */
import type { DurableClock } from "./clock.js";
import { events, type HistoryEvent } from "./history.js";
import { newInstanceRow, startMessage } from "./instances.js";
import { failureDetails, taskScheduledInput } from "./payload.js";
import type { ScheduledWork } from "./shim.js";
import { terminalStatuses, type ActivityRow, type InstanceRow, type NewMessage } from "./store.js";

/** The parts of an episode's commit that its new work adds. */
export interface WorkCommit {
  readonly messages: NewMessage[];
  readonly activities: Array<Omit<ActivityRow, "id">>;
  readonly newInstances: Array<{ readonly row: InstanceRow; readonly start: NewMessage }>;
}

/** The history events that record the new work. */
export function workEvents(work: readonly ScheduledWork[], at: Date): HistoryEvent[] {
  return work.map((w) => {
    switch (w.kind) {
      case "activity":
        return events.taskScheduled(at, w.id, w.name, taskScheduledInput(w.input));
      case "timer":
        return events.timerCreated(at, w.id, w.fireAt);
      case "subOrchestration":
        return events.subOrchestrationCreated(
          at,
          w.id,
          w.name,
          w.instanceId,
          w.input === undefined ? null : JSON.stringify(w.input),
        );
    }
  });
}

/**
 * The activities, timer messages and child instances the new work starts.
 *
 * @param existingInstance - looks an instance up by id (children may not take a running one's id).
 */
export function workCommit(
  clock: DurableClock,
  instance: InstanceRow,
  work: readonly ScheduledWork[],
  at: Date,
  existingInstance: (instanceId: string) => InstanceRow | undefined,
): WorkCommit {
  const messages: WorkCommit["messages"] = [];
  const activities: WorkCommit["activities"] = [];
  const newInstances: WorkCommit["newInstances"] = [];
  for (const w of work) {
    if (w.kind === "activity") {
      activities.push({
        instanceId: instance.instanceId,
        executionId: instance.executionId,
        taskScheduledId: w.id,
        name: w.name,
        input: taskScheduledInput(w.input),
      });
    } else if (w.kind === "timer") {
      messages.push({
        instanceId: instance.instanceId,
        executionId: instance.executionId,
        visibleAt: w.fireAt.getTime(),
        event: events.timerFired(w.fireAt, w.id, w.fireAt.toISOString()),
      });
    } else {
      const existing = existingInstance(w.instanceId);
      if (existing && !terminalStatuses.has(existing.status)) {
        messages.push({
          instanceId: instance.instanceId,
          executionId: instance.executionId,
          visibleAt: at.getTime(),
          event: events.subOrchestrationFailed(
            at,
            w.id,
            `An orchestration with the instance ID '${w.instanceId}' already exists.`,
            failureDetails(new Error("instance exists")),
          ),
        });
      } else {
        const row = newInstanceRow(
          clock,
          w.name,
          w.instanceId,
          w.input === undefined ? null : JSON.stringify(w.input),
          {
            instanceId: instance.instanceId,
            executionId: instance.executionId,
            taskScheduledId: w.id,
            name: instance.name,
          },
        );
        newInstances.push({ row, start: startMessage(clock, row) });
      }
    }
  }
  return { messages, activities, newInstances };
}
