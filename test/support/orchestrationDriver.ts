import { createHash } from "node:crypto";
import type { OrchestrationContext } from "durable-functions";

/** One thing an orchestrator asked for. */
export type Scheduled =
  | {
      readonly kind: "activity";
      readonly name: string;
      readonly input: unknown;
      readonly retried: boolean;
    }
  | { readonly kind: "timer"; readonly fireAt: Date; canceled?: boolean; cancel?: () => void }
  | {
      readonly kind: "subOrchestration";
      readonly name: string;
      readonly input: unknown;
      readonly instanceId?: string;
    }
  | { readonly kind: "all"; readonly tasks: readonly Scheduled[] }
  | { readonly kind: "any"; readonly tasks: readonly Scheduled[] };

/** What a responder returns for work that never ends (an activity or a child that hangs). */
export const hangs: unique symbol = Symbol("hangs");

/** Answers an activity call: return a value (or {@link hangs}), or throw to fail it. */
export type ActivityResponder = (input: unknown, callIndex: number) => unknown;

/** What a driven orchestration did. */
export interface DrivenOrchestration<T> {
  readonly output: T;
  readonly scheduled: readonly Scheduled[];
  readonly customStatuses: readonly unknown[];
  /** The orchestration's clock when it returned. */
  readonly finishedAt: Date;
  /** What it logged through its invocation log, `<level>: <line>`, in order. */
  readonly logs: readonly string[];
}

function guidFrom(seed: string): string {
  const hex = createHash("sha1").update(seed).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Drives an orchestrator generator by hand with a fake `context.df`: activities answer through
 * responders, timers move the orchestration's clock to when they fire. Unit tests assert the
 * sequence of scheduled work and the output without the replay machinery.
 */
export function driveOrchestration<T>(
  orchestrator: (context: OrchestrationContext) => Generator<unknown, T, unknown>,
  input: unknown,
  responders: Readonly<Record<string, ActivityResponder>>,
  options: { start?: Date; instanceId?: string } = {},
): DrivenOrchestration<T> {
  let now = options.start ?? new Date("2026-11-24T08:00:00Z");
  const scheduled: Scheduled[] = [];
  const customStatuses: unknown[] = [];
  const calls = new Map<string, number>();
  const instanceId = options.instanceId ?? "test-instance";
  const df = {
    instanceId,
    isReplaying: false,
    get currentUtcDateTime() {
      return now;
    },
    getInput: () => input,
    setCustomStatus: (status: unknown) => customStatuses.push(structuredClone(status)),
    newGuid: (seed: string) => guidFrom(`${instanceId}:${seed}`),
    callActivity: (name: string, activityInput?: unknown): Scheduled => ({
      kind: "activity",
      name,
      input: activityInput,
      retried: false,
    }),
    callActivityWithRetry: (name: string, _retry: unknown, activityInput?: unknown): Scheduled => ({
      kind: "activity",
      name,
      input: activityInput,
      retried: true,
    }),
    callSubOrchestrator: (name: string, subInput?: unknown, subInstanceId?: string): Scheduled => ({
      kind: "subOrchestration",
      name,
      input: subInput,
      ...(subInstanceId ? { instanceId: subInstanceId } : {}),
    }),
    createTimer: (fireAt: Date): Scheduled => {
      const timer: Scheduled = { kind: "timer", fireAt };
      timer.cancel = () => {
        if (settled.has(timer)) throw new Error("Cannot cancel a completed task.");
        timer.canceled = true;
      };
      return timer;
    },
    Task: {
      all: (tasks: Scheduled[]): Scheduled => ({ kind: "all", tasks }),
      any: (tasks: Scheduled[]): Scheduled => ({ kind: "any", tasks }),
    },
  };
  // Its invocation log, as an orchestration's context has one (it extends InvocationContext).
  const logs: string[] = [];
  const logAt = (level: string) => (line: string) => logs.push(`${level}: ${line}`);
  const log = {
    log: logAt("information"),
    info: logAt("information"),
    trace: logAt("trace"),
    debug: logAt("debug"),
    warn: logAt("warning"),
    error: logAt("error"),
  };
  const context = {
    df,
    invocationId: "test-invocation",
    ...log,
  } as unknown as OrchestrationContext;

  // As durable-functions' tasks do, each task shows how it ended (`isCompleted`, `isFaulted`,
  // `result`), and waiting on it again answers that without scheduling anything. Work whose
  // responder answers `hangs` never ends: it stays neither completed nor faulted.
  type Outcome = { value?: unknown; error?: unknown; pending?: true };
  const settled = new WeakMap<Scheduled, Outcome>();
  const hanging = new WeakSet<Scheduled>();
  const resolve = (task: Scheduled): Outcome => {
    const known = settled.get(task);
    if (known) return known;
    if (hanging.has(task)) return { pending: true };
    const outcome = settle(task);
    if (outcome.pending) {
      hanging.add(task);
      return outcome;
    }
    settled.set(task, outcome);
    Object.assign(task, {
      isCompleted: outcome.error === undefined,
      isFaulted: outcome.error !== undefined,
      result: outcome.error ?? outcome.value,
    });
    return outcome;
  };
  const settle = (task: Scheduled): Outcome => {
    scheduled.push(task);
    switch (task.kind) {
      case "timer":
        if (task.fireAt.getTime() > now.getTime()) now = task.fireAt;
        return { value: undefined };
      case "activity":
      case "subOrchestration": {
        const responder = responders[task.name];
        if (!responder) throw new Error(`no responder for ${task.kind} ${task.name}`);
        const index = calls.get(task.name) ?? 0;
        calls.set(task.name, index + 1);
        try {
          const value = responder(task.input, index);
          return value === hangs ? { pending: true } : { value };
        } catch (error) {
          return { error };
        }
      }
      case "all": {
        const results = task.tasks.map(resolve);
        if (results.some((r) => r.pending)) throw new Error("Task.all waits for work that hangs");
        const failed = results.find((r) => r.error !== undefined);
        return failed ? { error: failed.error } : { value: results.map((r) => r.value) };
      }
      case "any": {
        // Work ends at once unless it hangs; a timer fires only when everything else hangs.
        for (const child of task.tasks) {
          if (child.kind !== "timer" && !resolve(child).pending) return { value: child };
        }
        const timer = task.tasks.find((child) => child.kind === "timer");
        if (!timer) throw new Error("Task.any waits only for work that hangs");
        resolve(timer);
        return { value: timer };
      }
    }
  };

  const generator = orchestrator(context);
  let step = generator.next(undefined);
  while (!step.done) {
    const result = resolve(step.value as Scheduled);
    if (result.pending) throw new Error("the orchestration waits forever for work that hangs");
    step =
      result.error !== undefined ? generator.throw(result.error) : generator.next(result.value);
  }
  return { output: step.value, scheduled, customStatuses, finishedAt: now, logs };
}

/** The names of the activities scheduled, in order (inside fan-outs too). */
export function activityCalls(scheduled: readonly Scheduled[]): string[] {
  return scheduled.flatMap((task) =>
    task.kind === "activity"
      ? [task.name]
      : task.kind === "all" || task.kind === "any"
        ? activityCalls(task.tasks)
        : [],
  );
}
