/**
 * Invoking the app's orchestrator functions through the worker, as the extension does: the
 * orchestration trigger's binding JSON in, durable-functions' `OrchestratorState` out.
 */
import { RuntimeError, isRuntimeError } from "../errors.js";
import type { FunctionInvoker, RegisteredFunction } from "../contracts.js";
import type { HistoryEvent } from "./history.js";
import {
  extractOutOfProcState,
  messageOf,
  orchestrationTriggerJson,
  toTimeSpan,
} from "./payload.js";
import type { ActionJson } from "./shim.js";
import type { InstanceRow } from "./store.js";

/** The orchestrator state durable-functions returns (`OrchestratorState`). */
export interface OrchestratorStateJson {
  readonly isDone?: boolean;
  readonly actions?: readonly (readonly ActionJson[])[];
  readonly output?: unknown;
  readonly error?: string;
  readonly customStatus?: unknown;
}

/** Wait between polls of a `callHttp` 202 answer without Retry-After (the extension's default). */
export const defaultHttpPollingMs = 30_000;

/** The timer lengths the orchestrator is told about (the Azure Storage backend's by default). */
export interface TimerDurations {
  readonly maximumShortTimerMs: number;
  readonly longRunningTimerIntervalMs: number;
}

/** An invocation that failed for reasons outside the function (the worker exited). */
export function isTransient(error: unknown): boolean {
  return isRuntimeError(error) && error.retryable;
}

/** The name of the function's binding of this type (binding names are hashes). */
export function bindingNameOf(fn: RegisteredFunction, type: string): string {
  for (const [name, binding] of Object.entries(fn.bindings)) {
    if (binding.type === type) return name;
  }
  throw new RuntimeError(
    "DURABLE_BINDING_MISSING",
    `Function '${fn.name}' has no ${type} binding.`,
  );
}

/**
 * Runs one orchestrator episode in the worker. A failure of the orchestrator comes back as state
 * with an `error`; a transient failure (the worker is gone) is thrown, so the episode waits.
 */
export async function invokeOrchestrator(
  invoker: FunctionInvoker,
  timers: TimerDurations,
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
    longRunningTimerIntervalDuration: toTimeSpan(timers.longRunningTimerIntervalMs),
    maximumShortTimerDuration: toTimeSpan(timers.maximumShortTimerMs),
    defaultHttpAsyncRequestSleepTimeMillseconds: defaultHttpPollingMs,
  };
  try {
    const result = await invoker.invoke(fn.name, {
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
