/**
 * The steps of a restore drill that do I/O, each run by one activity of the `restoreDrill`
 * orchestration: begin (pick the latest recovery point, record the drill, one per instance at a
 * time), sweep leftover scratch targets, start the scratch restore, remove the scratch target, and
 * finish (record the verdict and the time to restore, publish the drill's event).
 */
import { scratchDatabaseName, type DrillRecord } from "../domain/drills/drill.js";
import { restoreDrillEvent } from "../domain/events/drillEvents.js";
import { AppError, isAppError } from "../domain/errors.js";
import type { ErrorCode } from "../domain/errorCodes.js";
import { parseVaultId } from "../domain/protection/ids.js";
import type { BackupJob } from "../domain/protection/types.js";
import type { DrillTargetPort, LoadedDatabase, ScratchRestoreStarted } from "../providers/ports.js";
import type { ApplicationDependencies } from "./dependencies.js";

/** Scheduled drills that run at a time when `DRILL_MAX_CONCURRENT` is not set. */
export const defaultMaxConcurrentDrills = 2;

/** What the steps need. */
export type DrillStepDependencies = Pick<
  ApplicationDependencies,
  "provider" | "events" | "eventSource" | "drills"
> & {
  /** Scheduled drills that may run at a time (`DRILL_MAX_CONCURRENT`); unbounded when absent. */
  readonly maxConcurrentDrills?: number | undefined;
};

/** Input of the first step. */
export interface BeginDrillInput {
  /** The drill's id: its orchestration instance id. */
  readonly drillId: string;
  readonly vaultId: string;
  readonly backupInstanceName: string;
  readonly schedule?: string;
  readonly requestedBy?: string;
  /** The orchestration's time (ISO 8601): the drill's start. */
  readonly at: string;
  /** Whether the drill waits its turn under `DRILL_MAX_CONCURRENT` (scheduled drills do). */
  readonly bounded?: boolean;
}

/**
 * The drill as begun: running, with the recovery point to restore, or already failed (nothing to
 * restore) and to be finished as such.
 */
export interface BegunDrill {
  readonly drill: DrillRecord;
}

/** The provider's drill port, or the refusal of a provider that has none. */
export function drillTargets(deps: Pick<ApplicationDependencies, "provider">): DrillTargetPort {
  const targets = deps.provider.drills;
  if (!targets) {
    throw new AppError(
      "DRILL_NOT_SUPPORTED",
      "This provider has no scratch target to restore drills into",
      {
        httpStatus: 501,
        recommendedAction:
          "In Azure, set DRILL_CONTAINER_URL and DRILL_SERVER_SECRET_URI (a drill container and a scratch server); or restore into a database by hand",
      },
    );
  }
  return targets;
}

/** The refusal of a second drill of an instance. */
export function drillRunning(running: DrillRecord): AppError {
  return new AppError(
    "DRILL_RUNNING",
    `A restore drill of '${running.friendlyName}' runs since ${running.startTime} (${running.id}); one runs at a time`,
    {
      httpStatus: 409,
      recommendedAction: `Follow it at GET /api/drills/${running.id}, then start another`,
    },
  );
}

/**
 * Reads the instance and its latest recovery point and records the drill as running.
 *
 * @throws AppError `DRILL_RUNNING` when another drill of the instance runs; `DRILLS_AT_CAPACITY`
 * when a bounded drill finds `DRILL_MAX_CONCURRENT` drills running;
 * `BACKUP_INSTANCE_NOT_FOUND` (404) for an instance that is gone.
 */
export async function beginDrill(
  deps: DrillStepDependencies,
  input: BeginDrillInput,
): Promise<BegunDrill> {
  const { backup } = deps.provider;
  const instance = await backup.getBackupInstance(input.vaultId, input.backupInstanceName);
  const points = await backup.listRecoveryPoints(input.vaultId, instance.name);
  const latest = points.at(-1);
  const base: DrillRecord = {
    id: input.drillId,
    backupInstanceId: instance.id,
    backupInstanceName: instance.name,
    friendlyName: instance.friendlyName,
    vaultName: parseVaultId(input.vaultId).vaultName,
    datasourceId: instance.dataSourceInfo.resourceId,
    datasourceName: instance.dataSourceInfo.resourceName,
    ...(input.schedule ? { schedule: input.schedule } : {}),
    ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
    verdict: "InProgress",
    startTime: input.at,
    scratchTarget: scratchDatabaseName(input.drillId),
    ...(latest
      ? {
          recoveryPointId: latest.recoveryPointId,
          recoveryPointTime: latest.recoveryPointTime,
        }
      : {}),
  };
  if (deps.drills) {
    const bound = input.bounded ? deps.maxConcurrentDrills : undefined;
    const begun = await deps.drills.beginDrill(
      base,
      bound === undefined ? {} : { maxRunning: bound },
    );
    if (!begun.begun && "running" in begun) throw drillRunning(begun.running);
    if (!begun.begun) {
      throw new AppError(
        "DRILLS_AT_CAPACITY",
        `${begun.atCapacity} restore drills run already (DRILL_MAX_CONCURRENT); this one waits its turn`,
        { httpStatus: 409 },
      );
    }
  }
  return { drill: base };
}

/**
 * Drops scratch targets no running drill holds: those of drills cut off by a crash, a stop or a
 * terminated orchestration. Answers the names dropped.
 */
