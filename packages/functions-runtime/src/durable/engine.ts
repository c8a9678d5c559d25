/**
 * The Durable engine: a single orchestration dispatcher that runs episodes (one orchestrator
 * invocation over the full history plus every message that arrived), an activity dispatcher
 * (`activities.ts`), and timers as delayed messages (`scheduledWork.ts`). All state lives in the
 * {@link DurableStore}; each kind of episode ends in one commit (`episodeCommits.ts`), and the
 * commits of episodes that end together are written in one transaction (`groupCommit.ts`).
 *
 * @remarks Activities are at-least-once: an activity that ran but whose result was not yet
 * committed when the process died runs again after a restart. Episodes are exactly-once in
 * effect: each commits atomically, and a killed episode simply replays.
 */
import { RuntimeError, InvalidInputError, NotFoundError } from "../errors.js";
import type { FunctionInvoker, RegisteredFunction } from "../contracts.js";
import { ActivityDispatcher } from "./activities.js";
import type { DurableClock } from "./clock.js";
import {
  continueAsNewCommit,
  decisionCommit,
  discardCommit,
  engineFailureCommit,
  suspendOrResumeCommit,
  terminatedCommit,
  type EpisodeEnd,
} from "./episodeCommits.js";
import { GroupCommitter } from "./groupCommit.js";
import { EventType, events, type HistoryEvent } from "./history.js";
import { instanceIdProblem, newExecutionId, newInstanceRow, startMessage } from "./instances.js";
import { defaultHttpPollingMs, invokeOrchestrator, isTransient } from "./invocation.js";
import { messageOf } from "./payload.js";
import { replayEpisode, type ScheduledWork } from "./shim.js";
import {
  terminalStatuses,
  type DurableStore,
  type EpisodeCommit,
  type InstanceRow,
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

const day = 86_400_000;

/**
 * Episodes of different instances that may wait on the worker at the same time. Many at once
 * keep the worker busy while the host commits, and make the groups of the group commit larger.
 */
const maxConcurrentEpisodes = 64;
/** How long to wait before retrying work that failed because the worker was unavailable. */
const transientRetryMs = 1000;

/** Runs orchestrations and activities of one task hub. */
export class DurableEngine {
  private readonly clock: DurableClock;
  private readonly store: DurableStore;
  private readonly maximumShortTimerMs: number;
  private readonly longRunningTimerIntervalMs: number;
  private stopped = true;
  private drainScheduled = false;
  private draining: Promise<void> | undefined;
  private drainAgain = false;
  private cancelWakeUp: (() => void) | undefined;
  private readonly activities: ActivityDispatcher;
  private readonly committer: GroupCommitter;
  /**
   * Whether the dispatcher must look at the messages table as a whole: at start, when a timer may
   * have come due, after the worker was unavailable. Otherwise the store names the instances
   * that received messages.
   */
  private rescan = true;
  private readonly idle = new Set<() => void>();
  private readonly retryHandles = new Set<NodeJS.Timeout>();

  private readonly options: DurableEngineOptions;

  constructor(options: DurableEngineOptions) {
    this.options = options;
    this.clock = options.clock;
    this.store = options.store;
    this.maximumShortTimerMs = options.maximumShortTimerMs ?? 6 * day;
    this.longRunningTimerIntervalMs = options.longRunningTimerIntervalMs ?? 3 * day;
    this.committer = new GroupCommitter({
      store: options.store,
      log: options.log,
      retrySoon: (action) => this.retrySoon(action),
      onCompletionsRecorded: () => {
        this.scheduleDrain();
        this.notifyIdle();
      },
    });
    this.activities = new ActivityDispatcher({
      invoker: options.invoker,
      committer: this.committer,
      clock: options.clock,
      log: options.log,
      maxConcurrent: options.maxConcurrentActivities ?? 16,
      findActivity: (name) => this.findFunction(name, "activityTrigger"),
      isStopped: () => this.stopped,
      retrySoon: (action) => this.retrySoon(action),
      onSettled: () => this.notifyIdle(),
    });
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
    this.activities.enqueue(queued);
    this.rescan = true;
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
    this.activities.clearQueue();
    await this.draining;
    this.activities.close();
    this.committer.close();
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
    const id = instanceId ?? newExecutionId();
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
    const row = newInstanceRow(this.clock, fn.name, id, inputJson, null);
    this.store.createInstance(row, startMessage(this.clock, row));
    this.scheduleDrain();
    return row;
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
      this.activities.isIdle &&
      this.committer.isIdle &&
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
   *
   * @remarks Work is found from the instances the store says received messages since the last
   * look, plus a scan of the messages table when {@link rescan} asks for one, every
   * `maxConcurrentEpisodes` episodes (timers that came due, messages left by an earlier process)
   * and before the drain ends: scanning after every episode cost more than the episode itself.
   */
  private async drain(): Promise<void> {
    const inFlight = new Map<string, Promise<void>>();
    /** Instances that may have visible messages, in the order they got them. */
    const candidates = new Set<string>();
    let startedSinceScan = 0;
    let postponed = false;
    const scan = (): void => {
      this.rescan = false;
      startedSinceScan = 0;
      const limit = 2 * maxConcurrentEpisodes + inFlight.size;
      for (const id of this.store.readyInstanceIds(this.clock.now(), limit)) candidates.add(id);
    };
    for (;;) {
      this.drainAgain = false;
      if (this.stopped || postponed) break;
      for (const id of this.store.takeNotified()) candidates.add(id);
      if (this.rescan || startedSinceScan >= maxConcurrentEpisodes) scan();
      for (const instanceId of candidates) {
        if (inFlight.size >= maxConcurrentEpisodes) break;
        // Its messages that came during the episode wait for the next one.
        if (inFlight.has(instanceId)) continue;
        candidates.delete(instanceId);
        startedSinceScan += 1;
        const episode = this.runEpisodeSafely(instanceId).then((outcome) => {
          inFlight.delete(instanceId);
          if (outcome === "postponed") postponed = true;
        });
        inFlight.set(instanceId, episode);
      }
      if (inFlight.size === 0) {
        // Nothing known to run: the messages table decides whether the drain is over.
        scan();
        for (const id of this.store.takeNotified()) candidates.add(id);
        if (candidates.size === 0) break;
        continue;
      }
      await Promise.race(inFlight.values());
    }
    await Promise.all(inFlight.values());
    // The worker is gone or restarting: the messages stay, and the engine tries again shortly.
    if (postponed) {
      this.retrySoon(() => {
        this.rescan = true;
        this.scheduleDrain();
      });
    }
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
      try {
        await this.failInstanceAfterEngineError(instanceId, error);
      } catch (failure) {
        // The store itself failed; the messages stay and the episode runs again later.
        this.options.log(
          `durable: the failure of '${instanceId}' could not be recorded: ${messageOf(failure)}`,
        );
      }
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
    if (next !== undefined) {
      this.cancelWakeUp = this.clock.wakeAt(next, () => {
        this.rescan = true;
        this.scheduleDrain();
      });
    }
  }

  private async failInstanceAfterEngineError(instanceId: string, error: unknown): Promise<void> {
    const instance = this.store.getInstance(instanceId);
    if (!instance) return;
    const now = new Date(this.clock.now());
    const ready = this.store.readyMessages(instanceId, now.getTime());
    await this.committer.commit(engineFailureCommit(instance, ready, now, error));
  }

  private async runEpisode(instanceId: string): Promise<void> {
    const startedAt = new Date(this.clock.now());
    const instance = this.store.getInstance(instanceId);
    const ready = this.store.readyMessages(
      instanceId,
      startedAt.getTime(),
      instance?.status === "Suspended",
    );
    // A candidate whose messages an earlier episode already took: nothing to do.
    if (ready.length === 0) return;
    const consumed = ready.map((m) => m.id);
    const discard = async (): Promise<void> => {
      await this.committer.commit(discardCommit(instanceId, instance, consumed, startedAt));
    };
    if (!instance || terminalStatuses.has(instance.status)) return discard();

    const relevant = ready.filter(
      (m) => m.executionId === null || m.executionId === instance.executionId,
    );
    // As stored (frozen, shared with the store's history cache): the shim does not look at
    // IsPlayed, and orchestrationTriggerJson marks them played for the worker.
    const past = this.store.getHistory(instanceId, instance);
    const startMessage = relevant.find((m) => m.event.EventType === EventType.ExecutionStarted);
    const others = relevant.filter((m) => m !== startMessage);
    const incoming: HistoryEvent[] = [
      ...(startMessage ? [startMessage.event] : []),
      ...others.map((m) => m.event),
    ].map((e) => ({ ...e, IsPlayed: false }));
    const terminateMessage = others.find(
      (m) => m.event.EventType === EventType.ExecutionTerminated,
    );
    if (terminateMessage) {
      await this.commit(
        terminatedCommit(instance, consumed, startedAt, startMessage, terminateMessage),
      );
      this.options.log(
        `durable: ${instance.name} (${instance.instanceId}) Terminated: ${terminateMessage.event.Input ?? ""}`,
      );
      return;
    }
    const control = others.find(
      (m) =>
        m.event.EventType === EventType.ExecutionSuspended ||
        m.event.EventType === EventType.ExecutionResumed,
    );
    if (control)
      return await this.commit(
        suspendOrResumeCommit(instance, control, startedAt, past.length > 0),
      );

    const executionStarted =
      past.find((e) => e.EventType === EventType.ExecutionStarted) ?? startMessage?.event;
    if (!executionStarted) return discard();
    if (incoming.length === 0) return discard();

    const newEvents = [events.orchestratorStarted(startedAt), ...incoming];
    const fullHistory = [...past, ...newEvents];
    const fn = this.findFunction(instance.name, "orchestrationTrigger");
    if (!fn) {
      return await this.finish(instance, consumed, startedAt, newEvents, [], {
        status: "Failed",
        message: `The function '${instance.name}' doesn't exist, is disabled, or is not an orchestrator function.`,
        nextSequenceNumber: 0,
        customStatus: instance.customStatus,
      });
    }

    const state = await invokeOrchestrator(
      this.options.invoker,
      {
        maximumShortTimerMs: this.maximumShortTimerMs,
        longRunningTimerIntervalMs: this.longRunningTimerIntervalMs,
      },
      fn,
      instance,
      executionStarted,
      past,
      newEvents,
    );
    const customStatus =
      state.customStatus === undefined ? null : JSON.stringify(state.customStatus);
    const actionGroups = state.actions ?? [[]];
    if (actionGroups.length !== 1) {
      return await this.finish(instance, consumed, startedAt, newEvents, [], {
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
      return await this.finish(instance, consumed, startedAt, newEvents, [], {
        status: "Failed",
        message: `Orchestrator function '${instance.name}' failed: ${outcome.fatalError}`,
        nextSequenceNumber: outcome.nextSequenceNumber,
        customStatus,
      });
    }
    if (outcome.actionsSettled && state.error !== undefined) {
      return await this.finish(instance, consumed, startedAt, newEvents, outcome.scheduled, {
        status: "Failed",
        message: `Orchestrator function '${instance.name}' failed: ${state.error}`,
        nextSequenceNumber: outcome.nextSequenceNumber,
        customStatus,
      });
    }
    if (outcome.actionsSettled && state.isDone) {
      if (outcome.continueAsNew) {
        return await this.commit(
          continueAsNewCommit(
            this.clock,
            instance,
            consumed,
            outcome.continueAsNew.input,
            customStatus,
          ),
        );
      }
      return await this.finish(instance, consumed, startedAt, newEvents, outcome.scheduled, {
        status: "Completed",
        output: state.output === undefined ? null : JSON.stringify(state.output),
        nextSequenceNumber: outcome.nextSequenceNumber,
        customStatus,
      });
    }
    return await this.finish(instance, consumed, startedAt, newEvents, outcome.scheduled, {
      status: "Running",
      nextSequenceNumber: outcome.nextSequenceNumber,
      customStatus,
    });
  }

  /** Commits an episode in which the orchestrator ran, and starts the activities it scheduled. */
  private finish(
    instance: InstanceRow,
    consumed: readonly number[],
    at: Date,
    newEvents: readonly HistoryEvent[],
    work: readonly ScheduledWork[],
    end: EpisodeEnd,
  ): Promise<void> {
    const commit = decisionCommit(this.clock, instance, consumed, at, newEvents, work, end, (id) =>
      this.store.getInstance(id),
    );
    if (end.status !== "Running") {
      this.options.log(
        `durable: ${instance.name} (${instance.instanceId}) ${end.status}${end.status === "Failed" ? `: ${end.message ?? ""}` : ""}`,
      );
    }
    return this.commit(commit);
  }

  /** Commits one episode (in the next group commit) and then starts the activities it scheduled. */
  private async commit(commit: EpisodeCommit): Promise<void> {
    this.activities.enqueue(await this.committer.commit(commit));
  }
}
