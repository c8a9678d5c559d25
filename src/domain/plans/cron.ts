/**
 * Six-field NCRONTAB schedules (`sec min hour day month day-of-week`), evaluated in UTC as the
 * Functions timer trigger evaluates them: `*`, lists, ranges, steps, English month and day names,
 * and a time matches only when every field matches (NCrontab's AND, not Vixie cron's OR).
 */
import { InvalidInputError } from "../errors.js";

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const fieldSpecs: readonly FieldSpec[] = [
  { name: "second", min: 0, max: 59 },
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day", min: 1, max: 31 },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
  },
  { name: "day-of-week", min: 0, max: 6, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
];

/** A parsed schedule: the allowed values of each field. */
export interface CronSchedule {
  readonly expression: string;
  readonly seconds: readonly number[];
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly days: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly daysOfWeek: ReadonlySet<number>;
}

function invalid(expression: string, reason: string): InvalidInputError {
  return new InvalidInputError(
    "PLAN_SCHEDULE_INVALID",
    `The schedule "${expression}" is invalid: ${reason}`,
    [{ path: "$.schedule", code: "PLAN_SCHEDULE_INVALID", message: reason }],
  );
}

function valueOf(text: string, spec: FieldSpec, expression: string): number {
  const named = spec.names?.indexOf(text.slice(0, 3).toLowerCase()) ?? -1;
  if (named >= 0 && /^[a-z]+$/i.test(text)) return named + spec.min;
  if (!/^\d+$/.test(text)) throw invalid(expression, `'${text}' is not a ${spec.name}`);
  // NCRONTAB accepts 7 for Sunday, as cron does.
  const value = spec.name === "day-of-week" && Number(text) === 7 ? 0 : Number(text);
  if (value < spec.min || value > spec.max)
    throw invalid(expression, `${spec.name} ${text} is out of ${spec.min}-${spec.max}`);
  return value;
}

function parseField(text: string, spec: FieldSpec, expression: string): number[] {
  const values = new Set<number>();
  for (const part of text.split(",")) {
    const [range, stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw invalid(expression, `bad step in '${part}'`);
    let low: number;
    let high: number;
    if (range === "*" || range === undefined) {
      low = spec.min;
      high = spec.max;
    } else if (range.includes("-")) {
      const [from, to] = range.split("-");
      low = valueOf(from ?? "", spec, expression);
      high = valueOf(to ?? "", spec, expression);
      if (high < low) throw invalid(expression, `the range '${range}' runs backwards`);
    } else {
      low = valueOf(range, spec, expression);
      high = stepText === undefined ? low : spec.max;
    }
    for (let value = low; value <= high; value += step) values.add(value);
  }
  return [...values].sort((a, b) => a - b);
}

/**
 * Parses a six-field NCRONTAB expression.
 *
 * @throws InvalidInputError `PLAN_SCHEDULE_INVALID` naming the field at fault.
 */
export function parseCronSchedule(expression: string): CronSchedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 6)
    throw invalid(
      expression,
      `expected six fields (sec min hour day month day-of-week), found ${parts.length}`,
    );
  const [seconds, minutes, hours, days, months, daysOfWeek] = parts.map((part, index) =>
    parseField(part, fieldSpecs[index] as FieldSpec, expression),
  ) as [number[], number[], number[], number[], number[], number[]];
  return {
    expression,
    seconds,
    minutes: new Set(minutes),
    hours: new Set(hours),
    days: new Set(days),
    months: new Set(months),
    daysOfWeek: new Set(daysOfWeek),
  };
}

const minuteMs = 60_000;

/**
 * The occurrences of a schedule in the window `(after, upTo]`, oldest first.
 *
 * @remarks Walks the window minute by minute, so a window of a day costs 1,440 steps.
 */
export function occurrencesBetween(schedule: CronSchedule, after: Date, upTo: Date): Date[] {
  const found: Date[] = [];
  const start = Math.floor(after.getTime() / minuteMs) * minuteMs;
  for (let minute = start; minute <= upTo.getTime(); minute += minuteMs) {
    const at = new Date(minute);
    if (
      !schedule.minutes.has(at.getUTCMinutes()) ||
      !schedule.hours.has(at.getUTCHours()) ||
      !schedule.days.has(at.getUTCDate()) ||
      !schedule.months.has(at.getUTCMonth() + 1) ||
      !schedule.daysOfWeek.has(at.getUTCDay())
    ) {
      continue;
    }
    for (const second of schedule.seconds) {
      const time = minute + second * 1000;
      if (time > after.getTime() && time <= upTo.getTime()) found.push(new Date(time));
    }
  }
  return found;
}
