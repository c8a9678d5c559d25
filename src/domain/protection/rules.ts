/**
 * Service rules the orchestrator must know rather than discover by failing.
 */
import { ErrorCodes } from "../errorCodes.js";
import { AppError } from "../errors.js";
import { FLEXIBLE_SERVER_DATASOURCE_TYPE } from "./naming.js";

/**
 * Code of the failure a second backup in one week gets on a Flexible Server instance.
 *
 * @remarks The service documents the behaviour ("only the first backup operation of the week is
 * executed, and the subsequent backup jobs in the same week fail") but not a code; this is the
 * code pgprotect reports for it (one of the catalogue's).
 */
export const WEEKLY_BACKUP_LIMIT_CODE = ErrorCodes.BACKUP_LIMIT_PER_WEEK_REACHED;

const DAY_MS = 86_400_000;

/**
 * The start (Monday 00:00 UTC, ISO 8601 week) of the week an instant falls in.
 */
export function weekStartUtc(at: Date): Date {
  const midnight = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
  const daysSinceMonday = (at.getUTCDay() + 6) % 7;
  return new Date(midnight - daysSinceMonday * DAY_MS);
}

/**
 * Checks the one-backup-a-week rule before a backup of a Flexible Server instance runs.
 *
 * @param datasourceType - the instance's datasource type; other types have no weekly limit.
 * @param backupStartTimes - start times of the instance's backups that count (completed or running).
 * @param now - when the new backup would start.
 * @returns the error the service's job would fail with, or `undefined` when the backup may run.
 */
export function weeklyBackupLimitViolation(
  datasourceType: string,
  backupStartTimes: readonly Date[],
  now: Date,
): AppError | undefined {
  if (datasourceType.toLowerCase() !== FLEXIBLE_SERVER_DATASOURCE_TYPE.toLowerCase())
    return undefined;
  const weekStart = weekStartUtc(now).getTime();
  const weekEnd = weekStart + 7 * DAY_MS;
  const earlier = backupStartTimes.find((t) => t.getTime() >= weekStart && t.getTime() < weekEnd);
  if (!earlier) return undefined;
  return new AppError(
    WEEKLY_BACKUP_LIMIT_CODE,
    `A backup of this Flexible Server already ran this week (at ${earlier.toISOString()}); only one backup a week is allowed`,
    {
      httpStatus: 409,
      retryable: false,
      recommendedAction: `Wait until ${new Date(weekEnd).toISOString()} or rely on the backup already taken this week`,
    },
  );
}
