/**
 * Parsed histories of running instances, kept in memory between episodes so that an episode reads
 * and parses only the events it appends instead of the instance's whole history.
 *
 * @remarks SQLite stays the source of truth: the {@link DurableStore} fills an entry from its
 * tables, extends it only after the transaction that appended the events has committed, and drops
 * it whenever history is deleted or rewritten. Nothing is persisted; a new process starts empty.
 */
import type { HistoryEvent } from "./history.js";

/** Default bound of {@link HistoryCache}: history events kept over all instances. */
export const defaultHistoryCacheEvents = 200_000;

/** One instance's cached history, valid for one execution only. */
export interface CachedHistory {
  readonly executionId: string;
  /** Deep-frozen events, oldest first. */
  readonly events: readonly HistoryEvent[];
}

/**
 * Freezes an event and every object inside it, so that a caller that mutates an event it got from
 * the cache fails at once instead of silently changing what later episodes replay.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/**
 * A least-recently-used map from instance id to that instance's parsed history, bounded by the
 * total number of events it holds (not by instances: one instance may have 10,000 events).
 */
export class HistoryCache {
  private readonly maxEvents: number;
  /** Map order is recency order: the first entry is the least recently used. */
  private readonly entries = new Map<string, CachedHistory>();
  private eventCount = 0;

  /** @param maxEvents events kept over all instances; 0 keeps nothing. */
  constructor(maxEvents: number = defaultHistoryCacheEvents) {
    if (!Number.isInteger(maxEvents) || maxEvents < 0) {
      throw new RangeError(`The history cache size must be a whole number >= 0, got ${maxEvents}.`);
    }
    this.maxEvents = maxEvents;
  }

  /** Instances and events held now (for tests and diagnostics). */
  get size(): { readonly instances: number; readonly events: number } {
    return { instances: this.entries.size, events: this.eventCount };
  }

  /**
   * The cached events of `executionId`, marked most recently used. An entry of another execution
   * is stale (the instance was restarted or continued as new) and is dropped.
   */
  get(instanceId: string, executionId: string): readonly HistoryEvent[] | undefined {
    const entry = this.entries.get(instanceId);
    if (!entry) return undefined;
    this.entries.delete(instanceId);
    if (entry.executionId !== executionId) {
      this.eventCount -= entry.events.length;
      return undefined;
    }
    this.entries.set(instanceId, entry);
    return entry.events;
  }

  /**
   * Stores an instance's whole history, replacing any entry, then evicts the least recently used
   * entries beyond the bound (this one too when it alone is larger than the bound).
   *
   * @param events deep-frozen events; the cache keeps the array, so the caller must not change it.
   */
  set(instanceId: string, executionId: string, events: readonly HistoryEvent[]): void {
    this.delete(instanceId);
    if (this.maxEvents === 0) return;
    this.entries.set(instanceId, { executionId, events });
    this.eventCount += events.length;
    for (const [oldest, entry] of this.entries) {
      if (this.eventCount <= this.maxEvents) break;
      this.entries.delete(oldest);
      this.eventCount -= entry.events.length;
    }
  }

  /**
   * Removes and returns an instance's entry. The store takes an entry out before a transaction
   * that writes the instance's history and puts it back only once the transaction committed: a
   * rollback then leaves no entry behind, and the next read goes to SQLite.
   */
  take(instanceId: string): CachedHistory | undefined {
    const entry = this.entries.get(instanceId);
    if (entry) this.delete(instanceId);
    return entry;
  }

  /** Forgets an instance's history (deleted, reset or rewritten in SQLite). */
  delete(instanceId: string): void {
    const entry = this.entries.get(instanceId);
    if (!entry) return;
    this.entries.delete(instanceId);
    this.eventCount -= entry.events.length;
  }

  /** Forgets everything. */
  clear(): void {
    this.entries.clear();
    this.eventCount = 0;
  }
}
