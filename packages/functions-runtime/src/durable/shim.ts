/**
 * An emulation of the Durable extension's out-of-process orchestrator shim on top of the DTFx
 * replay loop: it takes the actions durable-functions returned and the execution's full history,
 * and works out which new work the episode schedules, with sequence numbers assigned exactly as
 * the extension assigns them.
 *
 * @remarks The extension awaits the top-level actions one after another; `WhenAll` waits for every
 * child (even after one fails), `WhenAny` for the first. History events are replayed in order and a
 * completion runs its continuation at once, which may allocate further ids: retry timers and next
 * attempts (DTFx `RetryInterceptor`), the next slice of a long timer, the next top-level action.
 * Ids allocated with no matching TaskScheduled/TimerCreated/SubOrchestrationInstanceCreated event
 * in the history are this episode's new work. A recorded event whose id was not allocated, or was
 * allocated for a different kind or name, is non-determinism.
 */
import { EventType, type HistoryEvent } from "./history.js";

/** durable-functions' action JSON (`lib/src/actions/*`). */
export interface ActionJson {
  readonly actionType: number;
  readonly functionName?: string;
  readonly input?: unknown;
  readonly instanceId?: string;
  readonly retryOptions?: RetryOptionsJson;
  readonly fireAt?: string;
  readonly isCanceled?: boolean;
  readonly externalEventName?: string;
  readonly compoundActions?: readonly ActionJson[];
  readonly httpRequest?: DurableHttpRequestJson;
}

/** The request of a `callHttp` action (durable-functions' `DurableHttpRequest`). */
export interface DurableHttpRequestJson {
  readonly method: string;
  readonly uri: string;
  readonly content?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly tokenSource?: unknown;
  readonly asynchronousPatternEnabled?: boolean;
}

/** The activity name under which the extension runs `callHttp` requests. */
export const builtInHttpActivity = "BuiltIn::HttpActivity";

/** durable-functions' `RetryOptions` as serialized in an action. */
export interface RetryOptionsJson {
  readonly firstRetryIntervalInMilliseconds: number;
  readonly maxNumberOfAttempts: number;
  readonly backoffCoefficient?: number;
  readonly maxRetryIntervalInMilliseconds?: number;
  readonly retryTimeoutInMilliseconds?: number;
}

/** durable-functions action types. */
export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  ScheduledSignalEntity: 10,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;

/** New work an episode schedules, in sequence-number order. */
export type ScheduledWork =
  | {
      readonly kind: "activity";
      readonly id: number;
      readonly name: string;
      readonly input: unknown;
    }
  | { readonly kind: "timer"; readonly id: number; readonly fireAt: Date }
  | {
      readonly kind: "subOrchestration";
      readonly id: number;
      readonly name: string;
      readonly instanceId: string;
      readonly input: unknown;
    };

/** The outcome of replaying one episode. */
export interface ShimOutcome {
  /** Work allocated in this episode and not yet recorded in history. */
  readonly scheduled: readonly ScheduledWork[];
  /** The extension's sequential walk over the actions has finished. */
  readonly actionsSettled: boolean;
  /** The next sequence number, used for the completion action's id. */
  readonly nextSequenceNumber: number;
  /** Set when the orchestrator called continueAsNew. */
  readonly continueAsNew?: { readonly input: unknown };
  /** Set when the orchestration must fail regardless of what the orchestrator said. */
  readonly fatalError?: string;
}

/** What the shim needs to know beyond history and actions. */
export interface ShimOptions {
  readonly executionId: string;
  /** Durations the extension advertises (`maximumShortTimerDuration`, `longRunningTimerIntervalDuration`). */
  readonly maximumShortTimerMs: number;
  readonly longRunningTimerIntervalMs: number;
  /** Resolves a function name case-insensitively to its registered spelling, with its trigger type. */
  readonly lookupFunction: (name: string) => { name: string; triggerType: string } | undefined;
  /** Wait between polls of a `callHttp` 202 response without Retry-After (30 s in Azure). */
  readonly defaultHttpPollingMs?: number;
}

