/**
 * What a query of the drill history asks, and the one definition of which drills match it and in
 * which order they come (newest first), shared by every store.
 */
import type { DrillRecord, DrillVerdict } from "./drill.js";

/** Filters over recorded drills; all given filters must match. */
export interface DrillFilter {
  /** Drills begun at or after this instant (ISO 8601). */
  readonly from?: string;
  /** Drills begun before this instant (ISO 8601). */
  readonly to?: string;
  readonly verdict?: readonly DrillVerdict[];
  /** A backup instance: its ARM id, name or friendly name (case-insensitive). */
  readonly instance?: string;
  /** A drill schedule's name (case-insensitive). */
  readonly schedule?: string;
}

/** Where a page ends: the last drill's start and id. */
export interface DrillCursor {
  readonly s: string;
  readonly i: string;
}

/** A page request. */
export interface DrillQuery extends DrillFilter {
  readonly top: number;
  readonly after?: DrillCursor;
}

/** One page of drills, newest first. */
export interface DrillPage {
  readonly value: readonly DrillRecord[];
  readonly next?: DrillCursor;
}

/** Whether a drill matches every filter given. */
export function matchesDrillFilter(drill: DrillRecord, filter: DrillFilter): boolean {
  const start = Date.parse(drill.startTime);
  if (filter.from !== undefined && start < Date.parse(filter.from)) return false;
  if (filter.to !== undefined && start >= Date.parse(filter.to)) return false;
  if (filter.verdict && !filter.verdict.includes(drill.verdict)) return false;
  if (filter.instance !== undefined) {
    const wanted = filter.instance.toLowerCase();
    if (
      ![drill.backupInstanceId, drill.backupInstanceName, drill.friendlyName].some(
        (name) => name.toLowerCase() === wanted,
      )
    )
      return false;
  }
  if (
    filter.schedule !== undefined &&
    (drill.schedule ?? "").toLowerCase() !== filter.schedule.toLowerCase()
  )
    return false;
  return true;
}

/** Newest first; drills begun together by id, descending. */
export function compareDrills(a: DrillRecord, b: DrillRecord): number {
  const byStart = Date.parse(b.startTime) - Date.parse(a.startTime);
  if (byStart !== 0) return byStart;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** Whether a drill comes after the cursor in the page order. */
export function isAfterCursor(drill: DrillRecord, cursor: DrillCursor): boolean {
  const start = Date.parse(drill.startTime);
  const at = Date.parse(cursor.s);
  return start < at || (start === at && drill.id < cursor.i);
}

/** The cursor at a drill. */
export function drillCursorAt(drill: DrillRecord): DrillCursor {
  return { s: drill.startTime, i: drill.id };
}
