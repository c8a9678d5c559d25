/**
 * Timer trigger schedules: six-field NCRONTAB read in the machine's local time, as the host
 * evaluates them (`ncrontabReader.ts`), or a TimeSpan
 * (`hh:mm:ss`, `d.hh:mm:ss`): a constant interval.
 */
import { RuntimeError } from "../errors.js";
import { parseNcrontab } from "./ncrontabReader.js";

/** A schedule string that is neither NCRONTAB nor a TimeSpan. */
export class ScheduleError extends RuntimeError {
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
  return parseNcrontab(trimmed, {
    clock: "local",
    invalid: (reason) => new ScheduleError(expression, reason),
  });
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
