/**
 * `restoreDrill`: one restore drill of one backup instance. Begins the drill (the latest recovery
 * point, recorded as running: one drill per instance at a time), drops scratch targets earlier
 * drills left behind, restores into the drill's own scratch target (verified against what the
 * backup recorded), follows the restore job with durable timers (where the restore lands as files,
 * in Azure, then loads the files into the scratch database and verifies them there with the
 * `loadRestoredFiles` activity), ALWAYS removes the scratch target,
 * then records the verdict and the time to restore and publishes `PgProtect.Restore.DrillSucceeded`
 * or `PgProtect.Restore.DrillFailed`. Every drill waits its turn under `DRILL_MAX_CONCURRENT`,
 * scheduled or on demand.
 *
 * A whole server is drilled database by database, each into its own scratch database named from
 * the drill's and the database's (`databaseScratchName`), and succeeds only when every database
 * did: in Azure its restore as files writes one dump per database, which `planDrillLoads` lists
 * and `loadRestoredFiles` loads, `drillLoadsAtOnce` at a time; locally each database has its own
 * restore job, started at once and bounded by the server's slots.
 *
 * @remarks The drill's id is the orchestration instance id, so the scratch target's name, the
 * record and the event id follow from it: a host that restarts mid-drill replays to the same
 * names, and the event notifies once.
 */
import type { OrchestrationContext, Task } from "durable-functions";
import { z } from "zod";
import { activityNames, type ActivityOutput } from "../activities/names.js";
import {
  abandonedDrillAfterMs,
  databaseResultOfJob,
  drillLoadsAtOnce,
  type DrillDatabaseResult,
  type DrillRecord,
} from "../domain/drills/drill.js";
import type { ErrorCode } from "../domain/errorCodes.js";
import type { BackupJob, RestoreVerificationSummary } from "../domain/protection/types.js";
import type { EventLogger, RequestCorrelation } from "../observability/eventLogger.js";
import { logEvents } from "../observability/logEvents.js";
import { replaySafeLogger } from "../observability/orchestrationLogger.js";
import { callActivity, scheduleActivity, type ScheduledActivity } from "./callActivity.js";
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

/** How a drill waits for its turn while `DRILL_MAX_CONCURRENT` drills run. */
const turnWaiting = {
  intervalSeconds: 30,
  /**
   * Six hours of waiting (a quarter of `abandonedDrillAfterMs`); then a scheduled drill is skipped
   * (the next occurrence tries again) and a drill on demand runs. A drill on demand is recorded
   * when asked for, and its record counts as running only until the abandonment age: the wait
   * and the longest restore it follows (`jobPolling`, about twelve hours) must end well before it,
   * or the drill would run while others take it for abandoned (and begin beside it).
   */
  maxWaits: abandonedDrillAfterMs / 4 / 30_000,
} as const;

/** What a started drill restore answers, as its activity does. */
type RestoreStarted = Extract<
  ActivityOutput<typeof activityNames.startDrillRestore>,
  { ok: true }
>["value"];

/** What a drill's restore as files loads into the scratch server (Azure). */
type LoadRequest = Extract<RestoreStarted, { readonly jobId: string }>["load"];

/** One database of a whole server's restored files, and its scratch database. */
type PlannedLoad = Extract<
  ActivityOutput<typeof activityNames.planDrillLoads>,
  { ok: true }
