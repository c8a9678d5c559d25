/**
 * The time source of the Durable engine: orchestrations see it as `currentUtcDateTime` and durable
 * timers fire when it says they are due. Production uses the system clock; tests advance a
 * {@link ManualClock} so hour-long timers take milliseconds.
 */

/** Cancels a scheduled wake-up. */
export type CancelWakeUp = () => void;

/** A clock that can also wake the engine at a given time. */
export interface DurableClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `callback` once, at or after `at` (epoch milliseconds) by this clock. */
  wakeAt(at: number, callback: () => void): CancelWakeUp;
}

/** setTimeout accepts at most about 24.8 days. */
const maxTimeoutMs = 2 ** 31 - 1;

/** The real clock. */
export const systemClock: DurableClock = {
  now: () => Date.now(),
  wakeAt(at, callback) {
    let handle: NodeJS.Timeout | undefined;
    const arm = (): void => {
      const delay = at - Date.now();
      if (delay <= 0) {
        handle = undefined;
        callback();
        return;
      }
      handle = setTimeout(arm, Math.min(delay, maxTimeoutMs));
      handle.unref?.();
    };
    arm();
    return () => {
      if (handle) clearTimeout(handle);
    };
  },
};

/**
 * A clock that moves only when told to; wake-ups fire synchronously, in due-time order, as time
 * passes them.
 */
export class ManualClock implements DurableClock {
  private current: number;
  private readonly sleepers = new Set<{ at: number; callback: () => void }>();

  constructor(start: Date | number = Date.UTC(2030, 0, 1)) {
    this.current = typeof start === "number" ? start : start.getTime();
  }

  now(): number {
    return this.current;
  }

  wakeAt(at: number, callback: () => void): CancelWakeUp {
    const sleeper = { at, callback };
    this.sleepers.add(sleeper);
    if (at <= this.current) this.fireDue();
    return () => this.sleepers.delete(sleeper);
  }

  /** Moves time forward and fires every wake-up that became due. */
  advance(ms: number): void {
    this.current += ms;
    this.fireDue();
  }

  private fireDue(): void {
    const due = [...this.sleepers].sort((a, b) => a.at - b.at);
    for (const sleeper of due) {
      if (sleeper.at <= this.current && this.sleepers.has(sleeper)) {
        this.sleepers.delete(sleeper);
        sleeper.callback();
      }
    }
  }
}

/** A clock in the shape the rest of the local runtime uses (`Date`-based). */
export interface DateClock {
  now(): Date;
  setTimer(at: Date, callback: () => void): () => void;
}

/** Lets the Durable engine follow the same clock as the host's timers and Event Grid retries. */
export function durableClockFrom(clock: DateClock): DurableClock {
  return {
    now: () => clock.now().getTime(),
    wakeAt: (at, callback) => clock.setTimer(new Date(at), callback),
  };
}
