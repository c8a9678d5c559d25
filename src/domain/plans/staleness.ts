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
  /**
   * When protection was configured as the service reports it (ISO 8601). A service that gives no
   * creation time leaves a stand-in (when the instance was read) or nothing.
   */
  readonly protectedSince?: string;
  /**
   * When the app saw protection configured (ISO 8601): the completion of the operation that
   * configured it, when the app ran one.
   */
  readonly configuredAt?: string;
  /** When the last successful backup ended (ISO 8601), if ever. */
  readonly lastSuccessfulBackupTime?: string;
  /** The policy's period (ISO 8601 duration). */
  readonly expectedEvery: string;
  /** A configured period replacing `expectedEvery` plus the grace (ISO 8601 duration). */
  readonly staleAfter?: string;
}

/** The moment the overdue clock starts, or `undefined` when no time is known. */
function startOfClock(input: StalenessInput): number | undefined {
  if (input.lastSuccessfulBackupTime !== undefined) {
    const last = Date.parse(input.lastSuccessfulBackupTime);
    if (!Number.isNaN(last)) return last;
  }
  const known = [input.protectedSince, input.configuredAt]
    .map((time) => (time === undefined ? Number.NaN : Date.parse(time)))
    .filter((time) => !Number.isNaN(time));
  return known.length === 0 ? undefined : Math.min(...known);
}

function durationOf(text: string): IsoDuration {
  const duration = parseIsoDuration(text);
  if (!duration) throw new RangeError(`'${text}' is not an ISO 8601 duration`);
  return duration;
}

/**
 * The moment a backup instance became overdue, or `undefined` while it is not.
 *
 * @remarks Counted from the last success, or, when there was none, from the earliest known moment
 * protection was configured: the service's creation time or the app's own record of configuring
 * it. The earliest wins because a service that omits the creation time leaves the time the
 * instance was read in its place, which moves on every read and would never fall due; the
 * app's record does not move, so the same missed backup always has the same `overdueSince` (and
 * its event the same id).
 */
export function overdueSince(input: StalenessInput, now: Date): string | undefined {
  const base = startOfClock(input);
  if (base === undefined) return undefined;
  const due = input.staleAfter
    ? addDuration(base, durationOf(input.staleAfter))
    : addDuration(addDuration(base, durationOf(input.expectedEvery)), durationOf(overdueGrace));
  return due <= now.getTime() ? new Date(due).toISOString() : undefined;
}
