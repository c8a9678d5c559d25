/**
 * A job as the local service stores it: the service's fields plus what a later process needs to
 * tell a live job from an orphan and to run it again.
 */
import { normalizeCode, serviceCodeOf } from "../../../domain/errorCodes.js";
import type { AppError } from "../../../domain/errors.js";
import type {
  BackupJob,
  RecoveryPointStoreType,
  ServiceErrorDetail,
} from "../../../domain/protection/types.js";

/** Who runs a job, so that a later process can tell a live job from an orphan. */
export interface JobRunner {
  readonly pid: number;
  readonly instance: string;
}

/** A PostgreSQL tool a job runs; a later process stops it when the job's process died. */
export interface JobTool {
  readonly pid: number;
  /** The tool's base name, checked against `/proc/<pid>/cmdline` before it is stopped. */
  readonly program: string;
}

/** Every tool a job's record names as running, each once. */
export function toolsOf(job: StoredJob | undefined): JobTool[] {
  const all = [...(job?.tools ?? []), ...(job?.tool ? [job.tool] : [])];
  return all.filter((tool, index) => all.findIndex((t) => t.pid === tool.pid) === index);
}

/** What a job does, kept so that a later process can run it again. */
export type JobWork =
  | { readonly kind: "backup"; readonly dataStore: RecoveryPointStoreType }
  | {
      readonly kind: "restoreToDatabase";
      readonly store: RecoveryPointStoreType;
      readonly targetDatabaseId: string;
      readonly secretUri?: string;
      /** A whole server's recovery point: the database whose dump is restored. */
      readonly sourceDatabaseName?: string;
      /** Set just before CREATE DATABASE: only a database this job created is dropped. */
      readonly creatingDatabase?: boolean;
    }
  | {
      readonly kind: "restoreAsFiles";
      readonly store: RecoveryPointStoreType;
      readonly destination: string;
      readonly prefix: string;
      /** Set once the targets were found free: only files this job wrote are removed. */
      readonly writingFiles?: boolean;
    };

/** A job as stored: the service's fields plus the provider's bookkeeping. */
export type StoredJob = BackupJob & {
  readonly runner?: JobRunner;
  readonly work?: JobWork;
  /** The tool started last of those running (what a record of an earlier version holds alone). */
  readonly tool?: JobTool;
  /** Every tool the job runs now: a whole server's dumps run several at a time. */
  readonly tools?: readonly JobTool[];
  /** When the running attempt started (the job's `startTime` is its first attempt's). */
  readonly attemptStartTime?: string;
  /** Set when a graceful stop cut the attempt off: why, for the next attempt's record. */
  readonly stopReason?: string;
};

/** Attempts a job gets in all; a job cut off this often ends `Failed` (`UserErrorJobInterrupted`). */
export const maxJobAttempts = 3;

/** A job without the provider's bookkeeping. */
export function publicJob(job: StoredJob): BackupJob {
  const {
    runner: _runner,
    work: _work,
    tool: _tool,
    tools: _tools,
    attemptStartTime: _attemptStartTime,
    stopReason: _stopReason,
    errorDetails,
    ...rest
  } = job;
  return { ...rest, ...(errorDetails ? { errorDetails: errorDetails.map(currentDetail) } : {}) };
}

/**
 * A job's error in the catalogue's terms: a record written before the catalogue holds the
 * service-style code the provider stated then (`UserErrorJobInterrupted`).
 */
function currentDetail(detail: ServiceErrorDetail): ServiceErrorDetail {
  const { code, serviceCode } = normalizeCode(detail.code);
  return {
    ...detail,
    code,
    ...(detail.serviceCode === undefined && serviceCode ? { serviceCode } : {}),
  };
}

/** The recovery point a backup job makes: derived from the job, so a job makes at most one. */
export function recoveryPointIdOf(job: Pick<BackupJob, "name">): string {
  return job.name.toLowerCase().replaceAll("-", "");
}

/** The name of the backup instance a job belongs to (the last segment of its id). */
export function instanceNameOf(job: Pick<BackupJob, "backupInstanceId">): string {
  return job.backupInstanceId.split("/").pop() ?? "";
}

/** ISO 8601 duration between two instants, e.g. `PT12.345S`. */
export function isoDuration(start: Date, end: Date): string {
  return `PT${Math.max(0, (end.getTime() - start.getTime()) / 1000).toFixed(3)}S`;
}

/** Service-style error detail of an AppError. */
export function errorDetail(error: AppError): ServiceErrorDetail {
  // The catalogue's code, with the service's beside it where the failure mirrors one of its own.
  const serviceCode = error.serviceCode ?? serviceCodeOf(error.code);
  return {
    code: error.code,
    ...(serviceCode ? { serviceCode } : {}),
    message: error.message,
    ...(error.recommendedAction ? { recommendedAction: [error.recommendedAction] } : {}),
    isRetryable: error.retryable,
    isUserError: serviceCode?.startsWith("UserError") ?? false,
  };
}
