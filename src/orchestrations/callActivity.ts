/**
 * The one typed way an orchestration calls an activity: the input and the answer are the
 * activity's own, read from `createActivities`, so no orchestration casts what crosses the
 * boundary (lint rejects a cast of a yielded value in `src/orchestrations`).
 */
import type { OrchestrationContext, RetryOptions, Task } from "durable-functions";
import {
  correlatedInput,
  type ActivityInput,
  type ActivityName,
  type ActivityOutput,
} from "../activities/names.js";
import { startingRequest } from "./orchestrationInput.js";
import { transientRetry } from "./retryPolicies.js";

/**
 * Schedules an activity with retries and answers its result, typed. Use with `yield*`.
 *
 * @remarks When the orchestration's input carries the starting request's correlation, the
 * input is sent wrapped with it (`correlatedInput`); `functions/activities.ts` unwraps it.
 *
 * @param name - one of `activityNames`.
 * @param input - what the activity takes.
 * @param retry - how transient failures are retried; {@link transientRetry} by default.
 * @returns the activity's answer; a failure left after the retries is thrown, as from `yield`.
 */
export function* callActivity<N extends ActivityName>(
  context: OrchestrationContext,
  name: N,
  input: ActivityInput<N>,
  retry: RetryOptions = transientRetry(),
): Generator<Task, ActivityOutput<N>, unknown> {
  // The starting request's correlation travels beside the input, for the activity's logs; an
  // orchestration whose input carries none sends the input alone, as before.
  const request = startingRequest(context);
  const sent = request ? correlatedInput(input, request) : input;
  // eslint-disable-next-line no-restricted-syntax -- the one place an activity is scheduled
  const answer: unknown = yield context.df.callActivityWithRetry(name, retry, sent);
  // The host hands back the activity's JSON: its type is the activity's own return type, the
  // one place that is asserted rather than checked.
  return answer as ActivityOutput<N>;
}

/** An activity scheduled but not yet waited on: its task, and its answer once it ended. */
export interface ScheduledActivity<N extends ActivityName> {
  /** Wait on it inside a fan-out (`Task.all` of `Task.any([task])`), never twice. */
  readonly task: Task;
  /**
   * The activity's answer, typed as {@link callActivity} types it.
   *
   * @throws Error when the activity has not ended, or failed (its last error, as from `yield`).
   */
  answer(): ActivityOutput<N>;
}

/**
 * Schedules an activity with retries without waiting on it, for a bounded fan-out: wrap each task
 * in `Task.any([task])`, which ends when the activity ends whether it succeeded or not, and yield
 * one `Task.all` over them, so that one failure does not stop the wait for the others.
 *
 * @param name - one of `activityNames`.
 * @param input - what the activity takes.
 * @param retry - how transient failures are retried; {@link transientRetry} by default.
 */
export function scheduleActivity<N extends ActivityName>(
  context: OrchestrationContext,
  name: N,
  input: ActivityInput<N>,
  retry: RetryOptions = transientRetry(),
): ScheduledActivity<N> {
  const request = startingRequest(context);
  const sent = request ? correlatedInput(input, request) : input;
  // eslint-disable-next-line no-restricted-syntax -- scheduled here as in callActivity, typed alike
  const task = context.df.callActivityWithRetry(name, retry, sent);
  return {
    task,
    answer() {
      const result: unknown = task.result;
      if (task.isFaulted) throw result instanceof Error ? result : new Error(String(result));
      if (!task.isCompleted) throw new Error(`The activity ${name} has not ended`);
      // The activity's JSON, typed as callActivity types it.
      return result as ActivityOutput<N>;
    },
  };
}
