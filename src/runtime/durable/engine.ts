/**
 * The Durable engine: a single orchestration dispatcher that runs episodes (one orchestrator
 * invocation over the full history plus every message that arrived), an activity dispatcher, and
 * timers as delayed messages. All state lives in the {@link DurableStore}.
 *
 * @remarks Activities are at-least-once: an activity that ran but whose result was not yet
 * committed when the process died runs again after a restart. Episodes are exactly-once in
 * effect: each commits atomically, and a killed episode simply replays.
 */
import { randomUUID } from "node:crypto";
import { RuntimeError, InvalidInputError, NotFoundError, isRuntimeError } from "../errors.js";
import type { FunctionInvoker, RegisteredFunction, RpcTypedData } from "../contracts.js";
import type { DurableClock } from "./clock.js";
import {
  EventType,
  OrchestrationStatusCode,
  events,
  type HistoryEvent,
  type ParentInstanceJson,
} from "./history.js";
import {
  activityInputTypedData,
  extractOutOfProcState,
  failureDetails,
  messageOf,
  orchestrationTriggerJson,
  resultFromReturnValue,
  taskScheduledInput,
  toTimeSpan,
} from "./payload.js";
import {
  builtInHttpActivity,
  replayEpisode,
  type ActionJson,
  type DurableHttpRequestJson,
  type ScheduledWork,
} from "./shim.js";
import {
  terminalStatuses,
  type ActivityRow,
  type DurableStore,
  type EpisodeCommit,
  type InstanceRow,
  type MessageRow,
  type NewMessage,
  type RuntimeStatus,
} from "./store.js";

/** Tuning knobs of the engine; the defaults are those of the Azure Storage backend. */
export interface DurableTuning {
  /** Clock for `currentUtcDateTime` and timers; the system clock by default. */
  readonly clock?: DurableClock;
  /** Timers further away than this are split (`maximumShortTimerDuration`, 6 days). */
  readonly maximumShortTimerMs?: number;
  /** Slice length of a split timer (`longRunningTimerIntervalDuration`, 3 days). */
  readonly longRunningTimerIntervalMs?: number;
  /** Activities run at the same time, at most. */
  readonly maxConcurrentActivities?: number;
}

/** What the engine needs to run. */
export interface DurableEngineOptions extends DurableTuning {
  readonly invoker: FunctionInvoker;
  readonly store: DurableStore;
  readonly clock: DurableClock;
  readonly log: (line: string) => void;
}

/** The orchestrator state durable-functions returns (`OrchestratorState`). */
interface OrchestratorStateJson {
  readonly isDone?: boolean;
  readonly actions?: readonly (readonly ActionJson[])[];
  readonly output?: unknown;
  readonly error?: string;
  readonly customStatus?: unknown;
}

const day = 86_400_000;
/** Wait between polls of a `callHttp` 202 answer without Retry-After (the extension's default). */
const defaultHttpPollingMs = 30_000;

/**
 * The extension's built-in HTTP activity: sends a `callHttp` request and records the answer as
 * `DurableHttpResponse` JSON. Managed-identity token sources need Azure and are refused.
 */
async function runBuiltInHttpActivity(scheduledInput: string): Promise<string> {
  const [request] = JSON.parse(scheduledInput) as [DurableHttpRequestJson];
  if (request.tokenSource !== undefined && request.tokenSource !== null) {
    throw new Error(
      "callHttp with a managed identity token source is not supported by the local runtime.",
    );
  }
  const response = await fetch(request.uri, {
    method: request.method,
    ...(request.headers ? { headers: request.headers } : {}),
    ...(request.content !== undefined && request.content !== null ? { body: request.content } : {}),
  });
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return JSON.stringify({ statusCode: response.status, headers, content: await response.text() });
}

/** Episodes of different instances that may wait on the worker at the same time. */
const maxConcurrentEpisodes = 8;
/** How long to wait before retrying work that failed because the worker was unavailable. */
const transientRetryMs = 1000;

/** An invocation that failed for reasons outside the function (the worker exited). */
function isTransient(error: unknown): boolean {
  return isRuntimeError(error) && error.retryable;
}

