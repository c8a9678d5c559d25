/**
 * Backup schedules: ISO 8601 repeating intervals (`R/2021-08-15T22:00:00+00:00/P1W`), the
 * `trigger create-schedule` and `trigger set` operations, and the instants a schedule fires.
 */
import { InvalidInputError, type InputProblem } from "../errors.js";
import { manifestForPolicy, type BackupFrequency } from "./datasources.js";
import { addDuration, isZeroDuration, parseIsoDuration, type IsoDuration } from "./duration.js";
import {
  fixedOffsetZone,
  parseUtcOffset,
  resolveTimeZone,
  type ScheduleTimeZone,
} from "./timeZone.js";
import {
  isBackupRule,
  type AzureBackupRule,
  type BackupPolicy,
  type BackupSchedule,
} from "./types.js";

/** A parsed repeating interval. */
export interface RepeatingInterval {
  readonly text: string;
  /** The start's wall-clock time, as if it were UTC, in milliseconds. */
  readonly startWallMs: number;
  /** The start's explicit UTC offset in minutes, when the text has one. */
  readonly offsetMinutes: number | undefined;
  readonly period: IsoDuration;
  /** `R3/...` limits repetitions; `R/...` repeats forever. */
  readonly repetitions: number | undefined;
}

// The service's grammar: R/YYYY-MM-DDThh:mm[:ss[.fff]][Z|(+/-)hh:mm]/Duration (no compact forms).
const intervalPattern =
  /^R(\d*)\/(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?(Z|[+-]\d{2}:\d{2})?\/(P[0-9YMWDTHS.]+)$/;

/**
 * Parses one repeating interval.
 *
 * @returns the interval, or `undefined` when the text breaks the service's grammar or names an
 * impossible date.
 */
export function parseRepeatingInterval(text: string): RepeatingInterval | undefined {
  const match = intervalPattern.exec(text);
  if (!match) return undefined;
  const [, reps, y, mo, d, h, mi, s, frac, offset, periodText] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s ?? 0);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const startWallMs =
    Date.UTC(year, month - 1, day, hour, minute, second) +
    Math.round(Number(`0.${frac ?? 0}`) * 1000);
  if (new Date(startWallMs).getUTCDate() !== day) return undefined;
  const period = parseIsoDuration(periodText ?? "");
  if (!period || isZeroDuration(period)) return undefined;
  const offsetMinutes = offset === undefined ? undefined : parseUtcOffset(offset);
  if (offset !== undefined && offsetMinutes === undefined) return undefined;
  return {
    text,
    startWallMs,
    offsetMinutes,
    period,
    repetitions: reps === "" || reps === undefined ? undefined : Number(reps),
  };
}

/** The frequency an interval's period stands for (`P1W` Weekly, `P1D` Daily, `PT4H` Hourly). */
export function frequencyOfInterval(interval: RepeatingInterval): BackupFrequency | undefined {
  const p = interval.period;
  const onlyWeeks =
    p.weeks > 0 && p.years + p.months + p.days + p.hours + p.minutes + p.seconds === 0;
  const onlyDays =
    p.days > 0 && p.years + p.months + p.weeks + p.hours + p.minutes + p.seconds === 0;
  const onlyHours =
    p.hours > 0 && p.years + p.months + p.weeks + p.days + p.minutes + p.seconds === 0;
  if (onlyWeeks || (onlyDays && p.days % 7 === 0)) return "Weekly";
  if (onlyDays) return "Daily";
  if (onlyHours) return "Hourly";
  return undefined;
}

/** Options of `trigger create-schedule`. */
export interface CreateScheduleOptions {
  readonly intervalType: string;
  readonly intervalCount: number;
  readonly scheduleDays: readonly string[];
}

const scheduleDayPattern =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})?$/;

/**
 * `trigger create-schedule`: one repeating interval per schedule day.
 *
 * @remarks Daily and Weekly need a count of 1; Hourly needs 4, 6, 8 or 12 (the CLI's rules).
 * A day without an offset gets `+00:00`, as the CLI writes it.
 * @throws InvalidInputError naming the flag at fault.
 */
