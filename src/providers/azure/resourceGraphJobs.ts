/**
 * Backup jobs across vaults and subscriptions through Azure Resource Graph, the way
 * `az dataprotection job list-from-resourcegraph` asks: `RecoveryServicesResources` rows of type
 * `microsoft.dataprotection/backupvaults/backupjobs`.
 *
 * @remarks The Azure provider's {@link CrossVaultJobPort}: the jobs of every watched vault in one
 * query (paged by `$skipToken`, subscriptions in batches) instead of one Resource Manager list per
 * vault and page, counted against Resource Graph's per-user quota instead of the subscription's
 * read bucket. Resource Graph shows a job, and each change of its state, a few minutes after the
 * service; single-job reads (`getJob`) stay with Resource Manager.
 */
import { parseVaultId, sameResourceId } from "../../domain/protection/ids.js";
import type { BackupJob, JobStatus } from "../../domain/protection/types.js";
import type { CrossVaultJobPort, JobFilter } from "../ports.js";
import { jobMatchesFilter, toBackupJob } from "./armMapping.js";
import type { AzureBackupJobResourceOutput } from "./dataProtection/outputModels.js";
import {
  createResourceGraphClient,
  kustoList,
  type ResourceGraphClient,
  type ResourceGraphClientOptions,
} from "./resourceGraph.js";

const JOBS_QUERY =
  "RecoveryServicesResources | where type =~ 'microsoft.dataprotection/backupvaults/backupjobs'";

/** Options of {@link createResourceGraphJobSource}. */
export type ResourceGraphJobSourceOptions = ResourceGraphClientOptions;

/** Which jobs to find across vaults. */
export interface CrossVaultJobFilter extends JobFilter {
  /** Subscriptions to search. */
  readonly subscriptions: readonly string[];
  /** Only these vaults (names). */
  readonly vaultNames?: readonly string[];
}

/** The service's job statuses behind each domain status, for the query. */
const serviceStatuses: Readonly<Record<JobStatus, readonly string[]>> = {
  InProgress: ["InProgress", "Started", "Cancelling", "Paused"],
  Completed: ["Completed", "Succeeded", "CompletedWithWarnings"],
  Failed: ["Failed"],
  Cancelled: ["Cancelled", "Canceled"],
};

/**
 * The Kusto query for backup jobs, with the filters of `az dataprotection job
 * list-from-resourcegraph` appended as `where ... in~ (...)` clauses.
 */
export function backupJobsQuery(filter: Omit<CrossVaultJobFilter, "subscriptions"> = {}): string {
  const parts = [
    JOBS_QUERY,
    "| extend vaultName = properties.vaultName",
    "| extend status = properties.status",
    "| extend operation = case( tolower(properties.operationCategory) startswith 'backup' and properties.isUserTriggered == 'true', strcat('OnDemand',properties.operationCategory), tolower(properties.operationCategory) startswith 'backup' and properties.isUserTriggered == 'false', strcat('Scheduled', properties.operationCategory), type =~ 'microsoft.dataprotection/backupVaults/backupJobs', properties.operationCategory, 'Invalid')",
    "| extend datasourceId = properties.dataSourceId",
  ];
  if (filter.vaultNames?.length)
    parts.push(`| where vaultName in~ ${kustoList(filter.vaultNames)}`);
  if (filter.status?.length)
    parts.push(`| where status in~ ${kustoList(filter.status.flatMap((s) => serviceStatuses[s]))}`);
  if (filter.operation?.length) parts.push(`| where operation in~ ${kustoList(filter.operation)}`);
  if (filter.datasourceId)
    parts.push(`| where datasourceId in~ ${kustoList([filter.datasourceId])}`);
  if (filter.since) {
    // At or after, as JobFilter.since says: a job starting on the watermark itself is listed.
    const since = new Date(filter.since).toISOString();
    parts.push(
      `| where properties.startTime >= datetime(${since}) or properties.endTime >= datetime(${since})`,
    );
  }
  parts.push("| order by tostring(properties.startTime) asc");
  return parts.join(" ");
}

