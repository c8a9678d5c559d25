/**
 * `restoreToServer`: follows a restore job to its end, publishing a
 * `PgProtect.Backup.JobStateChanged` event per state it is seen in (as a backup job's are), and,
 * for a restore to a server, then loads the restored files into the target PostgreSQL and
 * verifies them (the `loadRestoredFiles` activity). Waits are durable timers; the load is one
 * activity that is safe to run again, so a restart of the host resumes where it was.
 */
import type { OrchestrationContext, Task } from "durable-functions";
import { z } from "zod";
import { activityNames, type ActivityOutput } from "../activities/names.js";
import { requestCorrelationSchema } from "./orchestrationInput.js";
import type { RequestCorrelation } from "../observability/eventLogger.js";
import { logEvents } from "../observability/logEvents.js";
import { replaySafeLogger } from "../observability/orchestrationLogger.js";
import { callActivity } from "./callActivity.js";
import { followJob, type FollowedJobError } from "./followJob.js";
import { orchestrationNames } from "./names.js";
import { orchestrationInput } from "./orchestrationInput.js";

/** A database loaded from the restore's files and verified, as the load activity answers it. */
type LoadedDatabase = Extract<ActivityOutput<"loadRestoredFiles">, { ok: true }>["value"];

/** What the orchestration follows and, for a restore to a server, loads. */
export interface RestoreToServerInput {
  readonly vaultId: string;
  readonly backupInstanceName: string;
  /** The restore job the HTTP API triggered. */
  readonly jobId: string;
  /** When the restore was asked for (ISO 8601): the start of the time it took. */
  readonly requestedAt: string;
  /** Restore to a server: the files to load once the job wrote them, and where to. */
  readonly load?: {
    readonly containerUrl: string;
    readonly filePrefix: string;
    readonly secretUri: string;
    readonly databaseName: string;
    readonly sourceDatabaseName?: string;
  };
  readonly requestedBy?: string;
  readonly correlation?: RequestCorrelation;
}

/** The input's schema: what `orchestrationInput` checks. */
export const restoreToServerInputSchema = z.object({
  vaultId: z.string(),
  backupInstanceName: z.string(),
  jobId: z.string(),
  requestedAt: z.string(),
  load: z
    .object({
      containerUrl: z.string(),
      filePrefix: z.string(),
      secretUri: z.string(),
      databaseName: z.string(),
      sourceDatabaseName: z.string().optional(),
    })
    .optional(),
  requestedBy: z.string().optional(),
  correlation: requestCorrelationSchema.optional(),
}) satisfies z.ZodType<RestoreToServerInput>;

/** The restore's outcome: the job's, then the load's. */
export interface RestoreToServerOutput {
  readonly outcome: "Completed" | "Failed" | "Cancelled" | "StillRunning";
  readonly jobId: string;
  /** The step the restore ended in. */
  readonly step: "job" | "load";
  /** Restore to a server: the database, running and verified. */
  readonly database?: LoadedDatabase;
  /** Seconds from the request to the job's end, and to the end of the load. */
  readonly seconds?: { readonly job: number; readonly total: number };
  readonly error?: FollowedJobError;
}

/** The orchestrator function. */
export function* restoreToServer(
  context: OrchestrationContext,
): Generator<Task, RestoreToServerOutput, unknown> {
  const input = orchestrationInput(context, restoreToServerInputSchema);
  const log = replaySafeLogger(context, input.correlation);
  const orchestration = orchestrationNames.restoreToServer;
  log.emit(logEvents.orchestrationStarted, { orchestration, target: input.backupInstanceName });
  const requestedAt = Date.parse(input.requestedAt);
  const secondsSince = (): number =>
    Math.max(0, (context.df.currentUtcDateTime.getTime() - requestedAt) / 1000);

  const job: RestoreToServerOutput = {
    ...(yield* followJob(context, {
      vaultId: input.vaultId,
      jobId: input.jobId,
      orchestration,
      log,
    })),
    step: "job",
  };
  let output: RestoreToServerOutput = job;
  if (job.outcome === "Completed" && input.load) {
    const jobSeconds = secondsSince();
    context.df.setCustomStatus({ state: "loading", jobId: input.jobId });
    const loaded = yield* callActivity(context, activityNames.loadRestoredFiles, {
      // The orchestration's own id names the load: a retry of the activity finds its own database.
      loadId: context.df.instanceId,
      ...input.load,
    });
    output = loaded.ok
      ? {
          outcome: "Completed",
          jobId: input.jobId,
          step: "load",
          database: loaded.value,
          seconds: { job: jobSeconds, total: secondsSince() },
        }
      : {
          outcome: "Failed",
          jobId: input.jobId,
          step: "load",
          error: {
            code: loaded.code,
            ...(loaded.serviceCode ? { serviceCode: loaded.serviceCode } : {}),
            message: loaded.message,
            ...(loaded.recommendedAction ? { recommendedAction: loaded.recommendedAction } : {}),
          },
        };
  } else if (job.outcome === "Completed") {
    output = { ...job, seconds: { job: secondsSince(), total: secondsSince() } };
  }
  context.df.setCustomStatus({ state: output.outcome, jobId: input.jobId, step: output.step });
  if (output.outcome === "Completed") {
    log.emit(logEvents.orchestrationCompleted, {
      orchestration,
      outcome: output.outcome,
      detail: output.database?.databaseName ?? input.jobId,
    });
  } else {
    log.emit(logEvents.orchestrationFailed, {
      orchestration,
      outcome: output.outcome,
      errorCode: output.error?.code ?? output.outcome,
      errorMessage: output.error?.message ?? `The restore ended ${output.outcome}`,
    });
  }
  return output;
}