export function createSchedule(options: CreateScheduleOptions): string[] {
  const problems: InputProblem[] = [];
  const type = options.intervalType;
  const count = options.intervalCount;
  if (!["Daily", "Weekly", "Hourly"].includes(type)) {
    problems.push({
      path: "--interval-type",
      code: "SCHEDULE_INTERVAL_TYPE_INVALID",
      message: `'${type}' is not an interval type; use Weekly, Daily or Hourly`,
    });
  } else if (!Number.isInteger(count) || count <= 0) {
    problems.push({
      path: "--interval-count",
      code: "SCHEDULE_INTERVAL_COUNT_INVALID",
      message: "the interval count must be a whole number above 0",
    });
  } else if ((type === "Daily" || type === "Weekly") && count !== 1) {
    problems.push({
      path: "--interval-count",
      code: "SCHEDULE_INTERVAL_COUNT_INVALID",
      message: `a ${type} schedule repeats every 1 ${type === "Daily" ? "day" : "week"}; the interval count must be 1`,
    });
  } else if (type === "Hourly" && ![4, 6, 8, 12].includes(count)) {
    problems.push({
      path: "--interval-count",
      code: "SCHEDULE_INTERVAL_COUNT_INVALID",
      message: "an Hourly schedule's interval count must be 4, 6, 8 or 12",
    });
  }
  if (options.scheduleDays.length === 0) {
    problems.push({
      path: "--schedule-days",
      code: "SCHEDULE_DAYS_MISSING",
      message: "give at least one schedule day, e.g. 2021-08-15T22:00:00",
    });
  }
  for (const day of options.scheduleDays) {
    if (!scheduleDayPattern.test(day) || !parseRepeatingInterval(`R/${day}/P1W`)) {
      problems.push({
        path: "--schedule-days",
        code: "SCHEDULE_DAY_INVALID",
        message: `'${day}' is not a date and time like 2021-08-15T22:00:00`,
      });
    }
  }
  if (problems.length > 0) {
    throw new InvalidInputError(
      "SCHEDULE_INVALID",
      problems.map((p) => `${p.path}: ${p.message}`).join("; "),
      problems,
    );
  }
  const frequency = type === "Weekly" ? "P1W" : type === "Daily" ? "P1D" : `PT${count}H`;
  return options.scheduleDays.map((day) => {
    const hasOffset = /(Z|[+-]\d{2}:\d{2})$/.test(day);
    return `R/${day}${hasOffset ? "" : "+00:00"}/${frequency}`;
  });
}

/** The policy's backup rule; every PostgreSQL policy has exactly one. */
export function backupRuleOf(policy: BackupPolicy): AzureBackupRule {
  const rule = policy.policyRules.find(isBackupRule);
  if (!rule) {
    throw new InvalidInputError(
      "POLICY_BACKUP_RULE_MISSING",
      "the policy has no backup rule (objectType AzureBackupRule)",
      [
        {
          path: "$.policyRules",
          code: "POLICY_BACKUP_RULE_MISSING",
          message: "the policy has no backup rule",
        },
      ],
    );
  }
  return rule;
}

/**
 * `trigger set`: replaces the backup rule's schedule and names the rule after its frequency
 * (`BackupWeekly`), as the service expects.
 *
 * @throws InvalidInputError when an interval is malformed, intervals mix frequencies, or the
 * datasource kind does not support the frequency (PostgreSQL: Weekly only).
 */
export function setTriggerSchedule(
  policy: BackupPolicy,
  intervals: readonly string[],
): BackupPolicy {
  const problems: InputProblem[] = [];
  const frequencies = new Set<BackupFrequency>();
  intervals.forEach((text, index) => {
    const parsed = parseRepeatingInterval(text);
    const frequency = parsed && frequencyOfInterval(parsed);
    if (!parsed || !frequency) {
      problems.push({
        path: `--schedule[${index}]`,
        code: "SCHEDULE_INTERVAL_INVALID",
        message: `'${text}' is not a repeating interval like R/2021-08-15T22:00:00+00:00/P1W`,
      });
    } else {
      frequencies.add(frequency);
    }
  });
  if (intervals.length === 0) {
    problems.push({
      path: "--schedule",
      code: "SCHEDULE_INTERVAL_INVALID",
      message: "give at least one repeating interval",
    });
  }
  if (frequencies.size > 1) {
    problems.push({
      path: "--schedule",
      code: "SCHEDULE_FREQUENCY_MIXED",
      message: `all intervals must repeat at the same frequency; found ${[...frequencies].join(" and ")}`,
    });
  }
  const manifest = manifestForPolicy(policy);
  const [frequency] = [...frequencies];
  if (
    manifest &&
    frequency &&
    frequencies.size === 1 &&
    !manifest.supportedBackupFrequency.includes(frequency)
  ) {
    problems.push({
      path: "--schedule",
      code: "SCHEDULE_FREQUENCY_UNSUPPORTED",
      message: `${frequency} Backup Schedule is not supported for ${manifest.kind} policy; PostgreSQL backups run weekly (use P1W)`,
    });
  }
  if (problems.length > 0) {
    throw new InvalidInputError(
      "SCHEDULE_INVALID",
      problems.map((p) => `${p.path}: ${p.message}`).join("; "),
      problems,
    );
  }
  const current = backupRuleOf(policy);
  return {
    ...policy,
    policyRules: policy.policyRules.map((rule) =>
      rule === current
        ? {
            ...current,
            name: `Backup${frequency}`,
            trigger: {
              ...current.trigger,
              schedule: { ...current.trigger.schedule, repeatingTimeIntervals: [...intervals] },
            },
          }
        : rule,
    ),
  };
}