/** The id of the vault a job row belongs to (empty when the row has no id). */
const vaultIdOf = (row: AzureBackupJobResourceOutput): string =>
  /^(.*\/backupVaults\/[^/]+)\//i.exec(row.id ?? "")?.[1] ?? "";

const byStart = (a: BackupJob, b: BackupJob): number =>
  Date.parse(a.startTime) - Date.parse(b.startTime);

/** The values once each, compared case-insensitively, in first-seen order. */
function distinct(values: readonly string[]): string[] {
  return [...new Map(values.map((value) => [value.toLowerCase(), value])).values()];
}

/** Jobs across vaults through Resource Graph. */
export class ResourceGraphJobSource implements CrossVaultJobPort {
  constructor(private readonly graph: ResourceGraphClient) {}

  /** Jobs matching the filter in every vault of the subscriptions, oldest start first. */
  async listJobs(filter: CrossVaultJobFilter): Promise<BackupJob[]> {
    const backupInstance = filter.backupInstanceName?.toLowerCase();
    return (await this.rows(filter))
      .map((row) => toBackupJob(row, vaultIdOf(row)))
      .filter(
        (job) =>
          !backupInstance || job.backupInstanceId.toLowerCase().endsWith(`/${backupInstance}`),
      )
      .sort(byStart);
  }

  /**
   * The jobs `AzureBackupService.listJobs` returns for each vault, in one query: the
   * subscriptions come from the vault ids.
   *
   * @remarks The query narrows by what it can state exactly or more widely (vault names, the
   * datasource, the watermark, statuses other than `InProgress`); every row is then mapped and
   * held to Resource Manager's own filter ({@link jobMatchesFilter}), so a same-named vault in
   * another resource group, or a status the service adds later (counted as `InProgress`), comes
   * out as it would vault by vault. Jobs starting at the same instant keep the order of
   * `vaultIds`, as a per-vault listing merged by start does.
   */
  async listJobsAcrossVaults(
    vaultIds: readonly string[],
    filter: JobFilter = {},
  ): Promise<BackupJob[]> {
    if (vaultIds.length === 0) return [];
    const vaults = vaultIds.map(parseVaultId);
    const statuses = filter.status?.length && !filter.status.includes("InProgress");
    const rows = await this.rows({
      subscriptions: distinct(vaults.map((vault) => vault.subscriptionId)),
      vaultNames: distinct(vaults.map((vault) => vault.vaultName)),
      ...(filter.datasourceId ? { datasourceId: filter.datasourceId } : {}),
      ...(filter.since ? { since: filter.since } : {}),
      ...(statuses ? { status: filter.status } : {}),
    });
    const byVault = vaultIds.map((): BackupJob[] => []);
    for (const row of rows) {
      const rowVault = vaultIdOf(row);
      const index = vaultIds.findIndex((vaultId) => sameResourceId(vaultId, rowVault));
      const vaultId = vaultIds[index];
      if (vaultId === undefined) continue;
      const job = toBackupJob(row, vaultId);
      if (jobMatchesFilter(job, filter)) byVault[index]?.push(job);
    }
    return byVault.flat().sort(byStart);
  }

  private rows(filter: CrossVaultJobFilter): Promise<AzureBackupJobResourceOutput[]> {
    return this.graph.query<AzureBackupJobResourceOutput>(
      filter.subscriptions,
      backupJobsQuery(filter),
      "Querying backup jobs in Resource Graph",
    );
  }
}

/** Creates the Resource Graph job source. */
export function createResourceGraphJobSource(
  options: ResourceGraphJobSourceOptions,
): ResourceGraphJobSource {
  return new ResourceGraphJobSource(createResourceGraphClient(options));
}
