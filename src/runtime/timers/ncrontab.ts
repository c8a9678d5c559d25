/**
 * NCRONTAB schedules as the Functions timer trigger reads them: six fields, seconds first
 * (`sec min hour day month day-of-week`), with `*`, lists, ranges, steps and English names for
 * months and days. As in NCrontab, a time matches only when EVERY field matches, so a schedule
 * that restricts both day-of-month and day-of-week fires only on days that satisfy both (unlike
 * Vixie cron's OR). Also TimeSpan schedules (`hh:mm:ss`, `d.hh:mm:ss`): a constant interval.
 */
import { AppError } from "../../domain/errors.js";

/** A schedule string that is neither NCRONTAB nor a TimeSpan. */
export class ScheduleError extends AppError {
  override readonly name = "ScheduleError";
  constructor(schedule: string, reason: string) {
    super("RUNTIME_TIMER_SCHEDULE_INVALID", `Timer schedule "${schedule}" is invalid: ${reason}`);
  }
}

/** A parsed timer schedule. */
export interface TimerSchedule {
  readonly expression: string;
  /** The first occurrence strictly after `after`. */
  nextAfter(after: Date): Date;
}

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const fields: readonly FieldSpec[] = [
  { name: "second", min: 0, max: 59 },
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day", min: 1, max: 31 },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
  },
  { name: "day-of-week", min: 0, max: 6, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] },
];

function parseValue(expression: string, spec: FieldSpec, text: string): number {
  const index = spec.names?.findIndex(
    (name) => text.toUpperCase().startsWith(name) && /^[a-z]+$/i.test(text),
  );
  if (index !== undefined && index >= 0) return index + (spec.name === "month" ? 1 : 0);
  if (!/^\d+$/.test(text))
    throw new ScheduleError(expression, `"${text}" is not a valid ${spec.name}`);
  const value = Number(text);
  if (value < spec.min || value > spec.max) {
    throw new ScheduleError(expression, `${spec.name} ${value} is outside ${spec.min}-${spec.max}`);
  }
  return value;
}

/** The values one field allows, as a sorted array. */
export function parseCronField(expression: string, spec: FieldSpec, text: string): number[] {
  const allowed = new Set<number>();
  for (const item of text.split(",")) {
    if (item === "")
      throw new ScheduleError(expression, `empty list item in the ${spec.name} field`);
    const [range = "", stepText, extra] = item.split("/");
    if (extra !== undefined)
      throw new ScheduleError(expression, `"${item}" has more than one step`);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (
      !Number.isInteger(step) ||
      step < 1 ||
      (stepText !== undefined && !/^\d+$/.test(stepText))
    ) {
      throw new ScheduleError(expression, `"${item}" has an invalid step`);
    }
    let low: number;
    let high: number;
    if (range === "*") {
      low = spec.min;
      high = spec.max;
    } else if (range.includes("-")) {
      const [from = "", to = ""] = range.split("-");
      low = parseValue(expression, spec, from);
      high = parseValue(expression, spec, to);
      if (high < low) throw new ScheduleError(expression, `range "${range}" runs backwards`);
    } else {
      low = parseValue(expression, spec, range);
      // `a/step` means from a to the end of the field, stepping.
      high = stepText === undefined ? low : spec.max;
    }
    for (let value = low; value <= high; value += step) allowed.add(value);
  }
  return [...allowed].sort((a, b) => a - b);
}

const timeSpanPattern = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?$/;

