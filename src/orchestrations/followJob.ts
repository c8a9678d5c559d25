/**
 * Following a job of the backup service to its end, as the orchestrations that wait on a backup or
 * a restore do. Each state the job is seen in is logged and published once, as a
 * `PgProtect.Backup.JobStateChanged` event; the waits between reads are durable timers.
 */
import type { OrchestrationContext, Task } from "durable-functions";
import { activityNames, type EventRequest } from "../activities/names.js";
import { normalizeCode } from "../domain/errorCodes.js";
import type { EventLogger } from "../observability/eventLogger.js";
import { logEvents } from "../observability/logEvents.js";
import { callActivity } from "./callActivity.js";
import type { orchestrationNames } from "./names.js";
import { jobPolling } from "./retryPolicies.js";

/** Why a job failed, as an orchestration's output names it. */
export interface FollowedJobError {
  readonly code: string;
  /** The service's own code, where the job's failure came from it. */
  readonly serviceCode?: string;
  readonly message: string;
  readonly recommendedAction?: string;
}

/** A job as following it ended: settled, or still running when the polls ran out. */
export interface FollowedJob {
  readonly outcome: "Completed" | "Failed" | "Cancelled" | "StillRunning";
  readonly jobId: string;
  readonly error?: FollowedJobError;
}

/** Which job to follow, and on behalf of which orchestration (named in the logs). */
export interface FollowJobRequest {
  readonly vaultId: string;
  readonly jobId: string;
  readonly orchestration: (typeof orchestrationNames)[keyof typeof orchestrationNames];
  readonly log: EventLogger;
}

/**
 * Reads the job until it ends, publishing each state it is seen in once. The activities, their
 * order and the timers are part of the histories of running orchestrations: a change here must
 * still replay them.
 */
export function* followJob(
  context: OrchestrationContext,
  request: FollowJobRequest,
): Generator<Task, FollowedJob, unknown> {
  const { vaultId, jobId, orchestration, log } = request;
  let lastStatus: string | undefined;
  for (let poll = 0; poll <= jobPolling.maxPolls; poll += 1) {
    const job = yield* callActivity(context, activityNames.getJob, { vaultId, jobId });
    if (job.status !== lastStatus) {
      lastStatus = job.status;
      log.emit(logEvents.orchestrationStepCompleted, {
        orchestration,
        step: "followJob",
        status: job.status,
        detail: jobId,
      });
      context.df.setCustomStatus({ state: job.status, jobId });
      yield* callActivity(context, activityNames.publishEvents, [
        { kind: "jobStateChanged", job } satisfies EventRequest,
      ]);
    }
    if (job.status === "Completed" || job.status === "Failed" || job.status === "Cancelled") {
      const error = job.errorDetails?.[0];
      return {
        outcome: job.status,
        jobId,
        ...(error
          ? {
              error: {
                // A job in a history written before the catalogue holds the service's code.
                ...normalizeCode(error.code),
                ...(error.serviceCode ? { serviceCode: error.serviceCode } : {}),
                message: error.message,
                ...(error.recommendedAction?.length
                  ? { recommendedAction: error.recommendedAction.join(" ") }
                  : {}),
              },
            }
          : {}),
      };
    }
    yield waitAfterRead(context, { orchestration, step: "followJob", log }, poll);
  }
  return { outcome: "StillRunning", jobId };
}

/**
 * The durable timer after the `poll`-th read of a job found it running, logged as a wait.
 *
 * @param step - the step named in the log (part of what dashboards and queries filter on).
 */
export function waitAfterRead(
  context: OrchestrationContext,
  { orchestration, step, log }: Pick<FollowJobRequest, "orchestration" | "log"> & { step: string },
  poll: number,
): Task {
  // Short jobs (the local provider's take seconds) are seen ending soon; long ones settle at the interval.
  const waitSeconds = Math.min(
    jobPolling.intervalSeconds,
    jobPolling.firstIntervalSeconds * 2 ** poll,
  );
  const until = new Date(context.df.currentUtcDateTime.getTime() + waitSeconds * 1000);
  // Only the first waits and then every hundredth: a long backup polls thousands of times.
  if (poll < 3 || poll % 100 === 0) {
    log.emit(logEvents.orchestrationWaiting, {
      orchestration,
      step,
      until: until.toISOString(),
      attempt: poll + 1,
    });
  }
  return context.df.createTimer(until);
}
