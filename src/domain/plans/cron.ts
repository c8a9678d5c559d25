/**
 * Backup plans' schedules: six-field NCRONTAB (`sec min hour day month day-of-week`), evaluated in
 * UTC, with the timer trigger's reading of the fields (see `../schedule/ncrontab.ts`).
 */
import { InvalidInputError } from "../errors.js";
import {
  occurrencesBetween as occurrencesOf,
  parseNcrontab,
  type NcrontabSchedule,
} from "../schedule/ncrontab.js";

/** A parsed plan schedule. */
export type CronSchedule = NcrontabSchedule;

/**
 * Parses a plan's six-field NCRONTAB expression, read in UTC.
 *
 * @throws InvalidInputError `PLAN_SCHEDULE_INVALID` naming the field at fault.
 */
export function parseCronSchedule(expression: string): CronSchedule {
  return parseNcrontab(expression, {
    clock: "utc",
    invalid: (reason) =>
      new InvalidInputError(
        "PLAN_SCHEDULE_INVALID",
        `The schedule "${expression}" is invalid: ${reason}`,
        [{ path: "$.schedule", code: "PLAN_SCHEDULE_INVALID", message: reason }],
      ),
  });
}

/** The occurrences of a schedule in the window `(after, upTo]`, oldest first. */
export function occurrencesBetween(schedule: CronSchedule, after: Date, upTo: Date): Date[] {
  return occurrencesOf(schedule, after, upTo);
}