/** Instance ids the extension refuses (`DurableClient.StartNewAsync`). */
function instanceIdProblem(id: string): string | undefined {
  if (id.length === 0) return "must not be empty";
  if (id.length > 256) return "must be at most 256 characters";
  if (id.startsWith("@")) return "must not start with '@'";
  // eslint-disable-next-line no-control-regex
  if (/[/\\#?\u0000-\u001f\u007f]/.test(id))
    return "must not contain '/', '\\', '#', '?' or control characters";
  return undefined;
}

function bindingNameOf(fn: RegisteredFunction, type: string): string {
  for (const [name, binding] of Object.entries(fn.bindings)) {
    if (binding.type === type) return name;
  }
  throw new RuntimeError(
    "DURABLE_BINDING_MISSING",
    `Function '${fn.name}' has no ${type} binding.`,
  );
}

/** Runs orchestrations and activities of one task hub. */
export class DurableEngine {
  private readonly clock: DurableClock;
  private readonly store: DurableStore;
  private readonly maximumShortTimerMs: number;
  private readonly longRunningTimerIntervalMs: number;
  private readonly maxConcurrentActivities: number;
  private stopped = true;
  private drainScheduled = false;
  private draining: Promise<void> | undefined;
  private drainAgain = false;
  private cancelWakeUp: (() => void) | undefined;
  private readonly activityQueue: ActivityRow[] = [];
  private readonly activitiesInFlight = new Set<Promise<void>>();
  private readonly idle = new Set<() => void>();
  private readonly retryHandles = new Set<NodeJS.Timeout>();
  /** Activity results not yet committed; flushed together on the next turn of the event loop. */
  private readonly completions: Array<{ activityId: number; result: NewMessage }> = [];
  private flushScheduled = false;
  /** Set once {@link stop} has returned: the store may be closed. */
  private closed = false;

  private readonly options: DurableEngineOptions;

  constructor(options: DurableEngineOptions) {
    this.options = options;
    this.clock = options.clock;
    this.store = options.store;
    this.maximumShortTimerMs = options.maximumShortTimerMs ?? 6 * day;
    this.longRunningTimerIntervalMs = options.longRunningTimerIntervalMs ?? 3 * day;
    this.maxConcurrentActivities = options.maxConcurrentActivities ?? 16;
  }

  /** Resumes every persisted piece of work. */
  start(): void {
    this.stopped = false;
    const queued = this.store.activities();
    if (queued.length > 0) {
      this.options.log(
        `durable: resuming ${queued.length} activity execution(s) left from the last run`,
      );
    }
    this.activityQueue.push(...queued);
    this.pumpActivities();
    this.scheduleDrain();
  }

  /**
   * Stops dispatching and waits for the episodes in flight. Activities still running are not
   * waited for (one may run for minutes): their results are dropped, and they run again at the
   * next start, as after a crash.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelWakeUp?.();
    this.cancelWakeUp = undefined;
    for (const handle of this.retryHandles) clearTimeout(handle);
    this.retryHandles.clear();
    this.activityQueue.length = 0;
    await this.draining;
    this.flushCompletions();
    this.closed = true;
  }

  // ---- client operations ----------------------------------------------------------------

  /** The registered function with this name (case-insensitive) and trigger type. */
  findFunction(name: string, triggerType: string): RegisteredFunction | undefined {
    const exact = this.options.invoker.get(name);
    if (exact && exact.triggerType === triggerType) return exact;
    const lower = name.toLowerCase();
    return this.options.invoker
      .list()
      .find((f) => f.name.toLowerCase() === lower && f.triggerType === triggerType);
  }

  /** Starts a new orchestration instance (the client's `startNew`). */
  startNew(name: string, instanceId: string | undefined, inputJson: string | null): InstanceRow {
    const fn = this.findFunction(name, "orchestrationTrigger");
    if (!fn) {
      throw new InvalidInputError(
        "DURABLE_ORCHESTRATOR_NOT_FOUND",
        `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function.`,
      );
    }
    const id = instanceId ?? randomUUID().replaceAll("-", "");
    const problem = instanceIdProblem(id);
    if (problem) {
      throw new InvalidInputError("DURABLE_INSTANCE_ID_INVALID", `Instance id '${id}' ${problem}.`);
    }
    const existing = this.store.getInstance(id);
    if (existing && !terminalStatuses.has(existing.status)) {
      throw new RuntimeError(
        "DURABLE_INSTANCE_EXISTS",
        `An orchestration instance with the ID '${id}' already exists and is ${existing.status}.`,
        {
          httpStatus: 409,
        },
      );
    }
    const row = this.newInstanceRow(fn.name, id, inputJson, null);
    this.store.createInstance(row, this.startMessage(row));
    this.scheduleDrain();
    return row;
  }

  private newInstanceRow(
    name: string,
    instanceId: string,
    inputJson: string | null,
    parent: InstanceRow["parent"],
  ): InstanceRow {
    const now = this.clock.now();
    return {
      instanceId,
      name,
      executionId: randomUUID().replaceAll("-", ""),
      status: "Pending",
      input: inputJson,
      output: null,
      customStatus: null,
      createdAt: now,
      updatedAt: now,
      parent,
    };
  }

  private startMessage(row: InstanceRow): NewMessage {
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
      visibleAt: this.clock.now(),
      event: events.executionStarted(new Date(this.clock.now()), {
        name: row.name,
        instanceId: row.instanceId,
        executionId: row.executionId,
        input: row.input,
        parent,
      }),
    };
  }

  getInstance(instanceId: string): InstanceRow | undefined {
    return this.store.getInstance(instanceId);
  }

  private requireRunning(instanceId: string): InstanceRow {
    const instance = this.store.getInstance(instanceId);
    if (!instance)
      throw new NotFoundError(
        "DURABLE_INSTANCE_NOT_FOUND",
        `No instance with ID '${instanceId}' was found.`,
      );
    if (terminalStatuses.has(instance.status)) {
      throw new RuntimeError(
        "DURABLE_INSTANCE_FINISHED",
        `The instance '${instanceId}' is ${instance.status}.`,
        { httpStatus: 410 },
      );
    }
    return instance;
  }

  /** Delivers an external event (the client's `raiseEvent`). */
  raiseEvent(instanceId: string, eventName: string, inputJson: string | null): void {
    this.requireRunning(instanceId);
    const now = this.clock.now();
    this.store.enqueue({
      instanceId,
      executionId: null,
      visibleAt: now,
      event: events.eventRaised(new Date(now), eventName, inputJson),
    });
    this.scheduleDrain();
  }

  /** Asks an instance to stop (the client's `terminate`). */
  terminate(instanceId: string, reason: string | null): void {
    this.requireRunning(instanceId);
    const now = this.clock.now();
    this.store.enqueue({
      instanceId,
      executionId: null,
      visibleAt: now,
      event: events.executionTerminated(new Date(now), reason),
    });
    this.scheduleDrain();
  }

  /** Pauses an instance: messages other than resume and terminate wait until it resumes. */
  suspend(instanceId: string, reason: string | null): void {
    this.enqueueControl(instanceId, events.executionSuspended(new Date(this.clock.now()), reason));
  }

  /** Resumes a suspended instance. */
  resume(instanceId: string, reason: string | null): void {
    this.enqueueControl(instanceId, events.executionResumed(new Date(this.clock.now()), reason));
  }

  private enqueueControl(instanceId: string, event: HistoryEvent): void {
    this.requireRunning(instanceId);
    this.store.enqueue({ instanceId, executionId: null, visibleAt: this.clock.now(), event });
    this.scheduleDrain();
  }

  /** Deletes a finished instance with its history; false when there is none. */
  purge(instanceId: string): boolean {
    const instance = this.store.getInstance(instanceId);
    if (!instance) return false;
    if (!terminalStatuses.has(instance.status)) {
      throw new RuntimeError(
        "DURABLE_INSTANCE_RUNNING",
        `The instance '${instanceId}' is ${instance.status}; terminate it before purging.`,
        {
          httpStatus: 409,
        },
      );
    }
    return this.store.purge(instanceId);
  }

  history(instanceId: string): HistoryEvent[] {
    return this.store.getHistory(instanceId);
  }

  listInstances(filter: Parameters<DurableStore["listInstances"]>[0]): InstanceRow[] {
    return this.store.listInstances(filter);
  }

  /** Resolves when no message is ready and no activity is queued or running (for tests and benchmarks). */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idle.add(resolve));
  }

  private isIdle(): boolean {
    return (
      !this.draining &&
      !this.drainScheduled &&
      this.activityQueue.length === 0 &&
      this.completions.length === 0 &&
      this.activitiesInFlight.size === 0 &&
      this.store.readyInstanceIds(this.clock.now(), 1).length === 0
    );
  }

  private notifyIdle(): void {
    if (this.idle.size === 0 || !this.isIdle()) return;
    for (const resolve of [...this.idle]) resolve();
    this.idle.clear();
  }

  // ---- orchestration dispatcher ---------------------------------------------------------

  private scheduleDrain(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      if (this.stopped) return;
      this.draining = this.drain().finally(() => {
        this.draining = undefined;
        if (this.drainAgain && !this.stopped) {
          this.drainAgain = false;
          this.scheduleDrain();
        } else {
          this.armTimer();
          this.notifyIdle();
        }
      });
    });
  }

  /**
   * Runs episodes until no instance has a visible message. Episodes of different instances
   * overlap (their invocations wait on the worker); one instance never has two at once.
   */
  private async drain(): Promise<void> {
    const inFlight = new Map<string, Promise<void>>();
    let postponed = false;
    for (;;) {
      this.drainAgain = false;
      if (this.stopped || postponed) break;
      const ready = this.store
        .readyInstanceIds(this.clock.now(), maxConcurrentEpisodes + inFlight.size)
        .filter((id) => !inFlight.has(id));
      for (const instanceId of ready) {
        if (inFlight.size >= maxConcurrentEpisodes) break;
        const episode = this.runEpisodeSafely(instanceId).then((outcome) => {
          inFlight.delete(instanceId);
          if (outcome === "postponed") postponed = true;
        });
        inFlight.set(instanceId, episode);
      }
      if (inFlight.size === 0) break;
      await Promise.race(inFlight.values());
    }
    await Promise.all(inFlight.values());
    // The worker is gone or restarting: the messages stay, and the engine tries again shortly.
    if (postponed) this.retrySoon(() => this.scheduleDrain());
  }

  private async runEpisodeSafely(instanceId: string): Promise<"done" | "postponed"> {
    try {
      await this.runEpisode(instanceId);
      return "done";
    } catch (error) {
      if (isTransient(error)) {
        this.options.log(`durable: episode of '${instanceId}' postponed: ${messageOf(error)}`);
        return "postponed";
      }
      this.options.log(
        `durable: episode of '${instanceId}' failed inside the engine: ${messageOf(error)}`,
      );
      this.failInstanceAfterEngineError(instanceId, error);
      return "done";
    }
  }

  private retrySoon(action: () => void): void {
    const handle = setTimeout(() => {
      this.retryHandles.delete(handle);
      if (!this.stopped) action();
    }, transientRetryMs);
    handle.unref();
    this.retryHandles.add(handle);
  }

  private armTimer(): void {
    this.cancelWakeUp?.();
    this.cancelWakeUp = undefined;
    if (this.stopped) return;
    const next = this.store.nextVisibleAt(this.clock.now());
    if (next !== undefined) this.cancelWakeUp = this.clock.wakeAt(next, () => this.scheduleDrain());
  }

  private failInstanceAfterEngineError(instanceId: string, error: unknown): void {
    const instance = this.store.getInstance(instanceId);
    if (!instance) return;
    const now = new Date(this.clock.now());
    const messages = this.store.readyMessages(instanceId, now.getTime());
    const message = `The local Durable engine could not run the orchestration: ${messageOf(error)}`;
    this.store.commitEpisode({
      instanceId,
      consumedMessageIds: messages.map((m) => m.id),
      resetHistory: false,
      appendEvents: [],
      instance: {
        status: "Failed",
        executionId: instance.executionId,
        customStatus: instance.customStatus,
        output: JSON.stringify(message),
        updatedAt: now.getTime(),
      },
      dropPendingMessages: true,
      messages: this.parentNotification(instance, "Failed", message, now),
      activities: [],
      newInstances: [],
    });
  }

  private async runEpisode(instanceId: string): Promise<void> {
    const startedAt = new Date(this.clock.now());
    const instance = this.store.getInstance(instanceId);
    const ready = this.store.readyMessages(
      instanceId,
      startedAt.getTime(),
      instance?.status === "Suspended",
    );
    const consumed = ready.map((m) => m.id);
    const discard = (): void => {
      this.store.commitEpisode({
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
              updatedAt: startedAt.getTime(),
            },
        dropPendingMessages: false,
        messages: [],
        activities: [],
        newInstances: [],
      });
    };
    if (!instance || terminalStatuses.has(instance.status)) return discard();

    const relevant = ready.filter(
      (m) => m.executionId === null || m.executionId === instance.executionId,
    );
    // As stored (frozen, shared with the store's history cache): the shim does not look at
    // IsPlayed, and orchestrationTriggerJson marks them played for the worker.
    const past = this.store.getHistory(instanceId);
    const startMessage = relevant.find((m) => m.event.EventType === EventType.ExecutionStarted);
    const others = relevant.filter((m) => m !== startMessage);
    const incoming: HistoryEvent[] = [
      ...(startMessage ? [startMessage.event] : []),
      ...others.map((m) => m.event),
    ].map((e) => ({ ...e, IsPlayed: false }));
    const terminateMessage = others.find(
      (m) => m.event.EventType === EventType.ExecutionTerminated,
    );
    if (terminateMessage)
      return this.finishTerminated(instance, consumed, startedAt, startMessage, terminateMessage);
    const control = others.find(
      (m) =>
        m.event.EventType === EventType.ExecutionSuspended ||
        m.event.EventType === EventType.ExecutionResumed,
    );
    if (control) return this.applySuspendOrResume(instance, control, startedAt, past.length > 0);

    const executionStarted =
      past.find((e) => e.EventType === EventType.ExecutionStarted) ?? startMessage?.event;
    if (!executionStarted) return discard();
    if (incoming.length === 0) return discard();

    const newEvents = [events.orchestratorStarted(startedAt), ...incoming];
    const fullHistory = [...past, ...newEvents];
    const fn = this.findFunction(instance.name, "orchestrationTrigger");
    if (!fn) {
      return this.finish(instance, consumed, startedAt, newEvents, [], {
        status: "Failed",
        message: `The function '${instance.name}' doesn't exist, is disabled, or is not an orchestrator function.`,
        nextSequenceNumber: 0,
        customStatus: instance.customStatus,
      });
    }

    const state = await this.invokeOrchestrator(fn, instance, executionStarted, past, newEvents);
    const customStatus =
      state.customStatus === undefined ? null : JSON.stringify(state.customStatus);
    const actionGroups = state.actions ?? [[]];
    if (actionGroups.length !== 1) {
      return this.finish(instance, consumed, startedAt, newEvents, [], {
        status: "Failed",
        message: `Orchestrator function '${instance.name}' failed: the orchestrator returned ${actionGroups.length} action groups; only replay schema V2 and later are supported.`,
        nextSequenceNumber: 0,
        customStatus,
      });
    }
    const outcome = replayEpisode(fullHistory, actionGroups[0] ?? [], {
      executionId: instance.executionId,
      maximumShortTimerMs: this.maximumShortTimerMs,
      longRunningTimerIntervalMs: this.longRunningTimerIntervalMs,
      defaultHttpPollingMs,
      lookupFunction: (name) => {
        const found =
          this.findFunction(name, "activityTrigger") ??
          this.findFunction(name, "orchestrationTrigger");
        return found ? { name: found.name, triggerType: found.triggerType } : undefined;
      },
    });

    if (outcome.fatalError !== undefined) {
      return this.finish(instance, consumed, startedAt, newEvents, [], {
        status: "Failed",
        message: `Orchestrator function '${instance.name}' failed: ${outcome.fatalError}`,
        nextSequenceNumber: outcome.nextSequenceNumber,
        customStatus,
      });
    }
    if (outcome.actionsSettled && state.error !== undefined) {
      return this.finish(instance, consumed, startedAt, newEvents, outcome.scheduled, {
        status: "Failed",
        message: `Orchestrator function '${instance.name}' failed: ${state.error}`,
        nextSequenceNumber: outcome.nextSequenceNumber,
        customStatus,
      });
    }
    if (outcome.actionsSettled && state.isDone) {
      if (outcome.continueAsNew) {
        return this.continueAsNew(instance, consumed, outcome.continueAsNew.input, customStatus);
      }
      return this.finish(instance, consumed, startedAt, newEvents, outcome.scheduled, {
        status: "Completed",
        output: state.output === undefined ? null : JSON.stringify(state.output),
        nextSequenceNumber: outcome.nextSequenceNumber,
        customStatus,
      });
    }
    return this.finish(instance, consumed, startedAt, newEvents, outcome.scheduled, {
      status: "Running",
      nextSequenceNumber: outcome.nextSequenceNumber,
      customStatus,
    });
  }

  private async invokeOrchestrator(
    fn: RegisteredFunction,
    instance: InstanceRow,
    executionStarted: HistoryEvent,
    past: readonly HistoryEvent[],
    newEvents: readonly HistoryEvent[],
  ): Promise<OrchestratorStateJson> {
    // The binding the extension sends, less its leading `history`: orchestrationTriggerJson
    // writes that from the past events' remembered JSON.
    const binding = {
      input:
        executionStarted.Input === null || executionStarted.Input === undefined
          ? null
          : (JSON.parse(executionStarted.Input) as unknown),
      instanceId: instance.instanceId,
      isReplaying: past.length > 0,
      parentInstanceId: instance.parent?.instanceId ?? null,
      upperSchemaVersion: 1,
      upperSchemaVersionNew: 2,
      longRunningTimerIntervalDuration: toTimeSpan(this.longRunningTimerIntervalMs),
      maximumShortTimerDuration: toTimeSpan(this.maximumShortTimerMs),
      defaultHttpAsyncRequestSleepTimeMillseconds: defaultHttpPollingMs,
    };
    try {
      const result = await this.options.invoker.invoke(fn.name, {
        inputData: [
          {
            name: bindingNameOf(fn, "orchestrationTrigger"),
            data: { string: orchestrationTriggerJson(past, newEvents, binding) },
          },
        ],
        triggerMetadata: {},
      });
      const text = result.returnValue?.json ?? result.returnValue?.string;
      if (text === undefined) return { error: "the orchestrator returned no state" };
      return JSON.parse(text) as OrchestratorStateJson;
    } catch (error) {
      if (isTransient(error)) throw error;
      const message = messageOf(error);
      const state = extractOutOfProcState(message) as OrchestratorStateJson | undefined;
      if (state && typeof state === "object")
        return { ...state, error: state.error ?? message.split("\n")[0] ?? message };
      return { actions: [[]], error: message };
    }
  }

  private workEvents(work: readonly ScheduledWork[], at: Date): HistoryEvent[] {
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

  private finish(
    instance: InstanceRow,
    consumed: readonly number[],
    at: Date,
    newEvents: readonly HistoryEvent[],
    work: readonly ScheduledWork[],
    end: {
      status: "Running" | "Completed" | "Failed";
      output?: string | null;
      message?: string;
      nextSequenceNumber: number;
      customStatus: string | null;
    },
  ): void {
    const messages: NewMessage[] = [];
    const activities: Array<Omit<ActivityRow, "id">> = [];
    const newInstances: Array<{ row: InstanceRow; start: NewMessage }> = [];
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
        const existing = this.store.getInstance(w.instanceId);
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
          const row = this.newInstanceRow(
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
          newInstances.push({ row, start: this.startMessage(row) });
        }
      }
    }
    const appendEvents = [...newEvents, ...this.workEvents(work, at)];
    let output = instance.output;
    if (end.status !== "Running") {
      output =
        end.status === "Completed" ? (end.output ?? null) : JSON.stringify(end.message ?? "");
      const code =
        end.status === "Completed"
          ? OrchestrationStatusCode.Completed
          : OrchestrationStatusCode.Failed;
      const result = end.status === "Completed" ? output : (end.message ?? "");
      appendEvents.push(events.executionCompleted(at, end.nextSequenceNumber, code, result));
      messages.push(
        ...this.parentNotification(
          instance,
          end.status,
          end.status === "Completed" ? output : (end.message ?? ""),
          at,
        ),
      );
      this.options.log(
        `durable: ${instance.name} (${instance.instanceId}) ${end.status}${end.status === "Failed" ? `: ${end.message ?? ""}` : ""}`,
      );
    }
    appendEvents.push(events.orchestratorCompleted(at));
    const commit: EpisodeCommit = {
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
    const queued = this.store.commitEpisode(commit);
    this.activityQueue.push(...queued);
    this.pumpActivities();
  }

  private parentNotification(
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

  private finishTerminated(
    instance: InstanceRow,
    consumed: readonly number[],
    at: Date,
    startMessage: MessageRow | undefined,
    terminate: MessageRow,
  ): void {
    const reason = terminate.event.Input ?? "";
    const appendEvents: HistoryEvent[] = [
      events.orchestratorStarted(at),
      ...(startMessage ? [{ ...startMessage.event, IsPlayed: false }] : []),
      { ...terminate.event, IsPlayed: false },
      events.executionCompleted(at, -1, OrchestrationStatusCode.Terminated, reason),
      events.orchestratorCompleted(at),
    ];
    this.store.commitEpisode({
      instanceId: instance.instanceId,
      consumedMessageIds: consumed,
      resetHistory: false,
      appendEvents,
      instance: {
        status: "Terminated",
        executionId: instance.executionId,
        customStatus: instance.customStatus,
        output: JSON.stringify(reason),
        updatedAt: at.getTime(),
      },
      dropPendingMessages: true,
      messages: this.parentNotification(instance, "Terminated", reason, at),
      activities: [],
      newInstances: [],
    });
    this.options.log(`durable: ${instance.name} (${instance.instanceId}) Terminated: ${reason}`);
  }

  /** One control message per episode; the orchestrator is not invoked (it ignores these events). */
  private applySuspendOrResume(
    instance: InstanceRow,
    control: MessageRow,
    at: Date,
    hasStarted: boolean,
  ): void {
    const suspending = control.event.EventType === EventType.ExecutionSuspended;
    const changes = suspending ? instance.status !== "Suspended" : instance.status === "Suspended";
    const status: RuntimeStatus = suspending
      ? "Suspended"
      : changes
        ? hasStarted
          ? "Running"
          : "Pending"
        : instance.status;
    this.store.commitEpisode({
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
    });
  }

  private continueAsNew(
    instance: InstanceRow,
    consumed: readonly number[],
    input: unknown,
    customStatus: string | null,
  ): void {
    const now = this.clock.now();
    const inputJson = input === undefined ? null : JSON.stringify(input);
    const next: InstanceRow = {
      ...instance,
      executionId: randomUUID().replaceAll("-", ""),
      input: inputJson,
    };
    this.store.commitEpisode({
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
      messages: [this.startMessage(next)],
      activities: [],
      newInstances: [],
    });
  }

  // ---- activity dispatcher --------------------------------------------------------------

  private pumpActivities(): void {
    while (
      !this.stopped &&
      this.activitiesInFlight.size < this.maxConcurrentActivities &&
      this.activityQueue.length > 0
    ) {
      const row = this.activityQueue.shift() as ActivityRow;
      const running: Promise<void> = this.runActivity(row)
        .catch((error: unknown) =>
          this.options.log(
            `durable: activity ${row.name} could not be recorded: ${messageOf(error)}`,
          ),
        )
        .finally(() => {
          this.activitiesInFlight.delete(running);
          this.pumpActivities();
          this.notifyIdle();
        });
      this.activitiesInFlight.add(running);
    }
  }

  private async runActivity(row: ActivityRow): Promise<void> {
    let event: HistoryEvent;
    try {
      if (row.name === builtInHttpActivity) {
        const result = await runBuiltInHttpActivity(row.input);
        event = events.taskCompleted(new Date(this.clock.now()), row.taskScheduledId, result);
        return this.recordCompletion(row, event);
      }
      const fn = this.findFunction(row.name, "activityTrigger");
      if (!fn)
        throw new Error(
          `The function '${row.name}' doesn't exist, is disabled, or is not an activity function.`,
        );
      const data: RpcTypedData = activityInputTypedData(row.input);
      const result = await this.options.invoker.invoke(fn.name, {
        inputData: [{ name: bindingNameOf(fn, "activityTrigger"), data }],
        triggerMetadata: { instanceId: { string: row.instanceId }, data },
      });
      event = events.taskCompleted(
        new Date(this.clock.now()),
        row.taskScheduledId,
        resultFromReturnValue(result.returnValue),
      );
    } catch (error) {
      if (isTransient(error)) {
        this.retrySoon(() => {
          this.activityQueue.push(row);
          this.pumpActivities();
        });
        return;
      }
      event = events.taskFailed(
        new Date(this.clock.now()),
        row.taskScheduledId,
        `Activity function '${row.name}' failed: ${messageOf(error)}`,
        failureDetails(error),
      );
    }
    this.recordCompletion(row, event);
  }

  private recordCompletion(row: ActivityRow, event: HistoryEvent): void {
    // Recorded while stopping too, until the store closes; after that the activity runs again later.
    if (this.closed) return;
    this.completions.push({
      activityId: row.id,
      result: {
        instanceId: row.instanceId,
        executionId: row.executionId,
        visibleAt: this.clock.now(),
        event,
      },
    });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flushCompletions());
    }
  }

  /** Records the activity results gathered since the last flush, in one transaction. */
  private flushCompletions(): void {
    this.flushScheduled = false;
    if (this.closed) return;
    const batch = this.completions.splice(0);
    if (batch.length === 0) return;
    this.store.completeActivities(batch);
    this.scheduleDrain();
    this.notifyIdle();
  }
}
