/**
 * Six-field NCRONTAB schedules (`sec min hour day month day-of-week`), read as the Functions timer
 * trigger reads them: `*`, lists, ranges, steps and English month and day names. As in NCrontab, a
 * time matches only when EVERY field matches, so a schedule that restricts both day-of-month and
 * day-of-week fires only on days that satisfy both (unlike Vixie cron's OR), and day-of-week runs
 * 0-6 from Sunday.
 *
 * @remarks One reader serves the runtime's timer triggers (the machine's local time, as the host
 * evaluates schedules) and any app that wants the timer trigger's reading of a schedule (pgprotect's
 * backup plans read UTC); each caller names its clock and its error. It lives with the runtime
 * because NCRONTAB is the host's schedule language, and it imports nothing so apps may share it.
 */

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

/** Which calendar a schedule's fields are read in. */
export type NcrontabClock = "local" | "utc";

/** Options of {@link parseNcrontab}. */
export interface NcrontabOptions {
  readonly clock: NcrontabClock;
  /** Builds the caller's error for a schedule that cannot be read; `reason` names the field at fault. */
  readonly invalid: (reason: string) => Error;
}

/** A parsed NCRONTAB schedule. */
export interface NcrontabSchedule {
  readonly expression: string;
  /** The first occurrence strictly after `after`. */
  nextAfter(after: Date): Date;
}

interface Calendar {
  parts(at: Date): { year: number; month: number; day: number; secondOfDay: number };
  date(year: number, month: number, day: number, seconds?: number): Date;
  weekday(at: Date): number;
}

const calendars: Readonly<Record<NcrontabClock, Calendar>> = {
  local: {
    parts: (at) => ({
      year: at.getFullYear(),
      month: at.getMonth(),
      day: at.getDate(),
      secondOfDay: at.getHours() * 3600 + at.getMinutes() * 60 + at.getSeconds(),
    }),
    date: (year, month, day, seconds = 0) =>
      new Date(
        year,
        month,
        day,
        Math.floor(seconds / 3600),
        Math.floor(seconds / 60) % 60,
        seconds % 60,
      ),
    weekday: (at) => at.getDay(),
  },
  utc: {
    parts: (at) => ({
      year: at.getUTCFullYear(),
      month: at.getUTCMonth(),
      day: at.getUTCDate(),
      secondOfDay: at.getUTCHours() * 3600 + at.getUTCMinutes() * 60 + at.getUTCSeconds(),
    }),
    date: (year, month, day, seconds = 0) => new Date(Date.UTC(year, month, day) + seconds * 1000),
    weekday: (at) => at.getUTCDay(),
  },
};

function parseValue(spec: FieldSpec, text: string, invalid: NcrontabOptions["invalid"]): number {
  const index = spec.names?.findIndex(
    (name) => text.toUpperCase().startsWith(name) && /^[a-z]+$/i.test(text),
  );
  if (index !== undefined && index >= 0) return index + spec.min;
  if (!/^\d+$/.test(text)) throw invalid(`"${text}" is not a valid ${spec.name}`);
  const value = Number(text);
  if (value < spec.min || value > spec.max) {
    throw invalid(`${spec.name} ${value} is outside ${spec.min}-${spec.max}`);
  }
  return value;
}

function parseField(spec: FieldSpec, text: string, invalid: NcrontabOptions["invalid"]): number[] {
  const allowed = new Set<number>();
  for (const item of text.split(",")) {
    if (item === "") throw invalid(`empty list item in the ${spec.name} field`);
    const [range = "", stepText, extra] = item.split("/");
    if (extra !== undefined) throw invalid(`"${item}" has more than one step`);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (
      !Number.isInteger(step) ||
      step < 1 ||
      (stepText !== undefined && !/^\d+$/.test(stepText))
    ) {
      throw invalid(`"${item}" has an invalid step`);
    }
    let low: number;
    let high: number;
    if (range === "*") {
      low = spec.min;
      high = spec.max;
    } else if (range.includes("-")) {
      const [from = "", to = ""] = range.split("-");
      low = parseValue(spec, from, invalid);
      high = parseValue(spec, to, invalid);
      if (high < low) throw invalid(`range "${range}" runs backwards`);
    } else {
      low = parseValue(spec, range, invalid);
      // `a/step` means from a to the end of the field, stepping.
      high = stepText === undefined ? low : spec.max;
    }
    for (let value = low; value <= high; value += step) allowed.add(value);
  }
  return [...allowed].sort((a, b) => a - b);
}

