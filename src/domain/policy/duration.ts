/**
 * ISO 8601 durations as the service uses them (`P3M`, `P10Y`, `P1W`, `PT4H`), and calendar
 * arithmetic on epoch milliseconds.
 */

/** A parsed ISO 8601 duration. Fields are whole numbers except `seconds`. */
export interface IsoDuration {
  readonly years: number;
  readonly months: number;
  readonly weeks: number;
  readonly days: number;
  readonly hours: number;
  readonly minutes: number;
  readonly seconds: number;
}

/** The units `retention-rule create-lifecycle` accepts. */
export type RetentionDurationUnit = "Days" | "Weeks" | "Months" | "Years";
/** Every retention duration unit. */
export const retentionDurationUnits: readonly RetentionDurationUnit[] = [
  "Days",
  "Weeks",
  "Months",
  "Years",
];

const durationPattern =
  /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/**
 * Parses an ISO 8601 duration.
 *
 * @returns the duration, or `undefined` when the text is not one (an empty `P` or `PT` is not).
 */
export function parseIsoDuration(text: string): IsoDuration | undefined {
  const match = durationPattern.exec(text);
  if (!match || text === "P" || text.endsWith("T")) return undefined;
  const [, y, mo, w, d, h, mi, s] = match;
  return {
    years: Number(y ?? 0),
    months: Number(mo ?? 0),
    weeks: Number(w ?? 0),
    days: Number(d ?? 0),
    hours: Number(h ?? 0),
    minutes: Number(mi ?? 0),
    seconds: Number(s ?? 0),
  };
}

/** Formats a retention duration the way the CLI does: `P{count}{D|W|M|Y}`. */
export function formatRetentionDuration(count: number, unit: RetentionDurationUnit): string {
  const letter = { Days: "D", Weeks: "W", Months: "M", Years: "Y" }[unit];
  return `P${count}${letter}`;
}

/** True when the duration is zero in every field. */
export function isZeroDuration(duration: IsoDuration): boolean {
  return (
    duration.years === 0 &&
    duration.months === 0 &&
    duration.weeks === 0 &&
    duration.days === 0 &&
    duration.hours === 0 &&
    duration.minutes === 0 &&
    duration.seconds === 0
  );
}

/**
 * Length in days as the service's limits count it (a year 365 days, a month 30).
 *
 * @remarks Used only to compare against limits such as "10 years"; never to place a date.
 */
export function nominalDays(duration: IsoDuration): number {
  return (
    duration.years * 365 +
    duration.months * 30 +
    duration.weeks * 7 +
    duration.days +
    (duration.hours * 3600 + duration.minutes * 60 + duration.seconds) / 86_400
  );
}

const msPerDay = 86_400_000;

function daysInMonth(year: number, monthIndex: number): number {
  return new Date(Date.UTC(year, monthIndex + 1, 0)).getUTCDate();
}

/**
 * Adds a duration to an instant, in the wall clock of a fixed UTC offset.
 *
 * @remarks Years and months move the calendar date and clamp to the month's last day, as .NET's
 * `DateTime.AddMonths` does (31 January + P1M = 28 or 29 February; 29 February + P1Y = 28 February);
 * weeks, days and time then add exact lengths.
 * @param epochMs - the instant.
 * @param duration - what to add.
 * @param offsetMinutes - the wall clock's offset from UTC (calendar arithmetic happens there).
 */
export function addDuration(epochMs: number, duration: IsoDuration, offsetMinutes = 0): number {
  const offsetMs = offsetMinutes * 60_000;
  let wall = epochMs + offsetMs;
  const totalMonths = duration.years * 12 + duration.months;
  if (totalMonths !== 0) {
    const date = new Date(wall);
    const year = date.getUTCFullYear();
    const month = date.getUTCMonth() + totalMonths;
    const targetYear = year + Math.floor(month / 12);
    const targetMonth = ((month % 12) + 12) % 12;
    const day = Math.min(date.getUTCDate(), daysInMonth(targetYear, targetMonth));
    const timeOfDay = wall - Date.UTC(year, date.getUTCMonth(), date.getUTCDate());
    wall = Date.UTC(targetYear, targetMonth, day) + timeOfDay;
  }
  wall +=
    (duration.weeks * 7 + duration.days) * msPerDay +
    duration.hours * 3_600_000 +
    duration.minutes * 60_000 +
    Math.round(duration.seconds * 1000);
  return wall - offsetMs;
}
