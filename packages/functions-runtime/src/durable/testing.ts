/**
 * `@pgprotect/functions-runtime/durable/testing`: runs an orchestrator the way the runtime's
 * Durable engine does, in memory, for an app's unit tests: each episode runs the real
 * durable-functions `Orchestrator` over the full history, then the extension's shim (`shim.ts`)
 * decides what is new. Activities and sub-orchestrations are answered by the test.
 *
 * @remarks Needs `durable-functions` (an optional peer dependency) installed next to the app.
 */
import { createRequire } from "node:module";
import type * as df from "durable-functions";
import { events, type HistoryEvent } from "./history.js";
import {
  activityInputTypedData,
  extractOutOfProcState,
  failureDetails,
  taskScheduledInput,
} from "./payload.js";
import { replayEpisode, type ActionJson, type ScheduledWork, type ShimOptions } from "./shim.js";

// The library's own test helpers: its real Orchestrator, with a stand-in invocation context.
const require = createRequire(import.meta.url);

/** durable-functions' own testing helpers. */
const testing = require("durable-functions/lib/src/util/testingUtils.js") as {
  createOrchestrator: (
    fn: df.OrchestrationHandler,
  ) => (binding: unknown, context: unknown) => Promise<unknown>;
  DummyOrchestrationContext: new () => unknown;
};

const day = 86_400_000;

/** When the driven orchestrations start. */
export const replayStart = Date.UTC(2030, 0, 1);

/** What the library's Orchestrator answers for an episode. */
export interface OrchestratorState {
  isDone: boolean;
  actions: ActionJson[][];
  output?: unknown;
  error?: string;
}

/**
 * How an activity or a sub-orchestration ends; `pending` never ends (a child that hangs): its
 * completion is never delivered.
 */
export type WorkOutcome =
  { ok: true; value: unknown } | { ok: false; message: string } | { pending: true };

/** How the driven orchestration ended. */
export interface DriveResult {
  readonly output?: unknown;
  readonly error?: string;
  readonly history: HistoryEvent[];
  readonly episodes: number;
}

/** What {@link driveOrchestrator} is given. */
export interface DriveOptions {
  /** The shim's options; `lookupFunction` names the app's functions. */
  readonly shim?: Partial<ShimOptions>;
  /** The orchestration's input. */
  readonly input?: unknown;
  readonly activity: (name: string, input: unknown) => WorkOutcome;
  /** Answers a sub-orchestration by its name, instance id and input. */
  readonly child?: (name: string, instanceId: string, input: unknown) => WorkOutcome;
  /**
   * How many outstanding completions each episode delivers, oldest first; "newest-first" delivers
   * them all in reverse order of scheduling.
   */
  readonly batch: number | "all" | "newest-first";
  /** External events raised after an episode. */
  readonly raised?: Array<{ afterEpisode: number; name: string; value: unknown }>;
}

/**
 * One episode of the real durable-functions Orchestrator over a history, with the binding the
 * extension sends.
 */
