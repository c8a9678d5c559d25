/**
 * Calendar refinements of a backup plan's schedule: what a cron expression cannot say, such as
 * "the last business day of the month". Business days are Monday to Friday in UTC; public
 * holidays are not known.
 */

/** The refinements a plan may name. */
export const calendarRefinements = [
  "lastBusinessDayOfMonth",
  "firstBusinessDayOfMonth",
  "lastDayOfMonth",
] as const;

/** One of {@link calendarRefinements}. */
export type CalendarRefinement = (typeof calendarRefinements)[number];

/** Whether a UTC day is Monday to Friday. */
export function isBusinessDay(date: Date): boolean {
  const day = date.getUTCDay();
  return day !== 0 && day !== 6;
}

/** The number of days in the UTC month of `date` (leap years included). */
export function daysInMonth(date: Date): number {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
}

/** The last Monday-to-Friday day of the UTC month of `date`, as a day of the month. */
export function lastBusinessDayOfMonth(date: Date): number {
  let day = daysInMonth(date);
  while (!isBusinessDay(new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), day))))
    day -= 1;
  return day;
}

/** The first Monday-to-Friday day of the UTC month of `date`, as a day of the month. */
export function firstBusinessDayOfMonth(date: Date): number {
  let day = 1;
  while (!isBusinessDay(new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), day))))
    day += 1;
  return day;
}

/** Whether an occurrence of a plan's schedule falls on a day the refinement keeps. */
export function refinementAllows(
  refinement: CalendarRefinement | undefined,
  occurrence: Date,
): boolean {
  const day = occurrence.getUTCDate();
  switch (refinement) {
    case undefined:
      return true;
    case "lastBusinessDayOfMonth":
      return day === lastBusinessDayOfMonth(occurrence);
    case "firstBusinessDayOfMonth":
      return day === firstBusinessDayOfMonth(occurrence);
    case "lastDayOfMonth":
      return day === daysInMonth(occurrence);
  }
}
