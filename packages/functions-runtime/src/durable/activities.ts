/**
 * The activity dispatcher: runs the activities episodes schedule, at most so many at a time, and
 * records their results in batches. The extension's built-in HTTP activity (`callHttp`) runs here
 * too, without the worker.
 *
 * @remarks At-least-once: a result is recorded by the engine's group commit (`groupCommit.ts`) on
 * the next turn of the event loop, together with the others that finished meanwhile and the
 * episodes that ended; an activity that ran but whose result was not recorded when the process
 * died (or the engine stopped) runs again at the next start.
 */
import type { FunctionInvoker, RegisteredFunction, RpcTypedData } from "../contracts.js";
import type { DurableClock } from "./clock.js";
import { events, type HistoryEvent } from "./history.js";
import { bindingNameOf, isTransient } from "./invocation.js";
import {
  activityInputTypedData,
  failureDetails,
  messageOf,
  resultFromReturnValue,
} from "./payload.js";
import { builtInHttpActivity, type DurableHttpRequestJson } from "./shim.js";
import type { GroupCommitter } from "./groupCommit.js";
import type { ActivityRow } from "./store.js";

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

/** What the dispatcher needs from the engine. */
export interface ActivityDispatcherOptions {
  readonly invoker: FunctionInvoker;
  /** Records results, together with episodes' commits. */
  readonly committer: GroupCommitter;
  readonly clock: DurableClock;
  readonly log: (line: string) => void;
  /** Activities run at the same time, at most. */
  readonly maxConcurrent: number;
  /** The app's activity function by name (case-insensitive). */
  readonly findActivity: (name: string) => RegisteredFunction | undefined;
  /** Whether the engine has stopped: nothing new starts. */
  readonly isStopped: () => boolean;
  /** Runs `action` shortly, unless the engine stops first (the worker was unavailable). */
  readonly retrySoon: (action: () => void) => void;
  /** An activity finished: the engine may have become idle. */
  readonly onSettled: () => void;
}

/** Runs activities and records their results. */
export class ActivityDispatcher {
  private readonly queue: ActivityRow[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  /** Set once the engine has stopped for good: the store may be closed. */
  private closed = false;

  private readonly options: ActivityDispatcherOptions;

  constructor(options: ActivityDispatcherOptions) {
    this.options = options;
  }

  /** Whether nothing is queued or running (results waiting to be recorded are the committer's). */
  get isIdle(): boolean {
    return this.queue.length === 0 && this.inFlight.size === 0;
  }

  /** Queues activities (new, or left from the last run) and starts as many as may run. */
  enqueue(rows: readonly ActivityRow[]): void {
    this.queue.push(...rows);
    this.pump();
  }

  /** Forgets the queued activities; those running finish, and their results are recorded until {@link close}. */
  clearQueue(): void {
    this.queue.length = 0;
  }

  /** Stops recording: later results are dropped (they run again). */
  close(): void {
    this.closed = true;
  }

  private pump(): void {
    while (
      !this.options.isStopped() &&
      this.inFlight.size < this.options.maxConcurrent &&
      this.queue.length > 0
    ) {
      const row = this.queue.shift() as ActivityRow;
      const running: Promise<void> = this.run(row)
        .catch((error: unknown) =>
          this.options.log(
            `durable: activity ${row.name} could not be recorded: ${messageOf(error)}`,
          ),
        )
        .finally(() => {
          this.inFlight.delete(running);
          this.pump();
          this.options.onSettled();
        });
      this.inFlight.add(running);
    }
  }

  private async run(row: ActivityRow): Promise<void> {
    const { clock } = this.options;
    let event: HistoryEvent;
    try {
      if (row.name === builtInHttpActivity) {
        const result = await runBuiltInHttpActivity(row.input);
        event = events.taskCompleted(new Date(clock.now()), row.taskScheduledId, result);
        return this.record(row, event);
      }
      const fn = this.options.findActivity(row.name);
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
        new Date(clock.now()),
        row.taskScheduledId,
        resultFromReturnValue(result.returnValue),
      );
    } catch (error) {
      if (isTransient(error)) {
        this.options.retrySoon(() => this.enqueue([row]));
        return;
      }
      event = events.taskFailed(
        new Date(clock.now()),
        row.taskScheduledId,
        `Activity function '${row.name}' failed: ${messageOf(error)}`,
        failureDetails(error),
      );
    }
    this.record(row, event);
  }

  private record(row: ActivityRow, event: HistoryEvent): void {
    // Recorded while stopping too, until the store closes; after that the activity runs again later.
    if (this.closed) return;
    this.options.committer.completeActivity({
      activityId: row.id,
      result: {
        instanceId: row.instanceId,
        executionId: row.executionId,
        visibleAt: this.options.clock.now(),
        event,
      },
    });
  }
}