/** Searching further than this for a matching day means the schedule never fires. */
const searchLimitDays = 366 * 30;

class FieldSchedule implements NcrontabSchedule {
  readonly expression: string;
  readonly #seconds: readonly number[];
  readonly #minutes: readonly number[];
  readonly #hours: readonly number[];
  readonly #days: ReadonlySet<number>;
  readonly #months: ReadonlySet<number>;
  readonly #daysOfWeek: ReadonlySet<number>;
  readonly #calendar: Calendar;
  readonly #invalid: NcrontabOptions["invalid"];

  // No parameter properties: the runtime's tests load this source with Node's type stripping.
  constructor(
    expression: string,
    values: readonly (readonly number[])[],
    calendar: Calendar,
    invalid: NcrontabOptions["invalid"],
  ) {
    this.expression = expression;
    const [seconds = [], minutes = [], hours = [], days = [], months = [], daysOfWeek = []] =
      values;
    this.#seconds = seconds;
    this.#minutes = minutes;
    this.#hours = hours;
    this.#days = new Set(days);
    this.#months = new Set(months);
    this.#daysOfWeek = new Set(daysOfWeek);
    this.#calendar = calendar;
    this.#invalid = invalid;
  }

  nextAfter(after: Date): Date {
    const start = new Date(after.getTime());
    start.setMilliseconds(0);
    const first = this.#calendar.parts(new Date(start.getTime() + 1000));
    let { year, month, day } = first;
    let fromSecondOfDay = first.secondOfDay;
    for (let searched = 0; searched < searchLimitDays; searched += 1) {
      const date = this.#calendar.date(year, month, day);
      const parts = this.#calendar.parts(date);
      if (
        this.#months.has(parts.month + 1) &&
        this.#days.has(parts.day) &&
        this.#daysOfWeek.has(this.#calendar.weekday(date))
      ) {
        const second = this.#firstSecondOfDayFrom(fromSecondOfDay);
        if (second !== undefined)
          return this.#calendar.date(parts.year, parts.month, parts.day, second);
      }
      ({ year, month } = parts);
      day = parts.day + 1;
      fromSecondOfDay = 0;
    }
    throw this.#invalid("it never fires");
  }

  #firstSecondOfDayFrom(secondOfDay: number): number | undefined {
    for (const hour of this.#hours) {
      for (const minute of this.#minutes) {
        const base = hour * 3600 + minute * 60;
        if (base + 59 < secondOfDay) continue;
        for (const second of this.#seconds) {
          if (base + second >= secondOfDay) return base + second;
        }
      }
    }
    return undefined;
  }
}

/**
 * Parses a six-field NCRONTAB expression.
 *
 * @throws what `options.invalid` builds, naming the field at fault, or saying it never fires.
 */
export function parseNcrontab(expression: string, options: NcrontabOptions): NcrontabSchedule {
  const trimmed = expression.trim();
  const tokens = trimmed.split(/\s+/);
  if (tokens.length !== 6) {
    throw options.invalid(
      `expected six fields (sec min hour day month day-of-week), found ${tokens.length}`,
    );
  }
  const values = tokens.map((token, index) =>
    parseField(fields[index] as FieldSpec, token, options.invalid),
  );
  const schedule = new FieldSchedule(trimmed, values, calendars[options.clock], options.invalid);
  // A schedule that can never fire (30 February) is refused now, not at its first use.
  schedule.nextAfter(new Date(0));
  return schedule;
}

/** The occurrences of a schedule in the window `(after, upTo]`, oldest first. */
export function occurrencesBetween(schedule: NcrontabSchedule, after: Date, upTo: Date): Date[] {
  const found: Date[] = [];
  for (let at = schedule.nextAfter(after); at <= upTo; at = schedule.nextAfter(at)) found.push(at);
  return found;
}
