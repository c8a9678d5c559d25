/**
 * Jobs and recovery points of a vault, read and listed.
 */
import { AppError } from "../../domain/errors.js";
import { formatVaultChildId, sameResourceId } from "../../domain/protection/ids.js";
import type { BackupInstance, BackupJob, RecoveryPoint } from "../../domain/protection/types.js";
import type { JobFilter } from "../ports.js";
import { jobMatchesFilter, lastSegment, toBackupJob, toRecoveryPoint } from "./armMapping.js";
import type { AzureBackupInstances } from "./backupInstances.js";
import {
  isUnexpected,
  listAll,
  type AzureBackupJobResourceOutput,
  type AzureBackupRecoveryPointResourceOutput,
} from "./dataProtection/index.js";
import {
  INSTANCE_ROUTE,
  VAULT_ROUTE,
  type DataProtectionRequests,
} from "./dataProtectionRequests.js";

/** The job and recovery point reads over a vault's `backupJobs` and `recoveryPoints`. */
export class AzureBackupJobs {
  constructor(
    private readonly requests: DataProtectionRequests,
    private readonly instances: Pick<AzureBackupInstances, "getBackupInstance">,
  ) {}

  async getJob(vaultId: string, jobId: string): Promise<BackupJob> {
    const v = this.requests.vault(vaultId);
    const response = await this.requests.call("Reading the job", () =>
      this.requests.client
        .path(
          `${VAULT_ROUTE}/backupJobs/{jobId}`,
          v.subscriptionId,
          v.resourceGroup,
          v.vaultName,
          lastSegment(jobId),
        )
        .get(),
    );
    if (isUnexpected(response)) this.requests.fail(response, "Reading the job");
    return toBackupJob(response.body, vaultId);
  }

  async listJobs(vaultId: string, filter: JobFilter = {}): Promise<BackupJob[]> {
    const v = this.requests.vault(vaultId);
    const first = await this.requests.call("Listing jobs", () =>
      this.requests.client
        .path(`${VAULT_ROUTE}/backupJobs`, v.subscriptionId, v.resourceGroup, v.vaultName)
        .get(),
    );
    const items = await this.requests.call("Listing jobs", () =>
      listAll<AzureBackupJobResourceOutput>(this.requests.client, first, "Listing jobs"),
    );
    // Jobs that do not name their backup instance (the contract leaves it optional) are the
    // instance's when they are of its datasource.
    let instance: BackupInstance | undefined;
    if (filter.backupInstanceName && items.some((item) => !item.properties?.backupInstanceId)) {
      instance = await this.instances
        .getBackupInstance(vaultId, filter.backupInstanceName)
        .catch((error: unknown) => {
          if (error instanceof AppError && error.httpStatus === 404) return undefined;
          throw error;
        });
    }
    return items
      .map((item) =>
        toBackupJob(
          item,
          vaultId,
          instance &&
            sameResourceId(item.properties?.dataSourceId ?? "", instance.dataSourceInfo.resourceId)
            ? instance.id
            : undefined,
        ),
      )
      .filter((job) => jobMatchesFilter(job, filter))
      .sort((a, b) => Date.parse(a.startTime) - Date.parse(b.startTime));
  }

  async listRecoveryPoints(vaultId: string, instanceName: string): Promise<RecoveryPoint[]> {
    const v = this.requests.vault(vaultId);
    const first = await this.requests.call("Listing recovery points", () =>
      this.requests.client
        .path(
          `${INSTANCE_ROUTE}/recoveryPoints`,
          v.subscriptionId,
          v.resourceGroup,
          v.vaultName,
          instanceName,
        )
        .get(),
    );
    const items = await this.requests.call("Listing recovery points", () =>
      listAll<AzureBackupRecoveryPointResourceOutput>(
        this.requests.client,
        first,
        "Listing recovery points",
      ),
    );
    const instanceId = formatVaultChildId({
      ...v,
      childType: "backupInstances",
      childName: instanceName,
    });
    return items
      .map((item) => toRecoveryPoint(item, instanceName, instanceId))
      .sort((a, b) => Date.parse(a.recoveryPointTime) - Date.parse(b.recoveryPointTime));
  }
}
