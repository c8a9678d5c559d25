/**
 * The runtime's notion of time. Timers and Event Grid retries read it, so tests can move time
 * forward instead of waiting for it.
 */

/** Cancels a timer set with {@link Clock.setTimer}. */
export type CancelTimer = () => void;

/** A source of the current time and of wake-ups at given times. */
export interface Clock {
  now(): Date;
  /** Calls `callback` once the clock reaches `at` (at once if `at` has passed). */
  setTimer(at: Date, callback: () => void): CancelTimer;
}

// setTimeout overflows above 2^31-1 ms (about 24.8 days); longer waits are chained.
const longestTimeoutMs = 2 ** 31 - 1;

/** The machine's clock. */
export const systemClock: Clock = {
  now: () => new Date(),
  setTimer(at, callback) {
    let handle: NodeJS.Timeout | undefined;
    const arm = () => {
      const remaining = at.getTime() - Date.now();
      if (remaining <= 0) {
        handle = undefined;
        callback();
        return;
      }
      handle = setTimeout(arm, Math.min(remaining, longestTimeoutMs));
      // The HTTP server, not a pending timer, keeps a host alive.
      handle.unref();
    };
    arm();
    return () => {
      if (handle) clearTimeout(handle);
    };
  },
};

interface ManualTimer {
  readonly at: number;
  readonly sequence: number;
  readonly callback: () => void;
}

/**
 * A clock that moves only when told to. Timers due at or before the new time fire in time order
 * during {@link ManualClock.advanceTo}.
 */
export class ManualClock implements Clock {
  #now: number;
  #sequence = 0;
  readonly #timers = new Set<ManualTimer>();

  constructor(start: Date) {
    this.#now = start.getTime();
  }

  now(): Date {
    return new Date(this.#now);
  }

  setTimer(at: Date, callback: () => void): CancelTimer {
    const timer: ManualTimer = { at: at.getTime(), sequence: this.#sequence++, callback };
    this.#timers.add(timer);
    return () => {
      this.#timers.delete(timer);
    };
  }

  /** How many timers are waiting. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** The time of the earliest pending timer, if any. */
  nextTimerAt(): Date | undefined {
    const earliest = this.#earliest();
    return earliest ? new Date(earliest.at) : undefined;
  }

  /** Moves the clock to `time`, firing due timers one by one at their own times. */
  advanceTo(time: Date): void {
    const target = time.getTime();
    for (;;) {
      const due = this.#earliest();
      if (!due || due.at > target) break;
      this.#timers.delete(due);
      this.#now = Math.max(this.#now, due.at);
      due.callback();
    }
    this.#now = Math.max(this.#now, target);
  }

  /** Moves the clock forward by `milliseconds`. */
  advanceBy(milliseconds: number): void {
    this.advanceTo(new Date(this.#now + milliseconds));
  }

  #earliest(): ManualTimer | undefined {
    let earliest: ManualTimer | undefined;
    for (const timer of this.#timers) {
      if (
        !earliest ||
        timer.at < earliest.at ||
        (timer.at === earliest.at && timer.sequence < earliest.sequence)
      ) {
        earliest = timer;
      }
    }
    return earliest;
  }
}
