/**
 * Backup jobs across vaults and subscriptions through Azure Resource Graph, the way
 * `az dataprotection job list-from-resourcegraph` asks: `RecoveryServicesResources` rows of type
 * `microsoft.dataprotection/backupvaults/backupjobs`.
 */
import type { BackupJob, JobStatus } from "../../domain/protection/types.js";
import type { JobFilter } from "../ports.js";
import { toBackupJob } from "./azureBackupService.js";
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
  Cancelled: ["Cancelled"],
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
    const since = new Date(filter.since).toISOString();
    parts.push(
      `| where properties.startTime > datetime(${since}) or properties.endTime > datetime(${since})`,
    );
  }
  parts.push("| order by tostring(properties.startTime) asc");
  return parts.join(" ");
}

/** Jobs across vaults through Resource Graph. */
export class ResourceGraphJobSource {
  constructor(private readonly graph: ResourceGraphClient) {}

  /** Jobs matching the filter in every vault of the subscriptions, oldest start first. */
  async listJobs(filter: CrossVaultJobFilter): Promise<BackupJob[]> {
    const rows = await this.graph.query<AzureBackupJobResourceOutput>(
      filter.subscriptions,
      backupJobsQuery(filter),
      "Querying backup jobs in Resource Graph",
    );
    const backupInstance = filter.backupInstanceName?.toLowerCase();
    return rows
      .map((row) => toBackupJob(row, /^(.*\/backupVaults\/[^/]+)\//i.exec(row.id ?? "")?.[1] ?? ""))
      .filter(
        (job) =>
          !backupInstance || job.backupInstanceId.toLowerCase().endsWith(`/${backupInstance}`),
      )
      .sort((a, b) => Date.parse(a.startTime) - Date.parse(b.startTime));
  }
}

/** Creates the Resource Graph job source. */
export function createResourceGraphJobSource(
  options: ResourceGraphJobSourceOptions,
): ResourceGraphJobSource {
  return new ResourceGraphJobSource(createResourceGraphClient(options));
}
