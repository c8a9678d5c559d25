/**
 * `adhocBackup`: one on-demand backup under a backup rule, guarded by the service's weekly limit
 * and followed to its end, with a `PgProtect.Backup.JobStateChanged` event per state. Given a
 * `jobId`, the backup was triggered already (by the HTTP API) and is only followed.
 */
import type { OrchestrationContext, Task } from "durable-functions";
import { z } from "zod";
import { activityNames } from "../activities/names.js";
import { BACKUP_IN_PROGRESS_CODE } from "../domain/protection/backupConcurrency.js";
import type { RequestCorrelation } from "../observability/eventLogger.js";
import { logEvents } from "../observability/logEvents.js";
import { replaySafeLogger } from "../observability/orchestrationLogger.js";
import { callActivity } from "./callActivity.js";
import { followJob, type FollowedJobError } from "./followJob.js";
import { orchestrationNames } from "./names.js";
import { orchestrationInput, requestCorrelationSchema } from "./orchestrationInput.js";

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
  readonly error?: FollowedJobError;
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
    output = yield* followJob(context, { vaultId: input.vaultId, jobId, orchestration, log });
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