type Settlement =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** A C# Task as the synchronous DTFx scheduler sees it: continuations run inline on completion. */
class SimTask {
  private settlement: Settlement | undefined;
  private readonly continuations: Array<(s: Settlement) => void> = [];

  get settled(): Settlement | undefined {
    return this.settlement;
  }

  settle(settlement: Settlement): void {
    if (this.settlement) return;
    this.settlement = settlement;
    for (const continuation of this.continuations.splice(0)) continuation(settlement);
  }

  then(continuation: (s: Settlement) => void): void {
    if (this.settlement) continuation(this.settlement);
    else this.continuations.push(continuation);
  }

  static done(value: unknown = undefined): SimTask {
    const task = new SimTask();
    task.settle({ ok: true, value });
    return task;
  }
}

type PendingKind = "activity" | "timer" | "subOrchestration";

interface PendingAction {
  readonly work: ScheduledWork;
}

const kindOfEvent: Partial<Record<number, PendingKind>> = {
  [EventType.TaskScheduled]: "activity",
  [EventType.TimerCreated]: "timer",
  [EventType.SubOrchestrationInstanceCreated]: "subOrchestration",
};

const kindDescription: Record<PendingKind, string> = {
  activity: "an activity task",
  timer: "a durable timer",
  subOrchestration: "a sub-orchestration",
};

/** Thrown inside the replay when the orchestration must fail; caught by {@link replayEpisode}. */
class ShimFailure extends Error {}

/** The DTFx orchestration context plus the extension's shim, fed with one execution's history. */
class ShimContext {
  private idCounter = 0;
  private now = new Date(0);
  private readonly openTasks = new Map<number, SimTask>();
  private readonly pending = new Map<number, PendingAction>();
  private readonly eventWaiters = new Map<string, SimTask[]>();
  private readonly bufferedEvents = new Map<string, unknown[]>();
  actionsSettled = false;
  continueAsNew: { input: unknown } | undefined;

  private readonly actions: readonly ActionJson[];
  private readonly options: ShimOptions;

  constructor(actions: readonly ActionJson[], options: ShimOptions) {
    this.actions = actions;
    this.options = options;
  }

  get nextSequenceNumber(): number {
    return this.idCounter;
  }

  newWork(): ScheduledWork[] {
    return [...this.pending.values()].map((p) => p.work).sort((a, b) => a.id - b.id);
  }

  process(event: HistoryEvent): void {
    switch (event.EventType) {
      case EventType.OrchestratorStarted: {
        const at = new Date(event.Timestamp);
        if (at > this.now) this.now = at;
        return;
      }
      case EventType.ExecutionStarted:
        this.runActions(0);
        return;
      case EventType.TaskScheduled:
      case EventType.TimerCreated:
      case EventType.SubOrchestrationInstanceCreated:
        this.matchRecorded(event);
        return;
      case EventType.TaskCompleted:
      case EventType.SubOrchestrationInstanceCompleted:
        this.complete(event.TaskScheduledId, { ok: true, value: event.Result ?? null });
        return;
      case EventType.TaskFailed:
      case EventType.SubOrchestrationInstanceFailed:
        this.complete(event.TaskScheduledId, { ok: false, error: event.Reason ?? "" });
        return;
      case EventType.TimerFired:
        this.complete(event.TimerId, { ok: true, value: undefined });
        return;
      case EventType.EventRaised:
        this.raise(event.Name ?? "", event.Input ?? null);
        return;
      default:
        return;
    }
  }

