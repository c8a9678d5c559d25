/**
 * Stale protection: a protected datasource whose last successful backup is older than its policy
 * promises. The expected period is the policy's repeating interval (`P1W` for the weekly
 * PostgreSQL schedules) plus a day of grace, so a weekly policy is overdue after 8 days; a
 * configured period replaces the derived one.
 */
import { addDuration, parseIsoDuration, type IsoDuration } from "../policy/duration.js";
import { backupRuleOf, parseRepeatingInterval } from "../policy/schedule.js";
import type { BackupPolicy } from "../policy/types.js";

/** The grace added to a policy's period before a backup counts as missed. */
export const overdueGrace = "P1D";

/** The period a policy promises a backup in (`P1W`), or `undefined` when it has no usable schedule. */
export function expectedBackupPeriod(policy: BackupPolicy): string | undefined {
  try {
    const [first] = backupRuleOf(policy).trigger.schedule.repeatingTimeIntervals;
    const interval = first === undefined ? undefined : parseRepeatingInterval(first);
    return interval?.text.split("/").at(-1);
  } catch {
    return undefined;
  }
}

/** What the staleness check needs of one backup instance. */
export interface StalenessInput {
  /** When protection was configured (ISO 8601). */
  readonly protectedSince: string;
  /** When the last successful backup ended (ISO 8601), if ever. */
  readonly lastSuccessfulBackupTime?: string;
  /** The policy's period (ISO 8601 duration). */
  readonly expectedEvery: string;
  /** A configured period replacing `expectedEvery` plus the grace (ISO 8601 duration). */
  readonly staleAfter?: string;
}

function durationOf(text: string): IsoDuration {
  const duration = parseIsoDuration(text);
  if (!duration) throw new RangeError(`'${text}' is not an ISO 8601 duration`);
  return duration;
}

/**
 * The moment a backup instance became overdue, or `undefined` while it is not.
 *
 * @remarks Counted from the last success, or from when protection began when there was none, so
 * the same missed backup always has the same `overdueSince` (and its event the same id).
 */
export function overdueSince(input: StalenessInput, now: Date): string | undefined {
  const base = Date.parse(input.lastSuccessfulBackupTime ?? input.protectedSince);
  if (Number.isNaN(base)) return undefined;
  const due = input.staleAfter
    ? addDuration(base, durationOf(input.staleAfter))
    : addDuration(addDuration(base, durationOf(input.expectedEvery)), durationOf(overdueGrace));
  return due <= now.getTime() ? new Date(due).toISOString() : undefined;
}
