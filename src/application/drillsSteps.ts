/**
 * The steps of a restore drill that do I/O, each run by one activity of the `restoreDrill`
 * orchestration: begin (pick the latest recovery point, record the drill, one per instance at a
 * time, each in its turn under `DRILL_MAX_CONCURRENT`), sweep leftover scratch targets, start the
 * scratch restore (after the vault identity's role on a drill container is checked), plan a whole
 * server's loads (one scratch database per database), remove the scratch target, and finish
 * (record the verdict and the time to restore, publish the drill's event).
 */
import {
  abandonedDrillAfterMs,
  combinedVerification,
  databaseScratchName,
  databasesFailure,
  keptDatabaseResult,
  missingDatabases,
  scratchDatabaseName,
  type DrillDatabaseResult,
  type DrillFailure,
  type DrillRecord,
} from "../domain/drills/drill.js";
import { restoreDrillEvent } from "../domain/events/drillEvents.js";
import { AppError, isAppError } from "../domain/errors.js";
import { parseVaultId } from "../domain/protection/ids.js";
import type { BackupJob } from "../domain/protection/types.js";
import type { DrillTargetPort, LoadedDatabase, ScratchRestoreStarted } from "../providers/ports.js";
import { isServerKind } from "./backupInstances.js";
import type { ApplicationDependencies } from "./dependencies.js";
import { checkRestoreStorageRole, restoreStorageScope } from "./restore.js";
import { listRestoredDatabases } from "./restoreToServer.js";

/** Drills that run at a time when `DRILL_MAX_CONCURRENT` is not set. */
export const defaultMaxConcurrentDrills = 2;

/** What the steps need. */
export type DrillStepDependencies = Pick<
  ApplicationDependencies,
  "provider" | "events" | "eventSource" | "drills"
> & {
  /** Drills that may run at a time (`DRILL_MAX_CONCURRENT`); unbounded when absent. */
  readonly maxConcurrentDrills?: number | undefined;
  /**
   * Whether a drill grants the vault identity's missing role on the drill container
   * (`AUTO_GRANT_ROLE_ASSIGNMENTS`) rather than failing for it; false by default.
   */
  readonly autoGrantRoleAssignments?: boolean | undefined;
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
  /** Whether the drill waits its turn under `DRILL_MAX_CONCURRENT` (every drill the orchestration begins). */
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
    // A drill on demand was recorded as running when it was asked for (its status URL answers at
    // once), so the record cannot bound it: it takes its turn among the running drills instead.
    const onDemand = input.schedule === undefined;
    const begun = await deps.drills.beginDrill(
      base,
      bound === undefined || onDemand ? {} : { maxRunning: bound },
    );
    if (!begun.begun && "running" in begun) throw drillRunning(begun.running);
    if (!begun.begun) throw atCapacity(begun.atCapacity);
    if (bound !== undefined && onDemand) {
      const ahead = await drillsAhead(deps.drills, base);
      if (ahead >= bound) throw atCapacity(bound);
    }
  }
  return { drill: base };
}

function atCapacity(running: number): AppError {
  return new AppError(
    "DRILLS_AT_CAPACITY",
    `${running} restore drills run already (DRILL_MAX_CONCURRENT); this one waits its turn`,
    { httpStatus: 409 },
  );
}

/**
 * How many running drills go before `drill`: those begun earlier (then by id), not abandoned.
 * First come, first served: a drill goes on when fewer than `DRILL_MAX_CONCURRENT` are ahead.
 */
async function drillsAhead(
  history: NonNullable<DrillStepDependencies["drills"]>,
  drill: DrillRecord,
): Promise<number> {
  const running = await history.runningDrills();
  const own = running.find((other) => other.id === drill.id) ?? drill;
  const at = Date.parse(own.startTime);
  return running.filter((other) => {
    if (other.id === own.id) return false;
    const started = Date.parse(other.startTime);
    if (started <= at - abandonedDrillAfterMs) return false;
    return started < at || (started === at && other.id < own.id);
  }).length;
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
  const targets = drillTargets(deps);
  // Everything that may fail goes before the restore starts: a failure after it would start a
  // second restore into the same files when the activity is retried.
  let wholeServer = false;
  if (targets.filesTarget) {
    await checkDrillStorageRole(deps, input.vaultId, targets.filesTarget);
    wholeServer = isServerKind(
      await deps.provider.backup.getBackupInstance(input.vaultId, input.backupInstanceName),
    );
  }
  const started = await targets.startScratchRestore(
    input.vaultId,
    input.backupInstanceName,
    input.recoveryPointId,
    input.scratchTarget,
  );
  if ("databases" in started) return { databases: started.databases };
  return {
    jobId: started.jobId,
    ...(started.load ? { load: started.load } : {}),
    ...(started.load && wholeServer ? { wholeServer: true } : {}),
  };
}

/**
 * Checks, as a restore as files does, that the vault's identity holds Storage Blob Data
 * Contributor on the drill container (granting it with `AUTO_GRANT_ROLE_ASSIGNMENTS`), before a
 * restore job that would fail for it is started.
 *
 * @throws AppError `MISSING_REQUIRED_PERMISSIONS` naming the command that grants the role;
 * `RESTORE_STORAGE_ACCOUNT_REQUIRED` when the container's storage account cannot be told.
 */