  private matchRecorded(event: HistoryEvent): void {
    const kind = kindOfEvent[event.EventType] ?? "activity";
    const id = event.EventId;
    const pending = this.pending.get(id);
    const recordedName = kind === "timer" ? "" : (event.Name ?? "");
    if (!pending) {
      throw new ShimFailure(
        `Non-Deterministic workflow detected: A previous execution of this orchestration scheduled ${kindDescription[kind]} ` +
          `with sequence ID ${id}${recordedName ? ` and name '${recordedName}'` : ""}, but the current replay execution ` +
          `hasn't (yet?) scheduled this task. Was a change made to the orchestrator code after this instance had already started running?`,
      );
    }
    const work = pending.work;
    const currentName = work.kind === "timer" ? "" : work.name;
    if (work.kind !== kind || currentName.toLowerCase() !== recordedName.toLowerCase()) {
      throw new ShimFailure(
        `Non-Deterministic workflow detected: A previous execution of this orchestration scheduled ${kindDescription[kind]} ` +
          `with sequence ID ${id}${recordedName ? ` and name '${recordedName}'` : ""}, but the current replay execution ` +
          `instead scheduled ${kindDescription[work.kind]}${currentName ? ` named '${currentName}'` : ""} with that ID. ` +
          `Was a change made to the orchestrator code after this instance had already started running?`,
      );
    }
    this.pending.delete(id);
  }

  private complete(id: number | undefined, settlement: Settlement): void {
    if (id === undefined) return;
    const task = this.openTasks.get(id);
    // DTFx logs and ignores a completion it has no open task for (a duplicate delivery).
    if (!task) return;
    this.openTasks.delete(id);
    task.settle(settlement);
  }

  private raise(name: string, input: unknown): void {
    const key = name.toLowerCase();
    const waiters = this.eventWaiters.get(key);
    const waiter = waiters?.shift();
    if (waiter) {
      waiter.settle({ ok: true, value: input });
      return;
    }
    const buffer = this.bufferedEvents.get(key) ?? [];
    buffer.push(input);
    this.bufferedEvents.set(key, buffer);
  }

  /** The extension's `foreach (action) { try { await Invoke(action) } catch {} }`. */
  private runActions(from: number): void {
    for (let index = from; index < this.actions.length; index++) {
      const action = this.actions[index] as ActionJson;
      const task = this.invoke(action);
      if (!task.settled) {
        task.then(() => this.runActions(index + 1));
        return;
      }
    }
    this.actionsSettled = true;
  }

  private allocate(work: (id: number) => ScheduledWork): SimTask {
    const id = this.idCounter++;
    const task = new SimTask();
    this.openTasks.set(id, task);
    this.pending.set(id, { work: work(id) });
    return task;
  }

  private requireFunction(name: string, triggerType: string, what: string): string {
    const found = this.options.lookupFunction(name);
    if (!found || found.triggerType !== triggerType) {
      throw new ShimFailure(
        `The function '${name}' doesn't exist, is disabled, or is not ${what} function. ` +
          `Additional info: the app registers no ${triggerType} named '${name}'.`,
      );
    }
    return found.name;
  }

  private invoke(action: ActionJson): SimTask {
    switch (action.actionType) {
      case ActionType.CallActivity:
        return this.scheduleActivity(action);
      case ActionType.CallActivityWithRetry:
        return this.withRetry(action, () => this.scheduleActivity(action));
      case ActionType.CallSubOrchestrator:
        return this.scheduleSubOrchestration(action);
      case ActionType.CallSubOrchestratorWithRetry:
        return this.withRetry(action, () => this.scheduleSubOrchestration(action));
      case ActionType.ContinueAsNew:
        this.continueAsNew = { input: action.input };
        return SimTask.done();
      case ActionType.CreateTimer:
        return this.createTimer(action);
      case ActionType.WaitForExternalEvent:
        return this.waitForEvent(action.externalEventName ?? "");
      case ActionType.WhenAll:
        return whenAll((action.compoundActions ?? []).map((child) => this.invoke(child)));
      case ActionType.WhenAny:
        return whenAny((action.compoundActions ?? []).map((child) => this.invoke(child)));
      case ActionType.CallHttp:
        return this.callHttp(action.httpRequest);
      default:
        throw new ShimFailure(
          `Action type ${action.actionType} (entities and entity locks) is not supported by the local runtime.`,
        );
    }
  }

