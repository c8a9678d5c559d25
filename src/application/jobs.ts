/**
 * The jobs lookup: backup and restore jobs of every vault the app covers, filtered, newest first,
 * one page at a time.
 */
import type { BackupJob } from "../domain/protection/types.js";
import type { JobFilter } from "../providers/ports.js";
import { listJobsOfVaults } from "./vaultJobs.js";
import { vaultsToSearch, type VaultDependencies } from "./vaults.js";

/** Where a page ends: the last job's start and name (jobs are listed newest first). */
export interface JobPageCursor {
  readonly s: string;
  readonly n: string;
}

/** What to list: the provider's filter, and what only this use case applies. */
export interface JobPageRequest {
  readonly filter: JobFilter;
  readonly vault?: string;
  /** A datasource's name (`sales`, `local/sales`) when not given by ARM id. */
  readonly datasourceName?: string;
  readonly top: number;
  readonly after?: JobPageCursor;
}

/** One page of jobs, and where the next starts when there is one. */
export interface JobPage {
  readonly value: readonly BackupJob[];
  readonly next?: JobPageCursor;
}

/**
 * Lists one page of jobs of the named vault, or of every vault the app covers.
 *
 * @remarks The vaults are listed in one cross-vault query where the provider has one (Azure:
 * Resource Graph, which shows jobs a few minutes after the service), vault by vault otherwise.
 */
export async function listJobPage(
  deps: VaultDependencies,
  request: JobPageRequest,
): Promise<JobPage> {
  const vaultIds = await vaultsToSearch(deps, request.vault);
  const name = request.datasourceName?.toLowerCase();
  const jobs = (await listJobsOfVaults(deps.provider, vaultIds, request.filter))
    .filter(
      (job) =>
        !name ||
        job.dataSourceName.toLowerCase() === name ||
        job.backupInstanceFriendlyName.toLowerCase() === name,
    )
    .sort(
      (a, b) => Date.parse(b.startTime) - Date.parse(a.startTime) || b.name.localeCompare(a.name),
    );
  const after = request.after;
  const rest = after
    ? jobs.filter((job) => {
        const start = Date.parse(job.startTime);
        const cursor = Date.parse(after.s);
        return start < cursor || (start === cursor && job.name.localeCompare(after.n) < 0);
      })
    : jobs;
  const value = rest.slice(0, request.top);
  const last = value[value.length - 1];
  return rest.length > request.top && last
    ? { value, next: { s: last.startTime, n: last.name } }
    : { value };
}
