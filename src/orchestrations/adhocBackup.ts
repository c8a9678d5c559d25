/**
 * `adhocBackup`: one on-demand backup under a backup rule, guarded by the service's weekly limit
 * and followed to its end, with a `PgProtect.Backup.JobStateChanged` event per state. Given a
 * `jobId`, the backup was triggered already (by the HTTP API) and is only followed.
 */
import type { OrchestrationContext, Task } from "durable-functions";
import { z } from "zod";
import { activityNames, type EventRequest } from "../activities/names.js";
import { normalizeCode } from "../domain/errorCodes.js";
import { BACKUP_IN_PROGRESS_CODE } from "../domain/protection/backupConcurrency.js";
import type { EventLogger, RequestCorrelation } from "../observability/eventLogger.js";
import { logEvents } from "../observability/logEvents.js";
import { replaySafeLogger } from "../observability/orchestrationLogger.js";
import { callActivity } from "./callActivity.js";
import { orchestrationNames } from "./names.js";
import { orchestrationInput, requestCorrelationSchema } from "./orchestrationInput.js";
import { jobPolling } from "./retryPolicies.js";

/** What a caller asks for. */
export interface AdhocBackupInput {
  readonly vaultId: string;
  readonly backupInstanceName: string;
  /** The backup rule, e.g. `BackupWeekly`. */
  readonly ruleName: string;
  /** The retention rule's tag the recovery point gets, e.g. `Monthly`. */
  readonly retentionTagOverride?: string;
  /**
   * What to do when a Flexible Server instance already had its backup this week: `skip` ends
   * quietly (a backup plan's choice), `refuse` ends as failed with the reason (a user's request).
   */
  readonly whenWeeklyLimitReached?: "skip" | "refuse";
  /**
   * What to do when a backup of the instance is running (one runs at a time): `skip` ends quietly
   * with the running job named (a backup plan's choice), `refuse` (the default) ends as failed.
   */
  readonly whenBackupRunning?: "skip" | "refuse";
  readonly requestedBy?: string;
  /**
   * A job already triggered by the caller (the HTTP API triggers first, to answer with the job's
   * id): the orchestration skips the weekly-limit guard and the trigger, and only follows it.
   */
  readonly jobId?: string;
  /** The request that asked for the backup, named in the logs of the orchestration. */
  readonly correlation?: RequestCorrelation;
}

/** The input's schema: what `orchestrationInput` checks. */
export const adhocBackupInputSchema = z.object({
  vaultId: z.string(),
  backupInstanceName: z.string(),
  ruleName: z.string(),
  retentionTagOverride: z.string().optional(),
  whenWeeklyLimitReached: z.enum(["skip", "refuse"]).optional(),
  whenBackupRunning: z.enum(["skip", "refuse"]).optional(),
  requestedBy: z.string().optional(),
  jobId: z.string().optional(),
  correlation: requestCorrelationSchema.optional(),
}) satisfies z.ZodType<AdhocBackupInput>;

/** The orchestration's output. */
export interface AdhocBackupOutput {
  readonly outcome: "Completed" | "Failed" | "Cancelled" | "Skipped" | "StillRunning";
  readonly jobId?: string;
  readonly error?: {
    readonly code: string;
    /** The service's own code, where the job's failure came from it. */
    readonly serviceCode?: string;
    readonly message: string;
    readonly recommendedAction?: string;
  };
}

/** The orchestrator function. */
export function* adhocBackup(
  context: OrchestrationContext,
): Generator<Task, AdhocBackupOutput, unknown> {
  const input = orchestrationInput(context, adhocBackupInputSchema);
  const log = replaySafeLogger(context, input.correlation);
  const orchestration = orchestrationNames.adhocBackup;
  log.emit(logEvents.orchestrationStarted, { orchestration, target: input.backupInstanceName });
  const key = { vaultId: input.vaultId, backupInstanceName: input.backupInstanceName };
  const jobId = input.jobId ?? (yield* guardAndTrigger(context, input, key));
  let output: AdhocBackupOutput;
  if (typeof jobId === "string") {
    context.df.setCustomStatus({ state: "running", jobId });
    output = yield* followJob(context, input.vaultId, jobId, log);
  } else {
    output = jobId;
  }
  if (output.outcome === "Failed" || output.outcome === "Cancelled") {
    log.emit(logEvents.orchestrationFailed, {
      orchestration,
      outcome: output.outcome,
      errorCode: output.error?.code ?? output.outcome,
      errorMessage: output.error?.message ?? `The backup job ended ${output.outcome}`,
    });
  } else {
    log.emit(logEvents.orchestrationCompleted, {
      orchestration,
      outcome: output.outcome,
      detail: output.jobId ?? output.error?.code,
    });
  }
  return output;
}

/** Checks the weekly limit and triggers the backup: the job's id, or the output to end with. */
function* guardAndTrigger(
  context: OrchestrationContext,
  input: AdhocBackupInput,
  key: { vaultId: string; backupInstanceName: string },
): Generator<Task, string | AdhocBackupOutput, unknown> {
  const allowed = yield* callActivity(context, activityNames.checkWeeklyLimit, {
    ...key,
    at: context.df.currentUtcDateTime.toISOString(),
  });
  if (!allowed.ok) {
    context.df.setCustomStatus({ state: "weeklyLimitReached", error: allowed });
    return input.whenWeeklyLimitReached === "skip"
      ? { outcome: "Skipped", error: allowed }
      : { outcome: "Failed", error: allowed };
  }

  const started = yield* callActivity(context, activityNames.triggerBackup, {
    ...key,
    ruleName: input.ruleName,
    ...(input.retentionTagOverride ? { retentionTagOverride: input.retentionTagOverride } : {}),
  });
  if (!started.ok) {
    if (started.code === BACKUP_IN_PROGRESS_CODE && input.whenBackupRunning === "skip") {
      context.df.setCustomStatus({ state: "skippedBackupRunning", error: started });
      return { outcome: "Skipped", error: started };
    }
    context.df.setCustomStatus({ state: "failed", error: started });
    return { outcome: "Failed", error: started };
  }
  return started.value.jobId;
}

/** Reads the job until it ends, publishing each state it is seen in once. */
function* followJob(
  context: OrchestrationContext,
  vaultId: string,
  jobId: string,
  log: EventLogger,
): Generator<Task, AdhocBackupOutput, unknown> {
  let lastStatus: string | undefined;
  for (let poll = 0; poll <= jobPolling.maxPolls; poll += 1) {
    const job = yield* callActivity(context, activityNames.getJob, {
      vaultId,
      jobId,
    });
    if (job.status !== lastStatus) {
      lastStatus = job.status;
      log.emit(logEvents.orchestrationStepCompleted, {
        orchestration: orchestrationNames.adhocBackup,
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
    // Short jobs (the local provider's take seconds) are seen ending soon; long ones settle at the interval.
    const waitSeconds = Math.min(
      jobPolling.intervalSeconds,
      jobPolling.firstIntervalSeconds * 2 ** poll,
    );
    const until = new Date(context.df.currentUtcDateTime.getTime() + waitSeconds * 1000);
    // Only the first waits and then every hundredth: a long backup polls thousands of times.
    if (poll < 3 || poll % 100 === 0) {
      log.emit(logEvents.orchestrationWaiting, {
        orchestration: orchestrationNames.adhocBackup,
        step: "followJob",
        until: until.toISOString(),
        attempt: poll + 1,
      });
    }
    yield context.df.createTimer(until);
  }
  return { outcome: "StillRunning", jobId };
}