  private scheduleActivity(action: ActionJson): SimTask {
    const name = this.requireFunction(action.functionName ?? "", "activityTrigger", "an activity");
    return this.allocate((id) => ({ kind: "activity", id, name, input: action.input }));
  }

  /**
   * The extension's `CallHttpAsync`: the request runs as the built-in HTTP activity; while the
   * answer is 202 with a Location (and polling is on), a timer (Retry-After, or the default) and
   * a GET of the Location follow, each with its own id.
   */
  private callHttp(request: DurableHttpRequestJson | undefined): SimTask {
    if (!request) throw new ShimFailure("A callHttp action carries no request.");
    const outer = new SimTask();
    const send = (current: DurableHttpRequestJson): void => {
      this.allocate((id) => ({
        kind: "activity",
        id,
        name: builtInHttpActivity,
        input: current,
      })).then((result) => {
        const response = result.ok ? parseHttpResponse(result.value) : undefined;
        const location = response ? headerOf(response.headers, "Location") : undefined;
        if (
          !response ||
          response.statusCode !== 202 ||
          request.asynchronousPatternEnabled === false ||
          !location
        ) {
          outer.settle(result);
          return;
        }
        const retryAfter = Number(headerOf(response.headers, "Retry-After"));
        const delayMs =
          Number.isFinite(retryAfter) && retryAfter > 0
            ? retryAfter * 1000
            : (this.options.defaultHttpPollingMs ?? 30_000);
        this.timer(new Date(this.now.getTime() + delayMs)).then(() =>
          send({
            method: "GET",
            uri: new URL(location, current.uri).href,
            ...(request.headers ? { headers: request.headers } : {}),
            ...(request.tokenSource !== undefined ? { tokenSource: request.tokenSource } : {}),
            asynchronousPatternEnabled: true,
          }),
        );
      });
    };
    send(request);
    return outer;
  }

  private scheduleSubOrchestration(action: ActionJson): SimTask {
    const name = this.requireFunction(
      action.functionName ?? "",
      "orchestrationTrigger",
      "an orchestrator",
    );
    return this.allocate((id) => ({
      kind: "subOrchestration",
      id,
      name,
      instanceId: action.instanceId || `${this.options.executionId}:${id}`,
      input: action.input,
    }));
  }

  private timer(fireAt: Date): SimTask {
    return this.allocate((id) => ({ kind: "timer", id, fireAt }));
  }

  /** One timer, or a chain of slices when it is further away than the longest allowed timer. */
  private createTimer(action: ActionJson): SimTask {
    const finalFireAt = new Date(action.fireAt ?? this.now.toISOString());
    const isLong = finalFireAt.getTime() - this.now.getTime() > this.options.maximumShortTimerMs;
    const nextSlice = (): Date =>
      finalFireAt.getTime() - this.now.getTime() > this.options.maximumShortTimerMs
        ? new Date(this.now.getTime() + this.options.longRunningTimerIntervalMs)
        : finalFireAt;
    if (!isLong) {
      const task = this.timer(finalFireAt);
      return action.isCanceled ? SimTask.done() : task;
    }
    const outer = new SimTask();
    const step = (): void => {
      this.timer(nextSlice()).then(() => {
        if (finalFireAt > this.now) step();
        else outer.settle({ ok: true, value: undefined });
      });
    };
    step();
    return action.isCanceled ? SimTask.done() : outer;
  }

  private waitForEvent(name: string): SimTask {
    const key = name.toLowerCase();
    const buffer = this.bufferedEvents.get(key);
    if (buffer && buffer.length > 0) return SimTask.done(buffer.shift());
    const task = new SimTask();
    const waiters = this.eventWaiters.get(key) ?? [];
    waiters.push(task);
    this.eventWaiters.set(key, waiters);
    return task;
  }