>["value"][number];

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

  const begin = (bounded = true) =>
    callActivity(context, activityNames.beginDrill, {
      drillId: context.df.instanceId,
      vaultId: input.vaultId,
      backupInstanceName: input.backupInstanceName,
      ...(input.schedule ? { schedule: input.schedule } : {}),
      ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
      at: context.df.currentUtcDateTime.toISOString(),
      // Scheduled or on demand, drills restore a few at a time (DRILL_MAX_CONCURRENT).
      bounded,
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
  if (!begun.ok && begun.code === "DRILLS_AT_CAPACITY" && input.schedule === undefined) {
    // Somebody asked for this drill and it is recorded as running: after six hours of waiting it
    // runs rather than being dropped with its record left running.
    begun = yield* begin(false);
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
  let databases: DrillDatabaseResult[] | undefined;
  let databasesMs: number | undefined;
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
      else if ("databases" in started.value) {
        // A whole server restored database by database, each by its own job (locally): the jobs
        // run at once, bounded by the server's slots, and are followed one after another.
        const restores = started.value.databases;
        context.df.setCustomStatus({
          state: "restoring",
          scratchTarget: drill.scratchTarget,
          databases: restores.length,
        });
        const ended: BackupJob[] = [];
        databases = [];
        for (const restore of restores) {
          const databaseJob = yield* followRestore(context, input.vaultId, restore.jobId, log);
          ended.push(databaseJob);
          databases.push(databaseResultOfJob(restore, databaseJob));
        }
        databasesMs = spanMs(ended);
      } else {
        const { load, wholeServer } = started.value;
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
        } else if (job.status === "Completed" && load && wholeServer) {
          // A whole server restored as files (Azure): one dump per database, each loaded into its
          // own scratch database and verified there, a few at a time.
          const planned = yield* callActivity(context, activityNames.planDrillLoads, {
            containerUrl: load.containerUrl,
            filePrefix: load.filePrefix,
            scratchTarget: drill.scratchTarget,
          });
          if (!planned.ok) error = planned;
          else {
            const before = context.df.currentUtcDateTime.getTime();
            databases = yield* loadDatabases(
              context,
              load,
              planned.value,
              drill.scratchTarget,
              log,
            );
            databasesMs = context.df.currentUtcDateTime.getTime() - before;
          }
        } else if (job.status === "Completed" && load) {
          // Restored as files (Azure): loaded into the scratch database and verified there. The
          // drill's id names the load, so a retry after a crash finds its own database.
          context.df.setCustomStatus({ state: "loading", scratchTarget: drill.scratchTarget });
          const single = yield* callActivity(context, activityNames.loadRestoredFiles, {
            loadId: context.df.instanceId,
            ...load,
          });
          if (single.ok)
            loaded = { verification: single.value.verification, seconds: single.value.seconds };
          else {
            error = {
              code: single.code,
              message: single.message,
              ...(single.recommendedAction ? { recommendedAction: single.recommendedAction } : {}),
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
    ...(databases ? { databases } : {}),
    ...(databasesMs === undefined ? {} : { databasesMs }),
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

/**
 * Loads each database's dump into its own scratch database, {@link drillLoadsAtOnce} at a time,
 * and answers each database's result; one that fails does not stop the others.
 *
 * @remarks One `loadRestoredFiles` activity per database rather than one for all: each retry (a
 * transient failure, or a host that died mid-load and replays) redoes one database's load, and
 * no activity runs longer than one database's load. Each load is named by the drill's id and the
 * database (its `loadId`), so a replay finds its own temporary and finished databases. A batch is
 * one `Task.all` of `Task.any([load])`, yielded once: `Task.any` ends when its load ends, failed or
 * not, so a load that fails after its retries neither fails the batch early nor leaves a sibling
 * loading while the scratch databases are removed.
 */
function* loadDatabases(
  context: OrchestrationContext,
  load: NonNullable<LoadRequest>,
  planned: readonly PlannedLoad[],
  scratchTarget: string,
  log: EventLogger,
): Generator<Task, DrillDatabaseResult[], unknown> {
  const results: DrillDatabaseResult[] = [];
  for (let offset = 0; offset < planned.length; offset += drillLoadsAtOnce) {
    const batch = planned.slice(offset, offset + drillLoadsAtOnce);
    context.df.setCustomStatus({
      state: "loading",
      scratchTarget,
      done: offset,
      total: planned.length,
    });
    const loads = batch.map((database) =>
      scheduleActivity(context, activityNames.loadRestoredFiles, {
        loadId: `${context.df.instanceId}/${database.databaseName}`,
        ...load,
        sourceDatabaseName: database.databaseName,
        databaseName: database.scratchTarget,
      }),
    );
    yield context.df.Task.all(loads.map((one) => context.df.Task.any([one.task])));
    batch.forEach((database, index) => {
      const one = loads[index];
      if (one) results.push(loadResult(database, one));
    });
    log.emit(logEvents.orchestrationStepCompleted, {
      orchestration: orchestrationNames.restoreDrill,
      step: "loadDatabases",
      status: "done",
      detail: `${results.length} of ${planned.length} databases, ${results.filter((r) => r.verdict === "Failed").length} failed`,
    });
  }
  return results;
}

/** One database's result from its load. */
function loadResult(
  database: PlannedLoad,
  load: ScheduledActivity<typeof activityNames.loadRestoredFiles>,
): DrillDatabaseResult {
  const base = { databaseName: database.databaseName, scratchTarget: database.scratchTarget };
  let answer: ReturnType<typeof load.answer>;
  try {
    answer = load.answer();
  } catch (thrown) {
    return { ...base, verdict: "Failed", error: failure("DRILL_FAILED", thrown) };
  }
  if (!answer.ok) {
    return {
      ...base,
      verdict: "Failed",
      error: {
        code: answer.code,
        message: answer.message,
        ...(answer.recommendedAction ? { recommendedAction: answer.recommendedAction } : {}),
      },
    };
  }
  const { verification, seconds } = answer.value;
  return {
    ...base,
    verdict: verification.verified ? "Succeeded" : "Failed",
    verification,
    seconds: Math.round((seconds.download + seconds.load + seconds.verify) * 10) / 10,
    ...(verification.verified
      ? {}
      : {
          error: {
            code: "RESTORE_VERIFICATION_FAILED" as const,
            message: `The restored data differ from the recovery point: ${verification.mismatches.join("; ")}`,
          },
        }),
  };
}

/** Milliseconds from the first job's start to the last one's end, when every one ended. */
function spanMs(jobs: readonly BackupJob[]): number | undefined {
  const starts = jobs.map((j) => Date.parse(j.startTime));
  const ends = jobs.map((j) => (j.endTime === undefined ? Number.NaN : Date.parse(j.endTime)));
  if (jobs.length === 0 || [...starts, ...ends].some((t) => !Number.isFinite(t))) return undefined;
  return Math.max(0, Math.max(...ends) - Math.min(...starts));
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
