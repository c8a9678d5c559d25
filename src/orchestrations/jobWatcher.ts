/**
 * `jobWatcher`: one pass of job tracking. It lists the jobs of the vaults that started or ended
 * since the watermark, records them in pgprotect's job history (which raises the stuck and anomaly
 * alarms the history shows), publishes `PgProtect.Backup.JobStateChanged` for each job state it
 * has not published yet (the end of a job reported stuck says so), and returns the next watermark
 * with the states it has published recently.
 *
 * @remarks The timer `timerWatchJobs` runs one pass a minute under one fixed instance id and
 * hands each pass the state the previous one returned, so the watermark lives in the task hub's
 * instance state (it survives restarts, in Azure too) and no eternal orchestration's history
 * grows. The listing overlaps the previous one by {@link jobWatching}.overlapMinutes, because a
 * job can become visible after its start or end time (Resource Graph lags); the remembered
 * states keep the overlap from publishing a state twice.
 */
import type { OrchestrationContext, Task } from "durable-functions";
import { z } from "zod";
import { activityNames, type EventRequest, type WatchedJob } from "../activities/names.js";
import type { StuckMark } from "../domain/events/types.js";
import { failureMessage, OrchestrationErrorCodes } from "../domain/protection/outcomeCodes.js";
import { logEvents } from "../observability/logEvents.js";
import { replaySafeLogger } from "../observability/orchestrationLogger.js";
import { callActivity } from "./callActivity.js";
import { orchestrationNames } from "./names.js";
import { orchestrationInput } from "./orchestrationInput.js";

/** How the watcher lists and publishes. */
export const jobWatching = {
  /**
   * How far each listing reaches back before the previous pass's time; also the first pass's
   * look-back. It exceeds Resource Graph's lag (a few minutes; the Azure provider lists jobs
   * there), so a job or state shown late still falls inside a later listing instead of before
   * its watermark, and is published then, once.
   */
  overlapMinutes: 10,
  /** Events per `publishEvents` call (Event Grid takes at most 1 MB a request). */
  publishBatch: 50,
} as const;

/** A job state published, remembered while a listing could still return it. */
export interface SeenJobState {
  readonly jobId: string;
  readonly status: string;
  /** The job's end, or start while it runs: a listing from after this no longer returns it in this state. */
  readonly at: string;
}

/** What one pass hands the next. */
export interface JobWatcherState {
  /** The next listing asks for jobs started or ended at or after this instant (ISO 8601). */
  readonly watermark: string;
  readonly seen: readonly SeenJobState[];
}

/** The input of a pass. */
export interface JobWatcherInput {
  /** The vaults to watch, by ARM id. */
  readonly vaultIds: readonly string[];
  /** The previous pass's output; absent on the first pass. */
  readonly state?: JobWatcherState;
}

/** The output of a pass: the next pass's state and what this one published. */
export interface JobWatcherOutput extends JobWatcherState {
  readonly published: number;
  /**
   * Why the pass stopped short: listing or publishing still failed after its retries. The
   * watermark then stays where it was, so the next pass lists the same span again; the states
   * already published are remembered and not published twice.
   */
  readonly error?: { readonly code: string; readonly message: string };
}

/** The input's schema: what `orchestrationInput` checks. */
export const jobWatcherInputSchema = z.object({
  vaultIds: z.array(z.string()),
  state: z
    .object({
      watermark: z.string(),
      seen: z.array(z.object({ jobId: z.string(), status: z.string(), at: z.string() })),
    })
    .optional(),
}) satisfies z.ZodType<JobWatcherInput>;

const keyOf = (jobId: string, status: string) => `${jobId.toLowerCase()}|${status}`;

/**
 * The orchestrator function.
 *
 * @remarks Its waits are activity calls under the retry policy, each attempt bounded by the
 * host's `functionTimeout`; when one still fails, the pass completes with the failure stated in
 * `error` instead of failing, and the next pass picks up from the same watermark.
 */
