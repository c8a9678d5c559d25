/**
 * Whether one more backup of a backup instance may start now: the one home of the guard that
 * `POST .../backups`, backup plans and the `checkWeeklyLimit` activity apply.
 */
import { AppError } from "../domain/errors.js";
import { BACKUP_IN_PROGRESS_CODE } from "../domain/protection/backupConcurrency.js";
import { weeklyBackupLimitViolation } from "../domain/protection/rules.js";
import type { BackupInstance, BackupJob } from "../domain/protection/types.js";
import type { JobPort } from "../providers/ports.js";

/** What stands in the way of a backup, or nothing. */
export type BackupAdmission =
  | { readonly admitted: true }
  | {
      readonly admitted: false;
      readonly reason: "running";
      readonly running: BackupJob;
      readonly error: AppError;
    }
  | { readonly admitted: false; readonly reason: "weeklyLimit"; readonly error: AppError };

/** The refusal of a second backup while one runs (the local provider raises the same). */
export function backupRunning(instanceName: string, running: BackupJob): AppError {
  return new AppError(
    BACKUP_IN_PROGRESS_CODE,
    `Backup instance '${instanceName}' has a backup running: job ${running.name} (${running.operation}, started ${running.startTime}); one backup runs at a time`,
    {
      httpStatus: 409,
      recommendedAction: `Follow the running job (GET /api/jobs/${running.name}) and ask again once it has ended`,
    },
  );
}

/**
 * Whether a backup of `instance` may start at `at`: none of its backups runs, and (a whole
 * Flexible Server) none ran in the same week. One listing of its jobs answers both.
 *
 * @remarks A running backup is the answer to give before the weekly limit it will use up. What to
 * do with a refusal is the caller's: a request refuses, a plan skips.
 */
export async function backupAdmission(
  jobs: Pick<JobPort, "listJobs">,
  vaultId: string,
  instance: Pick<BackupInstance, "name" | "dataSourceInfo">,
  at: Date,
  options: {
    /**
     * Whether to apply the weekly limit here; `false` where the orchestration applies it with a
     * mode of its own (a plan skips a week whose backup was taken).
     */
    readonly weeklyLimit?: boolean;
  } = {},
): Promise<BackupAdmission> {
  const earlier = await jobs.listJobs(vaultId, {
    backupInstanceName: instance.name,
    operation: ["OnDemandBackup", "ScheduledBackup"],
    status: ["InProgress", "Completed"],
  });
  const running = earlier.find((job) => job.status === "InProgress");
  if (running)
    return {
      admitted: false,
      reason: "running",
      running,
      error: backupRunning(instance.name, running),
    };
  if (options.weeklyLimit === false) return { admitted: true };
  const violation = weeklyBackupLimitViolation(
    instance.dataSourceInfo.datasourceType,
    earlier.map((job) => new Date(job.startTime)),
    at,
  );
  return violation
    ? { admitted: false, reason: "weeklyLimit", error: violation }
    : { admitted: true };
}
