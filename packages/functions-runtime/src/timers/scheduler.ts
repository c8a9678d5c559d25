/**
 * Runs the app's timer triggers like the timer extension's TimerListener: invocations of one
 * function never overlap, a failure never stops the schedule, `runOnStartup` fires once at
 * start, and a schedule monitor (persisted `{last, next, lastUpdated}`) detects an occurrence
 * missed while the host was down and runs it at once with `isPastDue: true`.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { RegisteredFunction } from "../contracts.js";
import type { HostLog } from "../core/hostLog.js";
import type { LoggedInvoker } from "../core/loggedInvoker.js";
import type { CancelTimer, Clock } from "./clock.js";
import { defaultUseMonitor, parseSchedule, type TimerSchedule } from "./ncrontab.js";

/** The schedule monitor's record, as the handler receives it in `scheduleStatus`. */
export interface ScheduleStatus {
  readonly last: string;
  readonly next: string;
  readonly lastUpdated: string;
}

/** Options of {@link TimerScheduler}. */
export interface TimerSchedulerOptions {
  readonly invoker: LoggedInvoker;
  readonly clock: Clock;
  /** Folder for persisted schedule status, one file per function. */
  readonly stateDir: string;
  readonly log: HostLog;
  /** App settings, for `%Name%` placeholders in schedules. */
  readonly settings: Readonly<Record<string, string | undefined>>;
}

interface TimerEntry {
  readonly functionName: string;
  readonly triggerBindingName: string;
  readonly schedule: TimerSchedule;
  readonly useMonitor: boolean;
  readonly retry: RetryPolicy | undefined;
  status: ScheduleStatus | null;
  cancel: CancelTimer | undefined;
  running: Promise<void>;
}

/** A function-level retry policy (`retry` in the registration), as the host applies it. */
export interface RetryPolicy {
  readonly strategy: "fixedDelay" | "exponentialBackoff";
  /** -1 retries without limit. */
  readonly maxRetryCount: number;
  readonly delayMs: number;
  readonly minimumMs: number;
  readonly maximumMs: number;
}

function durationMs(value: unknown): number {
  const seconds = (value as { seconds?: unknown } | undefined)?.seconds;
  return typeof seconds === "number" || typeof seconds === "string" ? Number(seconds) * 1000 : 0;
}

/** Reads `retryOptions` from a registration; undefined when there is none or it is unusable. */
export function parseRetryOptions(retryOptions: unknown): RetryPolicy | undefined {
  if (typeof retryOptions !== "object" || retryOptions === null) return undefined;
  const options = retryOptions as Record<string, unknown>;
  const strategy = String(options["retryStrategy"] ?? options["strategy"] ?? "").toLowerCase();
  const maxRetryCount = Number(options["maxRetryCount"]);
  if (!Number.isInteger(maxRetryCount) || maxRetryCount === 0 || maxRetryCount < -1)
    return undefined;
  if (strategy === "fixeddelay") {
    const delayMs = durationMs(options["delayInterval"]);
    return {
      strategy: "fixedDelay",
      maxRetryCount,
      delayMs,
      minimumMs: delayMs,
      maximumMs: delayMs,
    };
  }
  if (strategy === "exponentialbackoff") {
    const minimumMs = durationMs(options["minimumInterval"]);
    const maximumMs = Math.max(minimumMs, durationMs(options["maximumInterval"]));
    return {
      strategy: "exponentialBackoff",
      maxRetryCount,
      delayMs: minimumMs,
      minimumMs,
      maximumMs,
    };
  }
  return undefined;
}

/** The wait before retry number `retry` (1-based). */
export function retryDelay(policy: RetryPolicy, retry: number): number {
  if (policy.strategy === "fixedDelay") return policy.delayMs;
  return Math.min(policy.maximumMs, policy.minimumMs * 2 ** (retry - 1));
}

// .NET's default(DateTime), which the monitor reports as `last` before the first run.
const neverRun = "0001-01-01T00:00:00";

