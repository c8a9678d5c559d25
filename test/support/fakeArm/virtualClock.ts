import type { AbortSignalLike, ThrottleClock } from "../../../src/providers/azure/throttling.js";

interface Sleeper {
  readonly until: number;
  readonly resolve: () => void;
}

/**
 * A clock for the app's throttle and the fake's buckets that moves only when every task it runs
 * is asleep on it: while any request is on its way or being answered, no time passes. Which
 * request the fake refuses then follows from the buckets' arithmetic alone, however busy the
 * machine is. Tasks must be started with {@link QuiescentClock.run}; a task waiting on anything
 * else (a real timer, a socket) holds the clock still until it is done waiting. Each task sends
 * one request at a time: a task sleeping on the clock in two places at once would let it move
 * while its other request travels.
 */
export class QuiescentClock implements ThrottleClock {
  private time = 0;
  private running = 0;
  private readonly sleepers: Sleeper[] = [];

  now(): number {
    return this.time;
  }

  /** Runs `task` as one of the tasks the clock waits for before it moves. */
  run<T>(task: () => Promise<T>): Promise<T> {
    this.running += 1;
    return task().finally(() => {
      this.running -= 1;
      this.advanceWhenIdle();
    });
  }

  sleep(ms: number, signal?: AbortSignalLike): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(new Error("The operation was aborted."));
    return new Promise<void>((resolve) => {
      this.sleepers.push({ until: this.time + ms, resolve });
      this.running -= 1;
      this.advanceWhenIdle();
    });
  }

  private advanceWhenIdle(): void {
    if (this.running > 0 || this.sleepers.length === 0) return;
    this.sleepers.sort((a, b) => a.until - b.until);
    const next = this.sleepers.shift();
    if (!next) return;
    this.time = Math.max(this.time, next.until);
    this.running += 1;
    next.resolve();
  }
}
