/**
 * `jobWatcher`: one pass of job tracking. It lists the jobs of the vaults that started or ended
 * since the watermark, publishes `PgProtect.Backup.JobStateChanged` for each job state it has not
 * published yet, and returns the next watermark with the states it has published recently.
 *
 * @remarks The timer `timerWatchJobs` runs one pass a minute under one fixed instance id and
 * hands each pass the state the previous one returned, so the watermark lives in the task hub's
 * instance state (it survives restarts, in Azure too) and no eternal orchestration's history
 * grows. The listing overlaps the previous one by {@link jobWatching}.overlapMinutes, because a
 * job can become visible after its start or end time (Resource Graph lags); the remembered
 * states keep the overlap from publishing a state twice.
 */
import type { OrchestrationContext, Task } from "durable-functions";
import { activityNames, type EventRequest, type WatchedJob } from "../activities/names.js";
import { transientRetry } from "./retryPolicies.js";

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
}

const keyOf = (jobId: string, status: string) => `${jobId.toLowerCase()}|${status}`;

/** The orchestrator function. */
export function* jobWatcher(
  context: OrchestrationContext,
): Generator<Task, JobWatcherOutput, unknown> {
  const input = context.df.getInput() as JobWatcherInput;
  const now = context.df.currentUtcDateTime.getTime();
  const overlapMs = jobWatching.overlapMinutes * 60_000;
  const previous = input.state;
  const since = previous?.watermark ?? new Date(now - overlapMs).toISOString();

  const listed =
    input.vaultIds.length === 0
      ? []
      : ((yield context.df.callActivityWithRetry(activityNames.listJobsSince, transientRetry(), {
          vaultIds: input.vaultIds,
          since,
        })) as WatchedJob[]);

  const seen = new Map(
    (previous?.seen ?? []).map((entry) => [keyOf(entry.jobId, entry.status), entry]),
  );
  const fresh: WatchedJob[] = [];
  for (const watched of listed) {
    const key = keyOf(watched.job.id, watched.job.status);
    if (seen.has(key)) continue;
    fresh.push(watched);
    seen.set(key, {
      jobId: watched.job.id,
      status: watched.job.status,
      at: watched.job.endTime ?? watched.job.startTime,
    });
  }

  for (let start = 0; start < fresh.length; start += jobWatching.publishBatch) {
    const requests = fresh
      .slice(start, start + jobWatching.publishBatch)
      .map((watched): EventRequest => ({
        kind: "jobStateChanged",
        job: watched.job,
        ...(watched.datasourceTags ? { datasourceTags: watched.datasourceTags } : {}),
      }));
    yield context.df.callActivityWithRetry(activityNames.publishEvents, transientRetry(), requests);
  }

  // Never move back: a state forgotten because it fell before the watermark must stay unlisted.
  const watermark = new Date(Math.max(Date.parse(since), now - overlapMs)).toISOString();
  const kept = [...seen.values()].filter((entry) => Date.parse(entry.at) >= Date.parse(watermark));
  context.df.setCustomStatus({ watermark, published: fresh.length, remembered: kept.length });
  return { watermark, seen: kept, published: fresh.length };
}
