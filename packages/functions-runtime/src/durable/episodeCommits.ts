/**
 * How each kind of episode ends, as the one atomic commit the store writes: the orchestrator's
 * decisions (new work, completion, failure), termination, suspend and resume, continue-as-new, a
 * failure inside the engine, and messages that no longer concern anyone.
 */
import type { DurableClock } from "./clock.js";
import { OrchestrationStatusCode, events, type HistoryEvent } from "./history.js";
import { newExecutionId, parentNotification, startMessage } from "./instances.js";
import { EventType } from "./history.js";
import { messageOf } from "./payload.js";
import { workCommit, workEvents } from "./scheduledWork.js";
import type { ScheduledWork } from "./shim.js";
import type { EpisodeCommit, InstanceRow, MessageRow, RuntimeStatus } from "./store.js";

/** How an episode in which the orchestrator ran ends. */
export interface EpisodeEnd {
  readonly status: "Running" | "Completed" | "Failed";
  readonly output?: string | null;
  readonly message?: string;
  readonly nextSequenceNumber: number;
  readonly customStatus: string | null;
}

/**
 * The commit of an episode in which the orchestrator ran: the new events, the new work, and, when
 * it ended, its result and its parent's notification.
 */
export function decisionCommit(
  clock: DurableClock,
  instance: InstanceRow,
  consumed: readonly number[],
  at: Date,
  newEvents: readonly HistoryEvent[],
  work: readonly ScheduledWork[],
  end: EpisodeEnd,
  existingInstance: (instanceId: string) => InstanceRow | undefined,
): EpisodeCommit {
  const { messages, activities, newInstances } = workCommit(
    clock,
    instance,
    work,
    at,
    existingInstance,
  );
  const appendEvents = [...newEvents, ...workEvents(work, at)];
  let output = instance.output;
  if (end.status !== "Running") {
    output = end.status === "Completed" ? (end.output ?? null) : JSON.stringify(end.message ?? "");
    const code =
      end.status === "Completed"
        ? OrchestrationStatusCode.Completed
        : OrchestrationStatusCode.Failed;
    const result = end.status === "Completed" ? output : (end.message ?? "");
    appendEvents.push(events.executionCompleted(at, end.nextSequenceNumber, code, result));
    messages.push(
      ...parentNotification(
        instance,
        end.status,
        end.status === "Completed" ? output : (end.message ?? ""),
        at,
      ),
    );
  }
  appendEvents.push(events.orchestratorCompleted(at));
  return {
    instanceId: instance.instanceId,
    consumedMessageIds: consumed,
    resetHistory: false,
    appendEvents,
    instance: {
      status: end.status,
      executionId: instance.executionId,
      customStatus: end.customStatus,
      output,
      updatedAt: at.getTime(),
    },
    dropPendingMessages: end.status !== "Running",
    messages,
    activities,
    newInstances,
  };
}

/** The commit of a terminate request: the instance ends Terminated with the reason as output. */
export function terminatedCommit(
  instance: InstanceRow,
  consumed: readonly number[],
  at: Date,
  start: MessageRow | undefined,
  terminate: MessageRow,
): EpisodeCommit {
  const reason = terminate.event.Input ?? "";
  return {
    instanceId: instance.instanceId,
    consumedMessageIds: consumed,
    resetHistory: false,
    appendEvents: [
      events.orchestratorStarted(at),
      ...(start ? [{ ...start.event, IsPlayed: false }] : []),
      { ...terminate.event, IsPlayed: false },
      events.executionCompleted(at, -1, OrchestrationStatusCode.Terminated, reason),
      events.orchestratorCompleted(at),
    ],
    instance: {
      status: "Terminated",
      executionId: instance.executionId,
      customStatus: instance.customStatus,
      output: JSON.stringify(reason),
      updatedAt: at.getTime(),
    },
    dropPendingMessages: true,
    messages: parentNotification(instance, "Terminated", reason, at),
    activities: [],
    newInstances: [],
  };
}

/** One control message per episode; the orchestrator is not invoked (it ignores these events). */
export function suspendOrResumeCommit(
  instance: InstanceRow,
  control: MessageRow,
  at: Date,
  hasStarted: boolean,
): EpisodeCommit {
  const suspending = control.event.EventType === EventType.ExecutionSuspended;
  const changes = suspending ? instance.status !== "Suspended" : instance.status === "Suspended";
  const status: RuntimeStatus = suspending
    ? "Suspended"
    : changes
      ? hasStarted
        ? "Running"
        : "Pending"
      : instance.status;
  return {
    instanceId: instance.instanceId,
    consumedMessageIds: [control.id],
    resetHistory: false,
    // Before the first episode there is no history to add to; the status alone records it.
    appendEvents:
      changes && hasStarted
        ? [
            events.orchestratorStarted(at),
            { ...control.event, IsPlayed: false },
            events.orchestratorCompleted(at),
          ]
        : [],
    instance: {
      status,
      executionId: instance.executionId,
      customStatus: instance.customStatus,
      output: instance.output,
      updatedAt: at.getTime(),
    },
    dropPendingMessages: false,
    messages: [],
    activities: [],
    newInstances: [],
  };
}

/** The commit of `continueAsNew`: a fresh history and a new execution started with `input`. */
export function continueAsNewCommit(
  clock: DurableClock,
  instance: InstanceRow,
  consumed: readonly number[],
  input: unknown,
  customStatus: string | null,
): EpisodeCommit {
  const now = clock.now();
  const inputJson = input === undefined ? null : JSON.stringify(input);
  const next: InstanceRow = { ...instance, executionId: newExecutionId(), input: inputJson };
  return {
    instanceId: instance.instanceId,
    consumedMessageIds: consumed,
    resetHistory: true,
    appendEvents: [],
    instance: {
      status: "ContinuedAsNew",
      executionId: next.executionId,
      customStatus,
      output: null,
      updatedAt: now,
      input: inputJson,
    },
    dropPendingMessages: false,
    messages: [startMessage(clock, next)],
    activities: [],
    newInstances: [],
  };
}

/** The commit that fails an instance whose episode failed inside the engine, not the app. */
export function engineFailureCommit(
  instance: InstanceRow,
  ready: readonly MessageRow[],
  at: Date,
  error: unknown,
): EpisodeCommit {
  const message = `The local Durable engine could not run the orchestration: ${messageOf(error)}`;
  return {
    instanceId: instance.instanceId,
    consumedMessageIds: ready.map((m) => m.id),
    resetHistory: false,
    appendEvents: [],
    instance: {
      status: "Failed",
      executionId: instance.executionId,
      customStatus: instance.customStatus,
      output: JSON.stringify(message),
      updatedAt: at.getTime(),
    },
    dropPendingMessages: true,
    messages: parentNotification(instance, "Failed", message, at),
    activities: [],
    newInstances: [],
  };
}

/** The commit that drops messages nothing will read (the instance is gone or has finished). */
export function discardCommit(
  instanceId: string,
  instance: InstanceRow | undefined,
  consumed: readonly number[],
  at: Date,
): EpisodeCommit {
  return {
    instanceId,
    consumedMessageIds: consumed,
    resetHistory: false,
    appendEvents: [],
    instance: instance
      ? {
          status: instance.status,
          executionId: instance.executionId,
          customStatus: instance.customStatus,
          output: instance.output,
          updatedAt: instance.updatedAt,
        }
      : {
          status: "Failed",
          executionId: "",
          customStatus: null,
          output: null,
          updatedAt: at.getTime(),
        },
    dropPendingMessages: false,
    messages: [],
    activities: [],
    newInstances: [],
  };
}
