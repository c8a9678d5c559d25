/** The backup rule's schedule: a time zone and weekly repeating intervals. */
import { ErrorCodes } from "../../errorCodes.js";
import type { DatasourceManifest } from "../datasources.js";
import { frequencyOfInterval, parseRepeatingInterval } from "../schedule.js";
import { resolveTimeZone } from "../timeZone.js";
import { isObject, type PolicyProblems } from "./problems.js";

/**
 * Checks a trigger's schedule: a known time zone, at least one well-formed weekly interval, no
 * two intervals at the same weekday and time, and one interval only for a Flexible Server.
 *
 * @returns the weekdays (0 = Sunday) the well-formed intervals start on, so that tags can be
 * checked against them.
 */
export function validateSchedule(
  schedule: unknown,
  path: string,
  manifest: DatasourceManifest | undefined,
  problems: PolicyProblems,
): Set<number> {
  const weekdays = new Set<number>();
  if (!isObject(schedule)) {
    problems.error(
      path,
      ErrorCodes.SCHEDULE_MISSING,
      "The trigger needs a schedule with repeatingTimeIntervals.",
    );
    return weekdays;
  }
  let zoneOk = true;
  if (schedule.timeZone !== undefined && schedule.timeZone !== null) {
    if (typeof schedule.timeZone !== "string" || !resolveTimeZone(schedule.timeZone)) {
      zoneOk = false;
      problems.error(
        `${path}.timeZone`,
        ErrorCodes.SCHEDULE_TIME_ZONE_INVALID,
        `${JSON.stringify(schedule.timeZone)} is not a time zone; use UTC, an offset such as +05:30, or a zone name.`,
      );
    }
  }
  const intervals = schedule.repeatingTimeIntervals;
  if (!Array.isArray(intervals) || intervals.length === 0) {
    problems.error(
      `${path}.repeatingTimeIntervals`,
      ErrorCodes.SCHEDULE_MISSING,
      "repeatingTimeIntervals must list at least one interval such as R/2021-08-15T22:00:00+00:00/P1W.",
    );
    return weekdays;
  }
  const seen = new Set<string>();
  intervals.forEach((text, i) => {
    const at = `${path}.repeatingTimeIntervals[${i}]`;
    const parsed = typeof text === "string" ? parseRepeatingInterval(text) : undefined;
    if (!parsed) {
      problems.error(
        at,
        ErrorCodes.SCHEDULE_INTERVAL_INVALID,
        `${JSON.stringify(text)} is not a repeating interval like R/2021-08-15T22:00:00+00:00/P1W (start date and time, then the period).`,
      );
      return;
    }
    const frequency = frequencyOfInterval(parsed);
    const weekly = frequency === "Weekly" && parsed.period.weeks + parsed.period.days / 7 === 1;
    if (!weekly) {
      problems.error(
        at,
        ErrorCodes.SCHEDULE_FREQUENCY_UNSUPPORTED,
        `PostgreSQL backups run once a week on the days you choose: the period must be P1W, not ${(text as string).split("/").pop()}.`,
      );
    }
    const zone = zoneOk
      ? resolveTimeZone(typeof schedule.timeZone === "string" ? schedule.timeZone : undefined)
      : undefined;
    const offset = zone?.fixed ? (parsed.offsetMinutes ?? zone.offsetMinutesAt(0)) : 0;
    const weekday = new Date(parsed.startWallMs).getUTCDay();
    const key = `${weekday}@${(parsed.startWallMs - offset * 60_000) % 86_400_000}`;
    if (seen.has(key)) {
      problems.error(
        at,
        ErrorCodes.SCHEDULE_INTERVAL_DUPLICATE,
        "Two intervals fire on the same weekday at the same time; remove one.",
      );
    }
    seen.add(key);
    weekdays.add(weekday);
  });
  if (manifest?.wholeServer && intervals.length > 1) {
    problems.error(
      `${path}.repeatingTimeIntervals`,
      ErrorCodes.SCHEDULE_FLEXIBLE_SERVER_WEEKLY_LIMIT,
      `Azure Backup takes one backup a week of a Flexible Server; the second backup in a week fails. Keep one interval, not ${intervals.length}.`,
    );
  }
  return weekdays;
}