export async function sweepScratchTargets(deps: DrillStepDependencies): Promise<string[]> {
  const targets = deps.provider.drills;
  if (!targets) return [];
  const running = deps.drills ? await deps.drills.runningDrills() : [];
  return targets.removeScratchTargets({ keep: running.map((drill) => drill.scratchTarget) });
}

/** Input of the scratch restore. */
export interface ScratchRestoreInput {
  readonly vaultId: string;
  readonly backupInstanceName: string;
  readonly recoveryPointId: string;
  readonly scratchTarget: string;
}

/**
 * Starts restoring the recovery point into the scratch target; answers the restore job's id and,
 * where the restore lands as files (Azure), what to load into the scratch database once it ends.
 */
export async function startScratchRestore(
  deps: DrillStepDependencies,
  input: ScratchRestoreInput,
): Promise<ScratchRestoreStarted> {
  const reference = await drillTargets(deps).startScratchRestore(
    input.vaultId,
    input.backupInstanceName,
    input.recoveryPointId,
    input.scratchTarget,
  );
  return { jobId: reference.jobId, ...(reference.load ? { load: reference.load } : {}) };
}

/** Removes a drill's scratch target (nothing to do when it is gone already). */
export async function removeScratchTarget(
  deps: DrillStepDependencies,
  scratchTarget: string,
): Promise<{ removed: boolean }> {
  const removed = await drillTargets(deps).removeScratchTargets({ scratchName: scratchTarget });
  return { removed: removed.length > 0 };
}

/** How a drill ended, as the orchestration saw it. */
export interface FinishDrillInput {
  readonly drill: DrillRecord;
  /** The restore job as it ended, when one started. */
  readonly job?: BackupJob;
  /** Why the drill failed before or beside its job. */
  readonly error?: {
    readonly code: ErrorCode;
    readonly message: string;
    readonly recommendedAction?: string;
  };
  /**
   * The scratch database loaded from the restore's files and verified, where the restore landed
   * as files (Azure): its verification is the drill's, and its time counts in the time to restore.
   */
  readonly loaded?: Pick<LoadedDatabase, "verification" | "seconds">;
  /** Whether the scratch target was removed. */
  readonly scratchRemoved: boolean;
  /** The orchestration's time (ISO 8601): the drill's end. */
  readonly at: string;
}

function durationOf(job: BackupJob): number | undefined {
  if (job.endTime === undefined) return undefined;
  const ms = Date.parse(job.endTime) - Date.parse(job.startTime);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/** The drill's verdict and figures from its job and what went wrong. */
export function drillOutcome(input: FinishDrillInput): DrillRecord {
  const { job } = input;
  const verification = input.loaded?.verification ?? job?.restoreVerification;
  const jobError = job?.errorDetails?.[0];
  const error =
    input.error ??
    (jobError
      ? {
          code: jobError.code,
          message: jobError.message,
          ...(jobError.recommendedAction?.length
            ? { recommendedAction: jobError.recommendedAction.join(" ") }
            : {}),
        }
      : job && job.status !== "Completed"
        ? { code: "DRILL_FAILED" as const, message: `The drill's restore job ended ${job.status}` }
        : verification && !verification.verified
          ? {
              code: "RESTORE_VERIFICATION_FAILED" as const,
              message: `The restored data differ from the recovery point: ${verification.mismatches.join("; ")}`,
            }
          : undefined);
  const succeeded =
    error === undefined && job?.status === "Completed" && (verification?.verified ?? true);
  const failure = succeeded
    ? undefined
    : (error ?? {
        code: "DRILL_FAILED" as const,
        message: "The drill did not end in a verified restore",
      });
  const jobMs = job && job.status === "Completed" ? durationOf(job) : undefined;
  // Job start to verified: the job's time, then the load's download, pg_restore and verification.
  const loadMs = input.loaded
    ? Math.round(
        (input.loaded.seconds.download + input.loaded.seconds.load + input.loaded.seconds.verify) *
          1000,
      )
    : 0;
  const timeToRestoreMs = jobMs === undefined ? undefined : jobMs + loadMs;
  return {
    ...input.drill,
    verdict: succeeded ? "Succeeded" : "Failed",
    endTime: input.at,
    ...(job ? { restoreJobId: job.id } : {}),
    ...(timeToRestoreMs === undefined ? {} : { timeToRestoreMs }),
    ...(verification ? { verification } : {}),
    ...(failure ? { error: failure } : {}),
    scratchRemoved: input.scratchRemoved,
  };
}

/**
 * Records how the drill ended and publishes `PgProtect.Restore.DrillSucceeded` or
 * `PgProtect.Restore.DrillFailed` (one id per drill: a repeat notifies no one twice).
 */
export async function finishDrill(
  deps: DrillStepDependencies,
  input: FinishDrillInput,
): Promise<DrillRecord> {
  const drill = drillOutcome(input);
  if (deps.drills) await deps.drills.finishDrill(drill);
  const tags = await deps.provider.directory.getTags(drill.datasourceId).catch((error: unknown) => {
    // A datasource that is gone has no tags to route by; the event still goes to untagged rules.
    if (isAppError(error) && error.httpStatus === 404) return undefined;
    throw error;
  });
  await deps.events.publish([
    restoreDrillEvent(drill, {
      source: deps.eventSource,
      ...(tags ? { datasourceTags: tags } : {}),
    }),
  ]);
  return drill;
}