  /** DTFx `RetryInterceptor`: each attempt and each back-off timer gets its own sequence id. */
  private withRetry(action: ActionJson, attempt: () => SimTask): SimTask {
    const options = action.retryOptions;
    const maxAttempts = options?.maxNumberOfAttempts ?? 1;
    const firstRetryMs = options?.firstRetryIntervalInMilliseconds ?? 0;
    const backoff = options?.backoffCoefficient ?? 1;
    const maxIntervalMs = options?.maxRetryIntervalInMilliseconds ?? Number.POSITIVE_INFINITY;
    const timeoutMs = options?.retryTimeoutInMilliseconds ?? Number.POSITIVE_INFINITY;
    const firstAttemptAt = this.now.getTime();
    const outer = new SimTask();
    const run = (retryCount: number): void => {
      if (retryCount >= maxAttempts) {
        outer.settle({ ok: false, error: "no attempts" });
        return;
      }
      attempt().then((result) => {
        if (result.ok) {
          outer.settle(result);
          return;
        }
        if (retryCount + 1 === maxAttempts) {
          // DTFx keeps a timer that fires at once after the last attempt, for back-compat.
          this.timer(this.now).then(() => outer.settle(result));
          return;
        }
        const delayMs =
          this.now.getTime() < firstAttemptAt + timeoutMs
            ? Math.min(firstRetryMs * Math.pow(backoff, retryCount), maxIntervalMs)
            : 0;
        if (delayMs <= 0) {
          // As in production, no timer is created: the orchestrator keeps waiting for one.
          outer.settle(result);
          return;
        }
        this.timer(new Date(this.now.getTime() + delayMs)).then(() => run(retryCount + 1));
      });
    };
    run(0);
    return outer;
  }
}

/** `TaskCompleted.Result` of the built-in HTTP activity (`DurableHttpResponse`). */
interface HttpResponseJson {
  readonly statusCode: number;
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
}

function parseHttpResponse(result: unknown): HttpResponseJson | undefined {
  if (typeof result !== "string") return undefined;
  try {
    const parsed = JSON.parse(result) as unknown;
    return parsed && typeof parsed === "object" && "statusCode" in parsed
      ? (parsed as HttpResponseJson)
      : undefined;
  } catch {
    return undefined;
  }
}

function headerOf(headers: HttpResponseJson["headers"], name: string): string | undefined {
  const key = Object.keys(headers ?? {}).find((k) => k.toLowerCase() === name.toLowerCase());
  const value = key === undefined ? undefined : headers?.[key];
  return Array.isArray(value) ? value[0] : (value as string | undefined);
}

function whenAll(children: readonly SimTask[]): SimTask {
  const outer = new SimTask();
  let remaining = children.length;
  if (remaining === 0) return SimTask.done([]);
  for (const child of children) {
    child.then(() => {
      remaining--;
      if (remaining === 0) outer.settle({ ok: true, value: undefined });
    });
  }
  return outer;
}

function whenAny(children: readonly SimTask[]): SimTask {
  const outer = new SimTask();
  for (const child of children) child.then(() => outer.settle({ ok: true, value: child }));
  if (children.length === 0) outer.settle({ ok: true, value: undefined });
  return outer;
}

/**
 * Replays one episode the way the extension does.
 *
 * @param history the execution's full history: past events followed by this episode's new ones.
 * @param actions `actions[0]` of the orchestrator's state (schema V2 and later).
 */
export function replayEpisode(
  history: readonly HistoryEvent[],
  actions: readonly ActionJson[],
  options: ShimOptions,
): ShimOutcome {
  const context = new ShimContext(actions, options);
  try {
    for (const event of history) context.process(event);
  } catch (error) {
    if (error instanceof ShimFailure) {
      return {
        scheduled: [],
        actionsSettled: true,
        nextSequenceNumber: context.nextSequenceNumber,
        fatalError: error.message,
      };
    }
    throw error;
  }
  return {
    scheduled: context.newWork(),
    actionsSettled: context.actionsSettled,
    nextSequenceNumber: context.nextSequenceNumber,
    ...(context.continueAsNew ? { continueAsNew: context.continueAsNew } : {}),
  };
}
