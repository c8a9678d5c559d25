/**
 * `restoreDrill`: one restore drill of one backup instance. Begins the drill (the latest recovery
 * point, recorded as running: one drill per instance at a time), drops scratch targets earlier
 * drills left behind, restores into the drill's own scratch target (verified against what the
 * backup recorded), follows the restore job with durable timers (where the restore lands as files,
 * in Azure, then loads the files into the scratch database and verifies them there with the
 * `loadRestoredFiles` activity), ALWAYS removes the scratch target,
 * then records the verdict and the time to restore and publishes `PgProtect.Restore.DrillSucceeded`
 * or `PgProtect.Restore.DrillFailed`.
 *
 * @remarks The drill's id is the orchestration instance id, so the scratch target's name, the
 * record and the event id follow from it: a host that restarts mid-drill replays to the same
 * names, and the event notifies once.
 */
import type { OrchestrationContext, Task } from "durable-functions";
import { z } from "zod";
import { activityNames } from "../activities/names.js";
import type { DrillRecord } from "../domain/drills/drill.js";
import type { ErrorCode } from "../domain/errorCodes.js";
import type { BackupJob, RestoreVerificationSummary } from "../domain/protection/types.js";
import type { EventLogger, RequestCorrelation } from "../observability/eventLogger.js";
import { logEvents } from "../observability/logEvents.js";
import { replaySafeLogger } from "../observability/orchestrationLogger.js";
import { callActivity } from "./callActivity.js";
import { waitAfterRead } from "./followJob.js";
import { orchestrationNames } from "./names.js";
import { orchestrationInput, requestCorrelationSchema } from "./orchestrationInput.js";
import { jobPolling } from "./retryPolicies.js";

/** What a caller asks for. */
export interface RestoreDrillInput {
  readonly vaultId: string;
  readonly backupInstanceName: string;
  /** The drill schedule that fires it; absent on demand. */
  readonly schedule?: string;
  readonly requestedBy?: string;
  /** The request that asked for the drill, named in the logs. */
  readonly correlation?: RequestCorrelation;
}

/** The input's schema: what `orchestrationInput` checks. */
export const restoreDrillInputSchema = z.object({
  vaultId: z.string(),
  backupInstanceName: z.string(),
  schedule: z.string().optional(),
  requestedBy: z.string().optional(),
  correlation: requestCorrelationSchema.optional(),
}) satisfies z.ZodType<RestoreDrillInput>;

/** The orchestration's output. */
export interface RestoreDrillOutput {
  /** `Skipped` when another drill of the instance ran, or the instance is gone. */
  readonly verdict: "Succeeded" | "Failed" | "Skipped";
  readonly drill?: DrillRecord;
  readonly error?: { readonly code: ErrorCode; readonly message: string };
}

/** How a scheduled drill waits for its turn while `DRILL_MAX_CONCURRENT` drills run. */
const turnWaiting = {
  intervalSeconds: 30,
  /** A day of waiting; then the drill is skipped and the next occurrence tries again. */
  maxWaits: 2_880,
} as const;

/** The scratch database as the load found it, where the restore landed as files. */
type LoadedScratch = {
  readonly verification: RestoreVerificationSummary;
  readonly seconds: { readonly download: number; readonly load: number; readonly verify: number };
};

type DrillError = {
  readonly code: ErrorCode;
  readonly message: string;
  readonly recommendedAction?: string;
};

const failure = (code: ErrorCode, error: unknown): DrillError => ({
  code,
  message: error instanceof Error ? error.message : String(error),
});

