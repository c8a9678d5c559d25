/**
 * Orchestration instances as the engine creates them: instance ids the extension accepts, new
 * instance rows, their start messages, and the message that tells a parent how its child ended.
 */
import { randomUUID } from "node:crypto";
import type { DurableClock } from "./clock.js";
import { events, type ParentInstanceJson } from "./history.js";
import { failureDetails } from "./payload.js";
import type { InstanceRow, NewMessage, RuntimeStatus } from "./store.js";

/** Why the extension refuses an instance id (`DurableClient.StartNewAsync`), if it does. */
export function instanceIdProblem(id: string): string | undefined {
  if (id.length === 0) return "must not be empty";
  if (id.length > 256) return "must be at most 256 characters";
  if (id.startsWith("@")) return "must not start with '@'";
  // eslint-disable-next-line no-control-regex
  if (/[/\\#?\u0000-\u001f\u007f]/.test(id))
    return "must not contain '/', '\\', '#', '?' or control characters";
  return undefined;
}

/** A new execution id, as the extension writes them (a GUID without dashes). */
export function newExecutionId(): string {
  return randomUUID().replaceAll("-", "");
}

/** A new, pending instance of orchestrator `name`. */
export function newInstanceRow(
  clock: DurableClock,
  name: string,
  instanceId: string,
  inputJson: string | null,
  parent: InstanceRow["parent"],
): InstanceRow {
  const now = clock.now();
  return {
    instanceId,
    name,
    executionId: newExecutionId(),
    status: "Pending",
    input: inputJson,
    output: null,
    customStatus: null,
    createdAt: now,
    updatedAt: now,
    parent,
  };
}

/** The `ExecutionStarted` message that starts an instance's (current) execution. */
export function startMessage(clock: DurableClock, row: InstanceRow): NewMessage {
  const parent: ParentInstanceJson | null = row.parent
    ? {
        Name: row.parent.name,
        Version: "",
        TaskScheduleId: row.parent.taskScheduledId,
        OrchestrationInstance: {
          InstanceId: row.parent.instanceId,
          ExecutionId: row.parent.executionId,
        },
      }
    : null;
  return {
    instanceId: row.instanceId,
    executionId: row.executionId,
    visibleAt: clock.now(),
    event: events.executionStarted(new Date(clock.now()), {
      name: row.name,
      instanceId: row.instanceId,
      executionId: row.executionId,
      input: row.input,
      parent,
    }),
  };
}

/** For a sub-orchestration that ended: the completion or failure its parent waits for. */
export function parentNotification(
  instance: InstanceRow,
  status: RuntimeStatus,
  result: string | null,
  at: Date,
): NewMessage[] {
  const parent = instance.parent;
  if (!parent) return [];
  const event =
    status === "Completed"
      ? events.subOrchestrationCompleted(at, parent.taskScheduledId, result)
      : events.subOrchestrationFailed(
          at,
          parent.taskScheduledId,
          result ?? "",
          failureDetails(new Error(result ?? "")),
        );
  return [
    {
      instanceId: parent.instanceId,
      executionId: parent.executionId,
      visibleAt: at.getTime(),
      event,
    },
  ];
}
