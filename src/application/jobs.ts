/**
 * The jobs lookup: backup and restore jobs of every vault the app covers, filtered, newest first,
 * one page at a time, from pgprotect's own history merged with what the vaults show now.
 */
import {
  compareNewestFirst,
  cursorAt,
  isAfterCursor,
  matchesJobFilter,
  type JobHistoryCursor,
  type JobHistoryFilter,
} from "../domain/history/jobQuery.js";
import type { BackupJob } from "../domain/protection/types.js";
import type { JobFilter, JobHistoryPort } from "../providers/ports.js";
import { withJobAlarms } from "./alarmMarks.js";
import { listJobsOfVaults } from "./vaultJobs.js";
import { vaultsToSearch, type VaultDependencies } from "./vaults.js";

/** Where a page ends: the last job's start and name (jobs are listed newest first). */
export type JobPageCursor = JobHistoryCursor;

/** What to list: the provider's filter, and what only this use case applies. */
export interface JobPageRequest {
  readonly filter: JobFilter;
  readonly vault?: string;
  /** A datasource's name (`sales`, `local/sales`) when not given by ARM id. */
  readonly datasourceName?: string;
  /** Jobs started at or after this instant (ISO 8601). */
  readonly from?: string;
  /** Jobs started before this instant (ISO 8601). */
  readonly to?: string;
  /** A backup instance by ARM id, name or friendly name. */
  readonly instance?: string;
  readonly top: number;
  readonly after?: JobPageCursor;
}

/** One page of jobs, and where the next starts when there is one. */
export interface JobPage {
  readonly value: readonly BackupJob[];
  readonly next?: JobPageCursor;
}

/** What the lookup reads: the vaults, and the history when the app keeps one. */
export type JobLookupDependencies = VaultDependencies & { readonly history?: JobHistoryPort };

/** Rows an export reads per page of the history, and the most one export answers. */
export const jobExport = { pageSize: 1000, maxRows: 100_000 } as const;

function historyFilterOf(
  request: JobPageRequest,
  vaultName?: string,
  vaultId?: string,
): JobHistoryFilter {
  const { filter } = request;
  const instance = request.instance ?? filter.backupInstanceName;
  return {
    ...(request.from !== undefined ? { from: request.from } : {}),
    ...(request.to !== undefined ? { to: request.to } : {}),
    ...(filter.since !== undefined ? { since: filter.since } : {}),
    ...(filter.status ? { status: filter.status } : {}),
    ...(filter.operation ? { operation: filter.operation } : {}),
    ...(vaultName !== undefined ? { vault: vaultName } : {}),
    ...(vaultName !== undefined && vaultId !== undefined ? { vaultId } : {}),
    ...(instance !== undefined ? { instance } : {}),
    ...(filter.datasourceId !== undefined ? { datasourceId: filter.datasourceId } : {}),
    ...(request.datasourceName !== undefined ? { datasourceName: request.datasourceName } : {}),
  };
}

/**
 * Lists one page of jobs of the named vault, or of every vault the app covers.
 *
 * @remarks The vaults are listed as they are now (Azure: Resource Graph, one cross-vault query;
 * locally vault by vault), which covers the jobs the job watcher has not recorded yet, and the
 * history adds every job recorded before, however old: Resource Graph keeps jobs about 14 days,
 * the history `HISTORY_RETENTION_DAYS`. A job in both is shown as the vault shows it now.
 */
export async function listJobPage(
  deps: JobLookupDependencies,
  request: JobPageRequest,
): Promise<JobPage> {
  const page = await pageOver(deps, await liveJobs(deps, request), request);
  // With a history, each job carries the stuck and anomaly alarms raised about it.
  return deps.history ? { ...page, value: await withJobAlarms(deps.history, page.value) } : page;
}

/** The jobs the vaults show now for the request's window, in any state, and the vaults searched. */
interface LiveJobs {
  readonly jobs: readonly BackupJob[];
  readonly vaultIds: readonly string[];
}

/** The jobs the vaults show now for the request's window, in any state. */
async function liveJobs(
  deps: JobLookupDependencies,
  request: Omit<JobPageRequest, "top">,
): Promise<LiveJobs> {
  const vaultIds = await vaultsToSearch(deps, request.vault);
  const since = latest(request.filter.since, request.from);
  // With a history, unfiltered by status: a job the vault shows in a later state than the history
  // recorded must replace that record, whatever state was asked for. A job's operation never changes.
  const { status: _status, ...unchanging } = request.filter;
  const jobs = await listJobsOfVaults(deps.provider, vaultIds, {
    ...(deps.history ? unchanging : request.filter),
    ...(since !== undefined ? { since } : {}),
  });
  return { jobs, vaultIds };
}

async function pageOver(
  deps: JobLookupDependencies,
  { jobs: live, vaultIds }: LiveJobs,
  request: JobPageRequest,
): Promise<JobPage> {
  // A vault named resolves to one id, whose key range a history store can read alone.
  const filter = historyFilterOf(
    request,
    request.vault,
    request.vault !== undefined && vaultIds.length === 1 ? vaultIds[0] : undefined,
  );
  const liveIds = new Set(live.map((job) => job.id.toLowerCase()));
  const fromLive = live.filter(
    (job) => matchesJobFilter(job, filter) && isAfterCursor(job, request.after),
  );
  let fromHistory: readonly BackupJob[] = [];
  let historyHasMore = false;
  if (deps.history) {
    // Enough rows that, with those the live listing replaces taken out, a full page remains.
    const page = await deps.history.queryJobs({
      ...filter,
      top: request.top + liveIds.size,
      ...(request.after ? { after: request.after } : {}),
    });
    fromHistory = page.value.filter((job) => !liveIds.has(job.id.toLowerCase()));
    historyHasMore = page.next !== undefined;
  }
  const merged = [...fromLive, ...fromHistory].sort(compareNewestFirst);
  const value = merged.slice(0, request.top);
  const last = value.at(-1);
  const more = merged.length > request.top || (historyHasMore && value.length === request.top);
  return more && last ? { value, next: cursorAt(last) } : { value };
}

/**
 * Every job of the window, page after page, up to {@link jobExport}.maxRows; `next` says where
 * to go on when more remain.
 */
export async function exportJobs(
  deps: JobLookupDependencies,
  request: Omit<JobPageRequest, "top">,
): Promise<JobPage> {
  const live = await liveJobs(deps, request);
  const jobs: BackupJob[] = [];
  let after = request.after;
  for (;;) {
    const top = Math.min(jobExport.pageSize, jobExport.maxRows - jobs.length);
    const page = await pageOver(deps, live, { ...request, top, ...(after ? { after } : {}) });
    jobs.push(...page.value);
    if (!page.next) return { value: jobs };
    if (jobs.length >= jobExport.maxRows) return { value: jobs, next: page.next };
    after = page.next;
  }
}

function latest(...instants: (string | undefined)[]): string | undefined {
  const given = instants.filter((instant): instant is string => instant !== undefined);
  if (given.length === 0) return undefined;
  return given.reduce((a, b) => (Date.parse(a) >= Date.parse(b) ? a : b));
}