export function* jobWatcher(
  context: OrchestrationContext,
): Generator<Task, JobWatcherOutput, unknown> {
  const input = orchestrationInput(context, jobWatcherInputSchema);
  const log = replaySafeLogger(context);
  const now = context.df.currentUtcDateTime.getTime();
  const overlapMs = jobWatching.overlapMinutes * 60_000;
  const previous = input.state;
  const since = previous?.watermark ?? new Date(now - overlapMs).toISOString();
  const seen = new Map(
    (previous?.seen ?? []).map((entry) => [keyOf(entry.jobId, entry.status), entry]),
  );
  const stopped = (published: number, what: string, error: unknown): JobWatcherOutput => {
    const stated = {
      code: OrchestrationErrorCodes.jobWatchIncomplete,
      message: `${what}: ${failureMessage(error)}`,
    };
    context.df.setCustomStatus({
      watermark: since,
      published,
      remembered: seen.size,
      error: stated,
    });
    log.emit(logEvents.orchestrationFailed, {
      orchestration: orchestrationNames.jobWatcher,
      outcome: "Incomplete",
      errorCode: stated.code,
      errorMessage: stated.message,
    });
    return { watermark: since, seen: [...seen.values()], published, error: stated };
  };

  let listed: WatchedJob[] = [];
  if (input.vaultIds.length > 0) {
    try {
      listed = yield* callActivity(context, activityNames.listJobsSince, {
        vaultIds: input.vaultIds,
        since,
      });
    } catch (error) {
      return stopped(0, `The jobs since ${since} could not be listed`, error);
    }
  }

  // Recorded before publishing, so that the end of a job reported stuck is published as such.
  const stuckEnded = new Map<string, StuckMark>();
  if (input.vaultIds.length > 0) {
    try {
      const recorded = yield* callActivity(context, activityNames.recordJobHistory, {
        jobs: listed,
        at: new Date(now).toISOString(),
      });
      for (const ended of recorded.stuckEnded)
        stuckEnded.set(ended.jobId.toLowerCase(), ended.stuck);
    } catch (error) {
      return stopped(0, "The jobs could not be recorded in the job history", error);
    }
  }

  const fresh: WatchedJob[] = [];
  const freshKeys = new Set<string>();
  for (const watched of listed) {
    const key = keyOf(watched.job.id, watched.job.status);
    if (seen.has(key) || freshKeys.has(key)) continue;
    freshKeys.add(key);
    fresh.push(watched);
  }

  let published = 0;
  for (let start = 0; start < fresh.length; start += jobWatching.publishBatch) {
    const batch = fresh.slice(start, start + jobWatching.publishBatch);
    const requests = batch.map((watched): EventRequest => {
      const stuck =
        watched.job.status === "InProgress"
          ? undefined
          : stuckEnded.get(watched.job.id.toLowerCase());
      return {
        kind: "jobStateChanged",
        job: watched.job,
        ...(watched.datasourceTags ? { datasourceTags: watched.datasourceTags } : {}),
        ...(stuck ? { stuck } : {}),
        recorded: true,
      };
    });
    try {
      yield* callActivity(context, activityNames.publishEvents, requests);
    } catch (error) {
      return stopped(
        published,
        `${fresh.length - published} job states could not be published`,
        error,
      );
    }
    for (const watched of batch) {
      seen.set(keyOf(watched.job.id, watched.job.status), {
        jobId: watched.job.id,
        status: watched.job.status,
        at: watched.job.endTime ?? watched.job.startTime,
      });
    }
    published += batch.length;
  }

  // Never move back: a state forgotten because it fell before the watermark must stay unlisted.
  const watermark = new Date(Math.max(Date.parse(since), now - overlapMs)).toISOString();
  const kept = [...seen.values()].filter((entry) => Date.parse(entry.at) >= Date.parse(watermark));
  context.df.setCustomStatus({ watermark, published, remembered: kept.length });
  if (published > 0) {
    log.emit(logEvents.orchestrationCompleted, {
      orchestration: orchestrationNames.jobWatcher,
      outcome: "Published",
      detail: `${published} job states since ${since}`,
    });
  }
  return { watermark, seen: kept, published };
}