/** One interval prepared for fast iteration. */
interface IntervalCursor {
  readonly interval: RepeatingInterval;
  readonly zone: ScheduleTimeZone;
  /** Exact period length in ms when the period has no years or months. */
  readonly fixedPeriodMs: number | undefined;
}

function cursorFor(interval: RepeatingInterval, scheduleZone: ScheduleTimeZone): IntervalCursor {
  // A named zone with daylight saving keeps the wall-clock time; otherwise the interval's own offset rules.
  const zone = !scheduleZone.fixed
    ? scheduleZone
    : interval.offsetMinutes !== undefined
      ? fixedOffsetZone(interval.offsetMinutes)
      : scheduleZone;
  const p = interval.period;
  const fixedPeriodMs =
    p.years === 0 && p.months === 0
      ? ((p.weeks * 7 + p.days) * 86_400 + p.hours * 3600 + p.minutes * 60 + p.seconds) * 1000
      : undefined;
  return { interval, zone, fixedPeriodMs };
}

function nthWall(cursor: IntervalCursor, n: number): number {
  const { interval, fixedPeriodMs } = cursor;
  if (fixedPeriodMs !== undefined) return interval.startWallMs + n * fixedPeriodMs;
  const p = interval.period;
  return addDuration(interval.startWallMs, {
    years: p.years * n,
    months: p.months * n,
    weeks: p.weeks * n,
    days: p.days * n,
    hours: p.hours * n,
    minutes: p.minutes * n,
    seconds: p.seconds * n,
  });
}

/**
 * Every instant the schedule fires in `[fromMs, toMs)`, ascending, without duplicates.
 *
 * @throws InvalidInputError when an interval or the time zone cannot be read.
 */
export function scheduleOccurrences(
  schedule: BackupSchedule,
  fromMs: number,
  toMs: number,
): number[] {
  const zone = resolveTimeZone(schedule.timeZone);
  if (!zone) {
    throw new InvalidInputError(
      "SCHEDULE_TIME_ZONE_INVALID",
      `unknown schedule time zone '${schedule.timeZone}'`,
      [
        {
          path: "$.schedule.timeZone",
          code: "SCHEDULE_TIME_ZONE_INVALID",
          message: `unknown time zone '${schedule.timeZone}'`,
        },
      ],
    );
  }
  const instants: number[] = [];
  for (const [index, text] of schedule.repeatingTimeIntervals.entries()) {
    const interval = parseRepeatingInterval(text);
    if (!interval) {
      throw new InvalidInputError(
        "SCHEDULE_INTERVAL_INVALID",
        `'${text}' is not a repeating interval`,
        [
          {
            path: `$.schedule.repeatingTimeIntervals[${index}]`,
            code: "SCHEDULE_INTERVAL_INVALID",
            message: `'${text}' is not a repeating interval`,
          },
        ],
      );
    }
    const cursor = cursorFor(interval, zone);
    const limit = interval.repetitions === undefined ? Infinity : interval.repetitions + 1;
    // Jump close to the window for fixed periods instead of walking from the start date.
    let n = 0;
    if (cursor.fixedPeriodMs !== undefined) {
      const startEpoch = cursor.zone.wallToEpoch(interval.startWallMs);
      n = Math.max(0, Math.floor((fromMs - startEpoch) / cursor.fixedPeriodMs) - 1);
    }
    for (; n < limit; n += 1) {
      const at = cursor.zone.wallToEpoch(nthWall(cursor, n));
      if (at >= toMs) break;
      if (at >= fromMs) instants.push(at);
    }
  }
  instants.sort((a, b) => a - b);
  return instants.filter((at, i) => i === 0 || at !== instants[i - 1]);
}