/** The orchestrator function. */
export function* restoreDrill(
  context: OrchestrationContext,
): Generator<Task, RestoreDrillOutput, unknown> {
  const input = orchestrationInput(context, restoreDrillInputSchema);
  const log = replaySafeLogger(context, input.correlation);
  const orchestration = orchestrationNames.restoreDrill;
  log.emit(logEvents.orchestrationStarted, { orchestration, target: input.backupInstanceName });

  const begin = () =>
    callActivity(context, activityNames.beginDrill, {
      drillId: context.df.instanceId,
      vaultId: input.vaultId,
      backupInstanceName: input.backupInstanceName,
      ...(input.schedule ? { schedule: input.schedule } : {}),
      ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
      at: context.df.currentUtcDateTime.toISOString(),
      // A schedule drilling many instances restores a few at a time (DRILL_MAX_CONCURRENT).
      bounded: input.schedule !== undefined,
    });
  let begun = yield* begin();
  for (
    let wait = 1;
    !begun.ok && begun.code === "DRILLS_AT_CAPACITY" && wait <= turnWaiting.maxWaits;
    wait += 1
  ) {
    const until = new Date(
      context.df.currentUtcDateTime.getTime() + turnWaiting.intervalSeconds * 1000,
    );
    context.df.setCustomStatus({ state: "waitingForTurn", until: until.toISOString() });
    if (wait <= 3 || wait % 100 === 0) {
      log.emit(logEvents.orchestrationWaiting, {
        orchestration,
        step: "beginDrill",
        until: until.toISOString(),
        attempt: wait,
      });
    }
    yield context.df.createTimer(until);
    begun = yield* begin();
  }
  if (!begun.ok) {
    context.df.setCustomStatus({ state: "skipped", error: begun });
    log.emit(logEvents.orchestrationCompleted, {
      orchestration,
      outcome: "Skipped",
      detail: begun.code,
    });
    return { verdict: "Skipped", error: { code: begun.code, message: begun.message } };
  }
  const drill = begun.value.drill;
  context.df.setCustomStatus({ state: "begun", scratchTarget: drill.scratchTarget });

  // Leftovers of drills a crash cut off go first; failing to drop them does not fail this drill.
  try {
    yield* callActivity(context, activityNames.sweepDrillScratch, {});
  } catch {
    // The next drill sweeps again.
  }

  let job: BackupJob | undefined;
  let loaded: LoadedScratch | undefined;
  let error: DrillError | undefined;
  if (drill.recoveryPointId === undefined) {
    error = {
      code: "NO_RECOVERY_POINT",
      message: `The backup instance '${drill.friendlyName}' has no recovery point to restore`,
      recommendedAction: "Check that its backups run: a drill proves the latest recovery point",
    };
  } else {
    try {
      const started = yield* callActivity(context, activityNames.startDrillRestore, {
        vaultId: input.vaultId,
        backupInstanceName: drill.backupInstanceName,
        recoveryPointId: drill.recoveryPointId,
        scratchTarget: drill.scratchTarget,
      });
      if (!started.ok) error = started;
      else {
        context.df.setCustomStatus({
          state: "restoring",
          scratchTarget: drill.scratchTarget,
          jobId: started.value.jobId,
        });
        job = yield* followRestore(context, input.vaultId, started.value.jobId, log);
        if (job.status === "InProgress") {
          error = {
            code: "DRILL_FAILED",
            message: `The drill's restore job ${job.name} was still running after ${jobPolling.maxPolls} reads`,
          };
        } else if (job.status === "Completed" && started.value.load) {
          // Restored as files (Azure): loaded into the scratch database and verified there. The
          // drill's id names the load, so a retry after a crash finds its own database.
          context.df.setCustomStatus({ state: "loading", scratchTarget: drill.scratchTarget });
          const load = yield* callActivity(context, activityNames.loadRestoredFiles, {
            loadId: context.df.instanceId,
            ...started.value.load,
          });
          if (load.ok)
            loaded = { verification: load.value.verification, seconds: load.value.seconds };
          else {
            error = {
              code: load.code,
              message: load.message,
              ...(load.recommendedAction ? { recommendedAction: load.recommendedAction } : {}),
            };
          }
        }
      }
    } catch (thrown) {
      error = failure("DRILL_FAILED", thrown);
    }
  }

  // Whatever happened above, the scratch target goes.
  let scratchRemoved = false;
  try {
    yield* callActivity(context, activityNames.removeDrillScratch, {
      scratchTarget: drill.scratchTarget,
    });
    scratchRemoved = true;
  } catch {
    // Reported in the drill's event; the next drill's sweep drops it.
  }

  const ended = yield* callActivity(context, activityNames.finishDrill, {
    drill,
    ...(job ? { job } : {}),
    ...(loaded ? { loaded } : {}),
    ...(error ? { error } : {}),
    scratchRemoved,
    at: context.df.currentUtcDateTime.toISOString(),
  });
  context.df.setCustomStatus({ state: ended.verdict, drillId: ended.id });
  if (ended.verdict === "Succeeded") {
    log.emit(logEvents.orchestrationCompleted, {
      orchestration,
      outcome: ended.verdict,
      detail: ended.id,
    });
  } else {
    log.emit(logEvents.orchestrationFailed, {
      orchestration,
      outcome: ended.verdict,
      errorCode: ended.error?.code ?? "DRILL_FAILED",
      errorMessage: ended.error?.message ?? "The drill failed",
    });
  }
  return {
    verdict: ended.verdict === "Succeeded" ? "Succeeded" : "Failed",
    drill: ended,
    ...(ended.error ? { error: { code: ended.error.code, message: ended.error.message } } : {}),
  };
}

/** Reads the restore job until it ends (or the polls run out); answers the job as last read. */
function* followRestore(
  context: OrchestrationContext,
  vaultId: string,
  jobId: string,
  log: EventLogger,
): Generator<Task, BackupJob, unknown> {
  let job = yield* callActivity(context, activityNames.getJob, { vaultId, jobId });
  for (let poll = 0; poll < jobPolling.maxPolls && job.status === "InProgress"; poll += 1) {
    yield waitAfterRead(
      context,
      { orchestration: orchestrationNames.restoreDrill, step: "followRestore", log },
      poll,
    );
    job = yield* callActivity(context, activityNames.getJob, { vaultId, jobId });
  }
  return job;
}
