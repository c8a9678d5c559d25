/**
 * What a query of the job history asks, and the one definition of which jobs match it and in
 * which order they come, shared by every store and by the live listing merged with them.
 */
import { lastSegment } from "../protection/ids.js";
import type { BackupJob, JobOperation, JobStatus } from "../protection/types.js";

/** Filters over recorded jobs; all given filters must match. */
export interface JobHistoryFilter {
  /** Jobs started at or after this instant (ISO 8601). */
  readonly from?: string;
  /** Jobs started before this instant (ISO 8601). */
  readonly to?: string;
  /** Jobs started or ended at or after this instant (ISO 8601). */
  readonly since?: string;
  readonly status?: readonly JobStatus[];
  readonly operation?: readonly JobOperation[];
  /** A vault's name (case-insensitive). */
  readonly vault?: string;
  /**
   * The ARM id the vault name was resolved to: only that vault's jobs (a vault of the same name in
   * another resource group is another vault), and a key range a store can read alone.
   */
  readonly vaultId?: string;
  /** A backup instance: its ARM id, name or friendly name (case-insensitive). */
  readonly instance?: string;
  /** A datasource's ARM id (case-insensitive). */
  readonly datasourceId?: string;
  /** A datasource's name or its instance's friendly name (`sales`, `local/sales`). */
  readonly datasourceName?: string;
}

/** Where a page ends: the last job's start and name (jobs come newest first). */
export interface JobHistoryCursor {
  readonly s: string;
  readonly n: string;
}

/** A page request: filters, size, and where the previous page ended. */
export interface JobHistoryQuery extends JobHistoryFilter {
  readonly top: number;
  readonly after?: JobHistoryCursor;
}

/** One page of jobs, newest first, and where the next starts when there is one. */
export interface JobHistoryPage {
  readonly value: readonly BackupJob[];
  readonly next?: JobHistoryCursor;
}

const lower = (text: string | undefined) => (text ?? "").toLowerCase();

/** Whether a job matches every filter given. */
export function matchesJobFilter(job: BackupJob, filter: JobHistoryFilter): boolean {
  const start = Date.parse(job.startTime);
  if (filter.from !== undefined && start < Date.parse(filter.from)) return false;
  if (filter.to !== undefined && start >= Date.parse(filter.to)) return false;
  if (filter.since !== undefined) {
    const since = Date.parse(filter.since);
    const end = job.endTime === undefined ? Number.NaN : Date.parse(job.endTime);
    if (!(start >= since || end >= since)) return false;
  }
  if (filter.status && !filter.status.includes(job.status)) return false;
  if (filter.operation && !filter.operation.includes(job.operation)) return false;
  if (filter.vault !== undefined && lower(job.vaultName) !== lower(filter.vault)) return false;
  // The job's own id names its vault even where the service leaves the instance's id out.
  if (
    filter.vaultId !== undefined &&
    !lower(job.id).startsWith(`${lower(filter.vaultId)}/backupjobs/`) &&
    !lower(job.backupInstanceId).startsWith(`${lower(filter.vaultId)}/backupinstances/`)
  )
    return false;
  if (filter.instance !== undefined) {
    const wanted = lower(filter.instance);
    const names = [
      lower(job.backupInstanceId),
      lower(lastSegment(job.backupInstanceId) ?? job.backupInstanceId),
      lower(job.backupInstanceFriendlyName),
    ];
    if (!names.includes(wanted)) return false;
  }
  if (filter.datasourceId !== undefined && lower(job.dataSourceId) !== lower(filter.datasourceId))
    return false;
  if (filter.datasourceName !== undefined) {
    const wanted = lower(filter.datasourceName);
    if (lower(job.dataSourceName) !== wanted && lower(job.backupInstanceFriendlyName) !== wanted)
      return false;
  }
  return true;
}

/** Newest start first; at the same start, by name descending (a total order for paging). */
export function compareNewestFirst(
  a: Pick<BackupJob, "startTime" | "name">,
  b: Pick<BackupJob, "startTime" | "name">,
): number {
  return (
    Date.parse(b.startTime) - Date.parse(a.startTime) ||
    (a.name < b.name ? 1 : a.name > b.name ? -1 : 0)
  );
}

/** Whether a job comes after the cursor in {@link compareNewestFirst} order. */
export function isAfterCursor(
  job: Pick<BackupJob, "startTime" | "name">,
  cursor: JobHistoryCursor | undefined,
): boolean {
  return (
    cursor === undefined || compareNewestFirst({ startTime: cursor.s, name: cursor.n }, job) < 0
  );
}

/** The cursor a page ending at `job` hands the next. */
export function cursorAt(job: Pick<BackupJob, "startTime" | "name">): JobHistoryCursor {
  return { s: job.startTime, n: job.name };
}

/**
 * One page out of jobs in any order: the matching jobs after the cursor, newest first, `top` of
 * them, and the cursor of the next page when more remain.
 */
export function pageOf(jobs: readonly BackupJob[], query: JobHistoryQuery): JobHistoryPage {
  const rest = jobs
    .filter((job) => matchesJobFilter(job, query) && isAfterCursor(job, query.after))
    .sort(compareNewestFirst);
  const value = rest.slice(0, query.top);
  const last = value.at(-1);
  return rest.length > query.top && last ? { value, next: cursorAt(last) } : { value };
}

/** How far a job has come: a later state never gives way to an earlier one. */
export function statusRank(status: JobStatus): number {
  return status === "InProgress" ? 0 : 1;
}