/** Formats a time as .NET writes a local DateTimeOffset: ISO 8601 with the local offset. */
export function formatWithOffset(date: Date): string {
  const pad = (value: number, width = 2) =>
    String(Math.trunc(Math.abs(value))).padStart(width, "0");
  const offsetMinutes = -date.getTimezoneOffset();
  const sign = offsetMinutes >= 0 ? "+" : "-";
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}` +
    `${sign}${pad(offsetMinutes / 60)}:${pad(offsetMinutes % 60)}`
  );
}

/** The timer-trigger payload the host sends (PascalCase; the library camel-cases it). */
export function timerInfoJson(status: ScheduleStatus | null, isPastDue: boolean): string {
  return JSON.stringify({
    Schedule: { AdjustForDST: true },
    ScheduleStatus: status
      ? { Last: status.last, Next: status.next, LastUpdated: status.lastUpdated }
      : null,
    IsPastDue: isPastDue,
  });
}

/** Schedules and runs the app's timer triggers. */
export class TimerScheduler {
  readonly #options: TimerSchedulerOptions;
  readonly #entries = new Map<string, TimerEntry>();
  /** Pending retry waits: stop() cancels them and lets the runs finish. */
  readonly #retryWaits = new Map<() => void, CancelTimer>();
  #stopped = false;

  constructor(options: TimerSchedulerOptions) {
    this.#options = options;
  }

  /** Starts every timer trigger among `functions`; a bad schedule is logged and that timer skipped. */
  start(functions: readonly RegisteredFunction[]): void {
    const now = this.#options.clock.now();
    for (const fn of functions) {
      const trigger = Object.entries(fn.bindings).find(
        ([, binding]) => binding.type.toLowerCase() === "timertrigger",
      );
      if (!trigger) continue;
      const [triggerBindingName, binding] = trigger;
      let schedule: TimerSchedule;
      try {
        const text = String(binding["schedule"] ?? "").replace(
          /%([^%]+)%/g,
          (whole, name: string) => this.#options.settings[name] ?? whole,
        );
        schedule = parseSchedule(text);
      } catch (error) {
        this.#options.log.write(
          "error",
          `Timer '${fn.name}' is not scheduled: ${(error as Error).message}`,
        );
        continue;
      }
      const useMonitor =
        typeof binding["useMonitor"] === "boolean"
          ? binding["useMonitor"]
          : defaultUseMonitor(schedule, now);
      const entry: TimerEntry = {
        functionName: fn.name,
        triggerBindingName,
        schedule,
        useMonitor,
        retry: parseRetryOptions(fn.retryOptions),
        status: useMonitor ? this.#readStatus(fn.name) : null,
        cancel: undefined,
        running: Promise.resolve(),
      };
      this.#entries.set(fn.name.toLowerCase(), entry);

      const pastDue = entry.status !== null && Date.parse(entry.status.next) < now.getTime();
      if (entry.useMonitor && entry.status === null) {
        entry.status = {
          last: neverRun,
          next: formatWithOffset(schedule.nextAfter(now)),
          lastUpdated: formatWithOffset(now),
        };
        this.#writeStatus(entry);
      }
      if (pastDue) {
        void this.#run(entry, now, true);
      } else if (binding["runOnStartup"] === true) {
        void this.#run(entry, now, false);
      }
      this.#arm(entry, now);
    }
  }

  /** The persisted schedule status of a timer (null when it has no monitor). */
  status(functionName: string): ScheduleStatus | null | undefined {
    const entry = this.#entries.get(functionName.toLowerCase());
    return entry ? entry.status : undefined;
  }

  /** When a timer fires next. */
  nextOccurrence(functionName: string): Date | undefined {
    const entry = this.#entries.get(functionName.toLowerCase());
    return entry ? entry.schedule.nextAfter(this.#options.clock.now()) : undefined;
  }

  /** Runs a timer once now (the admin API), not past due; resolves when it has run. */
  async runNow(functionName: string): Promise<void> {
    const entry = this.#entries.get(functionName.toLowerCase());
    if (!entry) return;
    await this.#run(entry, this.#options.clock.now(), false);
  }

  /** Resolves once every running invocation has finished. */
  async idle(): Promise<void> {
    await Promise.all([...this.#entries.values()].map((entry) => entry.running));
  }

  /** Cancels every pending occurrence. */
  stop(): void {
    this.#stopped = true;
    for (const entry of this.#entries.values()) entry.cancel?.();
    for (const [resolve, cancel] of this.#retryWaits) {
      cancel();
      resolve();
    }
    this.#retryWaits.clear();
  }

  #arm(entry: TimerEntry, after: Date): void {
    if (this.#stopped) return;
    const next = entry.schedule.nextAfter(after);
    entry.cancel = this.#options.clock.setTimer(next, () => {
      entry.cancel = undefined;
      void this.#run(entry, next, false);
      this.#arm(entry, next);
    });
  }

  #run(entry: TimerEntry, occurrence: Date, isPastDue: boolean): Promise<void> {
    // Invocations of one timer are serialized, as the listener's invocation lock does.
    entry.running = entry.running.then(async () => {
      if (this.#stopped) return;
      await this.#invokeWithRetries(entry, isPastDue);
      if (entry.useMonitor) {
        const now = this.#options.clock.now();
        entry.status = {
          last: formatWithOffset(occurrence),
          next: formatWithOffset(entry.schedule.nextAfter(occurrence)),
          lastUpdated: formatWithOffset(now),
        };
        this.#writeStatus(entry);
      }
    });
    return entry.running;
  }

  /** One run, retried per the function's retry policy; a failure never stops the schedule. */
  async #invokeWithRetries(entry: TimerEntry, isPastDue: boolean): Promise<void> {
    const policy = entry.retry;
    let exception: { message: string; stackTrace?: string } | undefined;
    for (let retryCount = 0; ; retryCount += 1) {
      try {
        await this.#options.invoker.invoke(
          entry.functionName,
          {
            inputData: [
              {
                name: entry.triggerBindingName,
                data: { json: timerInfoJson(entry.status, isPastDue) },
              },
            ],
            triggerMetadata: {},
          },
          {
            reason: isPastDue ? "Timer is past due" : "Timer fired",
            ...(policy
              ? {
                  retryContext: {
                    retryCount,
                    maxRetryCount: policy.maxRetryCount,
                    ...(exception ? { exception } : {}),
                  },
                }
              : {}),
          },
        );
        return;
      } catch (error) {
        // The invoker has logged the failure.
        if (
          !policy ||
          (policy.maxRetryCount >= 0 && retryCount >= policy.maxRetryCount) ||
          this.#stopped
        )
          return;
        exception = {
          message: (error as Error).message,
          ...((error as Error).stack ? { stackTrace: (error as Error).stack } : {}),
        };
      }
      const delay = retryDelay(policy, retryCount + 1);
      this.#options.log.write(
        "warning",
        `Retrying 'Functions.${entry.functionName}' in ${delay} ms (retry ${retryCount + 1} of ${policy.maxRetryCount}).`,
      );
      await new Promise<void>((resolve) => {
        const cancel = this.#options.clock.setTimer(
          new Date(this.#options.clock.now().getTime() + delay),
          () => {
            this.#retryWaits.delete(resolve);
            resolve();
          },
        );
        this.#retryWaits.set(resolve, cancel);
      });
      if (this.#stopped) return;
    }
  }

  #statusFile(functionName: string): string {
    return path.join(this.#options.stateDir, `${functionName.toLowerCase()}.status.json`);
  }

  #readStatus(functionName: string): ScheduleStatus | null {
    try {
      const json = JSON.parse(
        readFileSync(this.#statusFile(functionName), "utf8"),
      ) as Partial<ScheduleStatus>;
      if (
        typeof json.last === "string" &&
        typeof json.next === "string" &&
        typeof json.lastUpdated === "string"
      ) {
        return { last: json.last, next: json.next, lastUpdated: json.lastUpdated };
      }
    } catch {
      // No status yet.
    }
    return null;
  }

  #writeStatus(entry: TimerEntry): void {
    if (!entry.status) return;
    mkdirSync(this.#options.stateDir, { recursive: true });
    const file = this.#statusFile(entry.functionName);
    writeFileSync(`${file}.tmp`, `${JSON.stringify(entry.status, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
  }
}
