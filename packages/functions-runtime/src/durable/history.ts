/**
 * Durable Task history events in the JSON shape the Durable extension hands to durable-functions:
 * PascalCase properties, an integer `EventType`, and `EventId` carrying the sequence number of the
 * action that produced the event (-1 for message-driven events).
 */

/** DTFx `EventType`, identical to durable-functions' `HistoryEventType`. */
export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
  ContinueAsNew: 16,
  GenericEvent: 17,
  HistoryState: 18,
  ExecutionSuspended: 19,
  ExecutionResumed: 20,
  ExecutionRewound: 21,
} as const;

/** One of the {@link EventType} numbers. */
export type EventTypeNumber = (typeof EventType)[keyof typeof EventType];

/** The name of an event type, as the status API prints it. */
export function eventTypeName(type: number): string {
  for (const [name, value] of Object.entries(EventType)) {
    if (value === type) return name;
  }
  return String(type);
}

/** DTFx `OrchestrationStatus`, as carried by `ExecutionCompleted.OrchestrationStatus`. */
export const OrchestrationStatusCode = {
  Running: 0,
  Completed: 1,
  ContinuedAsNew: 2,
  Failed: 3,
  Canceled: 4,
  Terminated: 5,
  Pending: 6,
  Suspended: 7,
} as const;

/** A history event; the type-specific fields are those of the DTFx class of the same name. */
export interface HistoryEvent {
  EventType: number;
  EventId: number;
  IsPlayed: boolean;
  Timestamp: string;
  Name?: string;
  Version?: string;
  Input?: string | null;
  Result?: string | null;
  TaskScheduledId?: number;
  TimerId?: number;
  FireAt?: string;
  Reason?: string;
  Details?: string;
  InstanceId?: string;
  OrchestrationStatus?: number;
  OrchestrationInstance?: { InstanceId: string; ExecutionId: string };
  ParentInstance?: ParentInstanceJson | null;
  [extra: string]: unknown;
}

/** `ExecutionStarted.ParentInstance`: who started a sub-orchestration. */
export interface ParentInstanceJson {
  Name: string;
  Version: string;
  TaskScheduleId: number;
  OrchestrationInstance: { InstanceId: string; ExecutionId: string };
}

function base(type: number, eventId: number, at: Date): HistoryEvent {
  return { EventType: type, EventId: eventId, IsPlayed: false, Timestamp: at.toISOString() };
}

/** Constructors for the events the engine writes. */
export const events = {
  orchestratorStarted: (at: Date): HistoryEvent => base(EventType.OrchestratorStarted, -1, at),
  orchestratorCompleted: (at: Date): HistoryEvent => base(EventType.OrchestratorCompleted, -1, at),
  executionStarted: (
    at: Date,
    fields: {
      name: string;
      instanceId: string;
      executionId: string;
      input: string | null;
      parent: ParentInstanceJson | null;
    },
  ): HistoryEvent => ({
    ...base(EventType.ExecutionStarted, -1, at),
    OrchestrationInstance: { InstanceId: fields.instanceId, ExecutionId: fields.executionId },
    ParentInstance: fields.parent,
    Name: fields.name,
    Version: "",
    Input: fields.input,
    Tags: null,
    Correlation: null,
    ScheduledStartTime: null,
    Generation: 0,
  }),
  executionCompleted: (
    at: Date,
    eventId: number,
    status: number,
    result: string | null,
  ): HistoryEvent => ({
    ...base(EventType.ExecutionCompleted, eventId, at),
    OrchestrationStatus: status,
    Result: result,
    FailureDetails: null,
  }),
  executionTerminated: (at: Date, reason: string | null): HistoryEvent => ({
    ...base(EventType.ExecutionTerminated, -1, at),
    Input: reason,
  }),
  executionSuspended: (at: Date, reason: string | null): HistoryEvent => ({
    ...base(EventType.ExecutionSuspended, -1, at),
    Reason: reason ?? "",
  }),
  executionResumed: (at: Date, reason: string | null): HistoryEvent => ({
    ...base(EventType.ExecutionResumed, -1, at),
    Reason: reason ?? "",
  }),
  taskScheduled: (at: Date, id: number, name: string, input: string): HistoryEvent => ({
    ...base(EventType.TaskScheduled, id, at),
    Name: name,
    Version: "",
    Input: input,
    Tags: null,
  }),
  taskCompleted: (at: Date, taskScheduledId: number, result: string | null): HistoryEvent => ({
    ...base(EventType.TaskCompleted, -1, at),
    TaskScheduledId: taskScheduledId,
    Result: result,
  }),
  taskFailed: (
    at: Date,
    taskScheduledId: number,
    reason: string,
    details: string,
  ): HistoryEvent => ({
    ...base(EventType.TaskFailed, -1, at),
    TaskScheduledId: taskScheduledId,
    Reason: reason,
    Details: details,
  }),
  timerCreated: (at: Date, id: number, fireAt: Date): HistoryEvent => ({
    ...base(EventType.TimerCreated, id, at),
    FireAt: fireAt.toISOString(),
  }),
  timerFired: (at: Date, timerId: number, fireAt: string): HistoryEvent => ({
    ...base(EventType.TimerFired, -1, at),
    TimerId: timerId,
    FireAt: fireAt,
  }),
  eventRaised: (at: Date, name: string, input: string | null): HistoryEvent => ({
    ...base(EventType.EventRaised, -1, at),
    Name: name,
    Input: input,
  }),
  subOrchestrationCreated: (
    at: Date,
    id: number,
    name: string,
    instanceId: string,
    input: string | null,
  ): HistoryEvent => ({
    ...base(EventType.SubOrchestrationInstanceCreated, id, at),
    Name: name,
    Version: "",
    InstanceId: instanceId,
    Input: input,
    Tags: null,
  }),
  subOrchestrationCompleted: (
    at: Date,
    taskScheduledId: number,
    result: string | null,
  ): HistoryEvent => ({
    ...base(EventType.SubOrchestrationInstanceCompleted, -1, at),
    TaskScheduledId: taskScheduledId,
    Result: result,
  }),
  subOrchestrationFailed: (
    at: Date,
    taskScheduledId: number,
    reason: string,
    details: string,
  ): HistoryEvent => ({
    ...base(EventType.SubOrchestrationInstanceFailed, -1, at),
    TaskScheduledId: taskScheduledId,
    Reason: reason,
    Details: details,
  }),
};