async function checkDrillStorageRole(
  deps: DrillStepDependencies,
  vaultId: string,
  target: NonNullable<DrillTargetPort["filesTarget"]>,
): Promise<void> {
  try {
    const storageScope = await restoreStorageScope(
      deps,
      vaultId,
      {
        backupInstanceName: "",
        targetContainerUrl: target.containerUrl,
        targetStorageAccountId: target.storageScope,
      },
      // What a restore's answer lists as checked: a drill's step answers none.
      [],
    );
    await checkRestoreStorageRole(deps, vaultId, storageScope, {
      autoGrantRoleAssignments: deps.autoGrantRoleAssignments ?? false,
    });
  } catch (error) {
    // A drill's container is a setting, not a request's field: say which setting names it.
    if (isAppError(error) && error.code === "RESTORE_STORAGE_ACCOUNT_REQUIRED") {
      throw new AppError(error.code, error.message, {
        httpStatus: error.httpStatus,
        cause: error,
        recommendedAction:
          "Set DRILL_STORAGE_ACCOUNT_ID to the ARM id of the drill container's storage account (or of the container)",
      });
    }
    throw error;
  }
}

/** One database of a whole server's restored files, and the scratch database it loads into. */
export interface PlannedLoad {
  readonly databaseName: string;
  readonly scratchTarget: string;
}

/**
 * The loads of a whole server's drill: one per database whose dump the restore wrote, each into
 * its own scratch database, named from the drill's scratch name and the database's.
 *
 * @throws NotFoundError `RESTORED_FILES_NOT_FOUND` when the restore wrote no dump.
 */
export async function planDrillLoads(
  deps: DrillStepDependencies,
  input: {
    readonly containerUrl: string;
    readonly filePrefix: string;
    readonly scratchTarget: string;
  },
): Promise<PlannedLoad[]> {
  const databases = await listRestoredDatabases(deps.provider, input);
  return databases.map((databaseName) => ({
    databaseName,
    scratchTarget: databaseScratchName(input.scratchTarget, databaseName),
  }));
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
  readonly error?: DrillFailure;
  /**
   * The scratch database loaded from the restore's files and verified, where the restore landed
   * as files (Azure): its verification is the drill's, and its time counts in the time to restore.
   */
  readonly loaded?: Pick<LoadedDatabase, "verification" | "seconds">;
  /**
   * A whole server's drill: each database's result. The drill succeeds only when every one did;
   * its verification sums theirs.
   */
  readonly databases?: readonly DrillDatabaseResult[];
  /**
   * Milliseconds the databases took after the restore job, all of them (Azure: their loads), or,
   * where each database had its own job (locally), from the first job's start to the last one's end.
   */
  readonly databasesMs?: number;
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
  const databases = input.databases?.map(keptDatabaseResult);
  const verification = databases
    ? combinedVerification(databases)
    : (input.loaded?.verification ?? job?.restoreVerification);
  const jobError = job?.errorDetails?.[0];
  const error =
    input.error ??
    (databases ? databasesFailure(databases) : undefined) ??
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
  // A whole server restored by one job per database has no drill job: its databases speak.
  const restored = job
    ? job.status === "Completed"
    : databases !== undefined && databases.length > 0;
  const succeeded = error === undefined && restored && (verification?.verified ?? true);
  const failure = succeeded
    ? undefined
    : (error ?? {
        code: "DRILL_FAILED" as const,
        message: "The drill did not end in a verified restore",
      });
  const jobMs = job && job.status === "Completed" ? durationOf(job) : undefined;
  // Job start to verified: the job's time, then the load's download, pg_restore and verification
  // (a whole server's: all its databases').
  const loadMs = input.loaded
    ? Math.round(
        (input.loaded.seconds.download + input.loaded.seconds.load + input.loaded.seconds.verify) *
          1000,
      )
    : (input.databasesMs ?? 0);
  const timeToRestoreMs = job
    ? jobMs === undefined
      ? undefined
      : jobMs + loadMs
    : input.databasesMs;
  return {
    ...input.drill,
    verdict: succeeded ? "Succeeded" : "Failed",
    endTime: input.at,
    ...(job ? { restoreJobId: job.id } : {}),
    ...(databases ? { databases } : {}),
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
  const missing =
    input.databases && deps.drills
      ? missingDatabases(
          await previousServerDrill(deps.drills, input.drill),
          input.drill,
          input.databases,
        )
      : [];
  const drill = drillOutcome(
    missing.length > 0 ? { ...input, databases: [...(input.databases ?? []), ...missing] } : input,
  );
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

/**
 * The instance's last ended drill that got as far as its databases (a whole server's), other than
 * `drill`: what the databases of this one are held against.
 */
async function previousServerDrill(
  history: NonNullable<DrillStepDependencies["drills"]>,
  drill: DrillRecord,
): Promise<DrillRecord | undefined> {
  const page = await history.queryDrills({
    instance: drill.backupInstanceId,
    verdict: ["Succeeded", "Failed"],
    top: 20,
  });
  return page.value.find((other) => other.id !== drill.id && other.databases !== undefined);
}