/** Parses a TimeSpan (`hh:mm[:ss[.fffffff]]`, optionally `d.` first) to milliseconds. */
export function parseTimeSpan(text: string): number | undefined {
  const match = timeSpanPattern.exec(text.trim());
  if (!match) return undefined;
  const [, days = "0", hours = "0", minutes = "0", seconds = "0", fraction = ""] = match;
  if (Number(hours) > 23 || Number(minutes) > 59 || Number(seconds) > 59) return undefined;
  const fractionMs = fraction === "" ? 0 : Number(`0.${fraction}`) * 1000;
  return (
    (((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1000 +
    fractionMs
  );
}

/** Searching further than this for a matching day means the schedule never fires. */
const searchLimitDays = 366 * 30;

class CronSchedule implements TimerSchedule {
  readonly expression: string;
  readonly #seconds: number[];
  readonly #minutes: number[];
  readonly #hours: number[];
  readonly #days: ReadonlySet<number>;
  readonly #months: ReadonlySet<number>;
  readonly #daysOfWeek: ReadonlySet<number>;

  constructor(expression: string, values: number[][]) {
    this.expression = expression;
    const [seconds = [], minutes = [], hours = [], days = [], months = [], daysOfWeek = []] =
      values;
    this.#seconds = seconds;
    this.#minutes = minutes;
    this.#hours = hours;
    this.#days = new Set(days);
    this.#months = new Set(months);
    this.#daysOfWeek = new Set(daysOfWeek);
  }

  nextAfter(after: Date): Date {
    // Local time, as the host evaluates schedules (WEBSITE_TIME_ZONE / TZ).
    const start = new Date(after.getTime());
    start.setMilliseconds(0);
    start.setSeconds(start.getSeconds() + 1);
    let year = start.getFullYear();
    let month = start.getMonth();
    let day = start.getDate();
    let fromSecondOfDay = start.getHours() * 3600 + start.getMinutes() * 60 + start.getSeconds();
    for (let searched = 0; searched < searchLimitDays; searched += 1) {
      const date = new Date(year, month, day);
      if (
        this.#months.has(date.getMonth() + 1) &&
        this.#days.has(date.getDate()) &&
        this.#daysOfWeek.has(date.getDay())
      ) {
        const time = this.#firstTimeOfDayFrom(fromSecondOfDay);
        if (time)
          return new Date(
            date.getFullYear(),
            date.getMonth(),
            date.getDate(),
            time[0],
            time[1],
            time[2],
          );
      }
      year = date.getFullYear();
      month = date.getMonth();
      day = date.getDate() + 1;
      fromSecondOfDay = 0;
    }
    throw new ScheduleError(this.expression, "it never fires");
  }

  #firstTimeOfDayFrom(secondOfDay: number): [number, number, number] | undefined {
    for (const hour of this.#hours) {
      for (const minute of this.#minutes) {
        const base = hour * 3600 + minute * 60;
        if (base + 59 < secondOfDay) continue;
        for (const second of this.#seconds) {
          if (base + second >= secondOfDay) return [hour, minute, second];
        }
      }
    }
    return undefined;
  }
}

class ConstantSchedule implements TimerSchedule {
  readonly expression: string;
  readonly #intervalMs: number;

  constructor(expression: string, intervalMs: number) {
    this.expression = expression;
    this.#intervalMs = intervalMs;
  }

  nextAfter(after: Date): Date {
    return new Date(after.getTime() + this.#intervalMs);
  }
}

/**
 * Parses a timer schedule: six-field NCRONTAB, or a TimeSpan for a constant interval.
 *
 * @throws ScheduleError naming what is wrong.
 */
export function parseSchedule(expression: string): TimerSchedule {
  const trimmed = expression.trim();
  const tokens = trimmed.split(/\s+/);
  if (tokens.length === 1) {
    const intervalMs = parseTimeSpan(trimmed);
    if (intervalMs === undefined)
      throw new ScheduleError(expression, "expected six NCRONTAB fields or a TimeSpan");
    if (intervalMs <= 0) throw new ScheduleError(expression, "the interval must be positive");
    return new ConstantSchedule(trimmed, intervalMs);
  }
  if (tokens.length !== 6) {
    throw new ScheduleError(
      expression,
      `expected 6 fields (seconds first), found ${tokens.length}`,
    );
  }
  const values = tokens.map((token, index) => {
    const spec = fields[index];
    if (!spec) throw new ScheduleError(expression, "too many fields");
    return parseCronField(expression, spec, token);
  });
  const schedule = new CronSchedule(trimmed, values);
  schedule.nextAfter(new Date());
  return schedule;
}

/**
 * Whether the host would keep a schedule monitor for this schedule: yes unless it fires more
 * than once a minute (TimerTriggerAttribute's default for `useMonitor`).
 */
export function defaultUseMonitor(schedule: TimerSchedule, now: Date): boolean {
  const first = schedule.nextAfter(now);
  const second = schedule.nextAfter(first);
  return second.getTime() - first.getTime() >= 60_000;
}