export async function orchestratorEpisode(
  fn: df.OrchestrationHandler,
  history: readonly HistoryEvent[],
  input: unknown,
  isReplaying: boolean,
): Promise<OrchestratorState> {
  const binding = {
    history,
    input,
    instanceId: "i1",
    isReplaying,
    parentInstanceId: null,
    upperSchemaVersion: 1,
    upperSchemaVersionNew: 2,
    longRunningTimerIntervalDuration: "3.00:00:00",
    maximumShortTimerDuration: "6.00:00:00",
    defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
  };
  try {
    return JSON.parse(
      JSON.stringify(
        await testing.createOrchestrator(fn)(binding, new testing.DummyOrchestrationContext()),
      ),
    ) as OrchestratorState;
  } catch (error) {
    return extractOutOfProcState((error as Error).message) as OrchestratorState;
  }
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Runs an orchestrator to its end; see the module comment. */
export async function driveOrchestrator(
  fn: df.OrchestrationHandler,
  options: DriveOptions,
): Promise<DriveResult> {
  const shim: ShimOptions = {
    executionId: "exec1",
    maximumShortTimerMs: 6 * day,
    longRunningTimerIntervalMs: 3 * day,
    lookupFunction: () => undefined,
    ...options.shim,
  };
  const { batch, raised = [] } = options;
  const input = options.input === undefined ? null : JSON.stringify(options.input);
  const history: HistoryEvent[] = [];
  let now = replayStart;
  let outstanding: ScheduledWork[] = [];
  let incoming: HistoryEvent[] = [
    events.executionStarted(new Date(now), {
      name: "test",
      instanceId: "i1",
      executionId: "exec1",
      input,
      parent: null,
    }),
  ];
  for (let episode = 1; episode < 200; episode++) {
    const past = history.map((e) => ({ ...e, IsPlayed: true }));
    const newEvents = [events.orchestratorStarted(new Date(now)), ...incoming];
    const full = [...past, ...newEvents];
    const state = await orchestratorEpisode(fn, full, options.input ?? null, past.length > 0);
    const outcome = replayEpisode(full, state.actions[0] ?? [], shim);
    history.push(...newEvents);
    for (const work of outcome.scheduled) {
      history.push(
        work.kind === "activity"
          ? events.taskScheduled(new Date(now), work.id, work.name, taskScheduledInput(work.input))
          : work.kind === "timer"
            ? events.timerCreated(new Date(now), work.id, work.fireAt)
            : events.subOrchestrationCreated(
                new Date(now),
                work.id,
                work.name,
                work.instanceId,
                work.input === undefined ? null : JSON.stringify(work.input),
              ),
      );
    }
    if (outcome.fatalError !== undefined)
      return { error: outcome.fatalError, history, episodes: episode };
    if (outcome.actionsSettled && (state.isDone || state.error !== undefined)) {
      return {
        output: state.output,
        ...(state.error !== undefined ? { error: state.error } : {}),
        history,
        episodes: episode,
      };
    }
    history.push(events.orchestratorCompleted(new Date(now)));
    outstanding = [...outstanding, ...outcome.scheduled];
    const answer = (work: ScheduledWork): HistoryEvent[] => {
      if (work.kind === "timer") {
        now = Math.max(now, work.fireAt.getTime());
        return [events.timerFired(new Date(now), work.id, work.fireAt.toISOString())];
      }
      if (work.kind === "activity") {
        const typed = activityInputTypedData(taskScheduledInput(work.input));
        const activityInput = typed.string === undefined ? undefined : tryParse(typed.string);
        const result = options.activity(work.name, activityInput);
        if ("pending" in result) return [];
        return [
          result.ok
            ? events.taskCompleted(new Date(now), work.id, JSON.stringify(result.value))
            : events.taskFailed(
                new Date(now),
                work.id,
                `Activity function '${work.name}' failed: ${result.message}`,
                "{}",
              ),
        ];
      }
      if (!options.child) throw new Error(`no answer for the sub-orchestration ${work.name}`);
      const result = options.child(work.name, work.instanceId, work.input);
      if ("pending" in result) return [];
      return [
        result.ok
          ? events.subOrchestrationCompleted(new Date(now), work.id, JSON.stringify(result.value))
          : events.subOrchestrationFailed(
              new Date(now),
              work.id,
              result.message,
              failureDetails(new Error(result.message)),
            ),
      ];
    };
    // Timers wait while an external event is still to come, so the event can win the race.
    const eventsToCome = raised.some((r) => r.afterEpisode >= episode);
    // A work that never ends (`pending`) is answered and dropped; the next is delivered instead.
    incoming = [];
    for (;;) {
      const deliverable = outstanding.filter((w) => !(eventsToCome && w.kind === "timer"));
      if (deliverable.length === 0) break;
      const take =
        typeof batch === "number" ? Math.min(batch, deliverable.length) : deliverable.length;
      const delivered =
        batch === "newest-first"
          ? deliverable.slice(0, take).reverse()
          : deliverable.slice(0, take);
      outstanding = outstanding.filter((w) => !delivered.includes(w));
      incoming = delivered.flatMap(answer);
      if (incoming.length > 0) break;
    }
    incoming.push(
      ...raised
        .filter((r) => r.afterEpisode === episode)
        .map((r) => events.eventRaised(new Date(now), r.name, JSON.stringify(r.value))),
    );
    if (incoming.length === 0)
      throw new Error(`the orchestration is stuck after episode ${episode}`);
  }
  throw new Error("too many episodes");
}

export { EventType, events, type HistoryEvent } from "./history.js";
export type { ActionJson, ScheduledWork, ShimOptions } from "./shim.js";
