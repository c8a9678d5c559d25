/**
 * Ad-hoc backups and restores: actions that start a job, sent once however their answers are
 * lost, and answered with the job the orchestration then follows.
 */
import type { HttpResponse } from "@azure-rest/core-client";
import { AppError, InvalidInputError } from "../../domain/errors.js";
import {
  formatServerId,
  formatVaultChildId,
  parseDatabaseId,
  sameResourceId,
} from "../../domain/protection/ids.js";
import {
  DATABASE_DATASOURCE_TYPE,
  FLEXIBLE_SERVER_DATASOURCE_TYPE,
} from "../../domain/protection/naming.js";
import type { BackupInstance } from "../../domain/protection/types.js";
import {
  ProviderErrorCodes,
  type AdhocBackupRequest,
  type JobReference,
  type RestoreRequest,
} from "../ports.js";
import { armErrorFromOperation } from "./armErrors.js";
import { lastSegment } from "./armMapping.js";
import type { AzureBackupInstances } from "./backupInstances.js";
import type { AzureBackupJobs } from "./backupJobs.js";
import { toArmDatasource, toArmDatasourceSet } from "./backupInstanceBuilder.js";
import type { BackupVaultSummary } from "./backupVaults.js";
import {
  isUnexpected,
  operationStillRunning,
  runLongRunningOperation,
  type AzureBackupRecoveryPointBasedRestoreRequest,
  type OperationJobExtendedInfoOutput,
  type RestoreFilesTargetInfo,
  type RestoreTargetInfo,
} from "./dataProtection/index.js";
import { INSTANCE_ROUTE, type DataProtectionRequests } from "./dataProtectionRequests.js";
import { LostAnswer, type LostAnswerSettler, type StartedLookup } from "./lostAnswers.js";
import { containerResourceId } from "./restoreAccess.js";

/** What starting a job needs of the rest of the service. */
export interface JobStartDependencies {
  readonly requests: DataProtectionRequests;
  readonly lostAnswers: LostAnswerSettler;
  readonly instances: Pick<AzureBackupInstances, "getBackupInstance">;
  readonly jobs: Pick<AzureBackupJobs, "listJobs">;
  readonly getVault: (vaultId: string) => Promise<BackupVaultSummary>;
}

type JobCategory = "Backup" | "Restore";

/** Ad-hoc backups and restores of a vault's backup instances. */
export class AzureBackupsAndRestores {
  private readonly requests: DataProtectionRequests;
  private readonly lostAnswers: LostAnswerSettler;

  constructor(private readonly deps: JobStartDependencies) {
    this.requests = deps.requests;
    this.lostAnswers = deps.lostAnswers;
  }

  async triggerBackup(
    vaultId: string,
    instanceName: string,
    request: AdhocBackupRequest,
  ): Promise<JobReference> {
    const v = this.requests.vault(vaultId);
    return this.startJobOnce(vaultId, instanceName, "Backup", "Starting the backup", () =>
      this.requests.client
        .path(
          `${INSTANCE_ROUTE}/backup`,
          v.subscriptionId,
          v.resourceGroup,
          v.vaultName,
          instanceName,
        )
        .post({
          body: {
            backupRuleOptions: {
              ruleName: request.ruleName,
              triggerOption: request.retentionTagOverride
                ? { retentionTagOverride: request.retentionTagOverride }
                : {},
            },
          },
        }),
    );
  }

  /**
   * Asks the service whether it would carry the restore out (`BackupInstances_ValidateForRestore`),
   * following its operation to the end: a refusal is thrown with the service's code as
   * `serviceCode` (a 4xx for the service's user errors).
   */
  async validateRestore(
    vaultId: string,
    instanceName: string,
    request: RestoreRequest,
  ): Promise<void> {
    const v = this.requests.vault(vaultId);
    const { body } = await this.restoreRequestFor(vaultId, instanceName, request);
    const operation = "Validating the restore";
    const initial = await this.requests.call(operation, () =>
      this.requests.client
        .path(
          `${INSTANCE_ROUTE}/validateRestore`,
          v.subscriptionId,
          v.resourceGroup,
          v.vaultName,
          instanceName,
        )
        .post({ body: { restoreRequestObject: body } }),
    );
    if (isUnexpected(initial)) this.requests.fail(initial, operation);
    if (initial.status === "202") {
      // Only the outcome matters: a failed operation is thrown with the service's explanation.
      await runLongRunningOperation<OperationJobExtendedInfoOutput>(
        this.requests.client,
        initial,
        operation,
        {
          ...this.requests.polling,
          resourceLocationConfig: "azure-async-operation",
        },
      );
    }
  }

  /** The service's restore request for a restore, and the instance it restores. */
  private async restoreRequestFor(
    vaultId: string,
    instanceName: string,
    request: RestoreRequest,
  ): Promise<{ instance: BackupInstance; body: AzureBackupRecoveryPointBasedRestoreRequest }> {
    const instance = await this.deps.instances.getBackupInstance(vaultId, instanceName);
    // A vault protects datasources of its own region: its region stands in when unreported.
    const location =
      instance.dataSourceInfo.resourceLocation || (await this.deps.getVault(vaultId)).location;
    return {
      instance,
      body: {
        objectType: "AzureBackupRecoveryPointBasedRestoreRequest",
        recoveryPointId: lastSegment(request.recoveryPointId),
        sourceDataStoreType: request.sourceDataStoreType ?? "VaultStore",
        sourceResourceId: instance.dataSourceInfo.resourceId,
        restoreTargetInfo: restoreTargetInfoFor(instance, instanceName, request, location),
      },
    };
  }

  async triggerRestore(
    vaultId: string,
    instanceName: string,
    request: RestoreRequest,
  ): Promise<JobReference> {
    const v = this.requests.vault(vaultId);
    const { instance, body } = await this.restoreRequestFor(vaultId, instanceName, request);
    return this.startJobOnce(
      vaultId,
      instanceName,
      "Restore",
      "Starting the restore",
      () =>
        this.requests.client
          .path(
            `${INSTANCE_ROUTE}/restore`,
            v.subscriptionId,
            v.resourceGroup,
            v.vaultName,
            instanceName,
          )
          .post({ body }),
      instance,
    );
  }

  private jobReference(vaultId: string, jobId: string): JobReference {
    if (jobId.startsWith("/")) return { jobId };
    return {
      jobId: formatVaultChildId({
        ...this.requests.vault(vaultId),
        childType: "backupJobs",
        childName: jobId,
      }),
    };
  }

  /**
   * Sends an action that starts a job (ad-hoc backup, restore) and answers the job, following
   * its operation; any answer lost on the way is a {@link LostAnswer}.
   */
  private async startJob(
    vaultId: string,
    operation: string,
    post: () => PromiseLike<HttpResponse>,
  ): Promise<JobReference | "unnamed"> {
    const initial = await this.requests.sendAction(operation, post);
    let jobId: string | undefined;
    if (initial.status === "200") {
      jobId = (initial.body as OperationJobExtendedInfoOutput | undefined)?.jobId;
    } else {
      const outcome = await this.requests.followAction<OperationJobExtendedInfoOutput>(
        initial,
        operation,
      );
      if (outcome.status === "running") {
        // The job is the handle: once the status names it, the orchestration follows the job.
        // Until then the request is settled like a lost answer, by looking for what it started.
        jobId = outcome.lastStatus?.properties?.jobId;
        if (!jobId) throw new LostAnswer(operationStillRunning(operation, outcome.statusUrl));
        return this.jobReference(vaultId, jobId);
      }
      if (outcome.status !== "succeeded") {
        throw armErrorFromOperation(outcome.lastStatus?.error, operation);
      }
      jobId = outcome.result?.jobId ?? outcome.lastStatus?.properties?.jobId;
    }
    return jobId ? this.jobReference(vaultId, jobId) : "unnamed";
  }

  /**
   * Starts a job with {@link startJob} once; a success that names no job (the contract leaves
   * `jobId` optional) is settled by looking for the job like a lost answer, but never re-sent.
   */
  private async startJobOnce(
    vaultId: string,
    instanceName: string,
    category: JobCategory,
    operation: string,
    post: () => PromiseLike<HttpResponse>,
    instance?: BackupInstance,
  ): Promise<JobReference> {
    const find = this.startedJobFinder(vaultId, instanceName, category, instance);
    const subject = `backup instance ${instanceName}`;
    const started = await this.lostAnswers.sendOnce({
      operation,
      subject,
      send: async () => {
        const sentAt = this.requests.now();
        const started = await this.startJob(vaultId, operation, post);
        if (started !== "unnamed") return started;
        const found = await this.lostAnswers.lookAfter({
          operation,
          subject,
          sentAt,
          find,
          unknownBecause: "the service answered success without naming its job",
        });
        if (found) return found;
        throw new AppError(
          "INVALID_SERVICE_RESPONSE",
          `${operation} succeeded without naming its job, and no job of backup instance ${instanceName} started after ${new Date(sentAt).toISOString()} was found`,
          {
            httpStatus: 502,
            retryable: false,
            recommendedAction: `Look in the vault's jobs for one of ${instanceName} before asking again`,
          },
        );
      },
      find,
    });
    this.lostAnswers.handOut(started.jobId);
    return started;
  }

  /**
   * Looks for the job of a backup instance that a request sent at `sentAt` may have started:
   * user-triggered, of the category, started no earlier than the clock skew allows, not handed
   * out already; of several, the one that started closest to the request.
   *
   * @remarks A job that does not name its backup instance (the contract leaves it optional) is
   * the instance's when it is of the instance's datasource. The instance is read for that at
   * most once across all the looks of one request, and only when such a job turns up.
   */
  private startedJobFinder(
    vaultId: string,
    instanceName: string,
    category: JobCategory,
    known?: BackupInstance,
  ): StartedLookup<JobReference> {
    let datasourceId: Promise<string> | undefined = known
      ? Promise.resolve(known.dataSourceInfo.resourceId)
      : undefined;
    const datasourceOfInstance = (): Promise<string> =>
      (datasourceId ??= this.deps.instances
        .getBackupInstance(vaultId, instanceName)
        .then((instance) => instance.dataSourceInfo.resourceId));
    return async (sentAt) => {
      const from = sentAt - this.lostAnswers.clockSkewMs;
      const candidates = (await this.deps.jobs.listJobs(vaultId)).filter(
        (j) =>
          !this.lostAnswers.isHandedOut(j.id) &&
          j.operationCategory === category &&
          j.isUserTriggered &&
          Date.parse(j.startTime) >= from,
      );
      const unnamed = candidates.some((j) => !j.backupInstanceId);
      const instanceDatasource = unnamed ? await datasourceOfInstance() : "";
      const [job] = candidates
        .filter((j) =>
          j.backupInstanceId
            ? lastSegment(j.backupInstanceId).toLowerCase() === instanceName.toLowerCase()
            : sameResourceId(j.dataSourceId, instanceDatasource),
        )
        .sort(
          (a, b) =>
            Math.abs(Date.parse(a.startTime) - sentAt) - Math.abs(Date.parse(b.startTime) - sentAt),
        );
      return job ? { jobId: job.id } : undefined;
    };
  }
}

/** The service's restore target for a restore request: files in a container, or a database. */
function restoreTargetInfoFor(
  instance: BackupInstance,
  instanceName: string,
  request: RestoreRequest,
  location: string,
): RestoreTargetInfo | RestoreFilesTargetInfo {
  const target = request.target;
  if (target.kind === "files") {
    return {
      objectType: "RestoreFilesTargetInfo",
      recoveryOption: "FailIfExists",
      restoreLocation: location,
      targetDetails: {
        filePrefix: target.filePrefix ?? instanceName,
        restoreTargetLocationType: "AzureBlobs",
        url: target.url,
        ...(target.storageScope
          ? { targetResourceArmId: containerResourceId(target.storageScope, target.url) }
          : {}),
      },
    };
  }
  if (instance.dataSourceInfo.datasourceType === FLEXIBLE_SERVER_DATASOURCE_TYPE) {
    throw new InvalidInputError(
      ProviderErrorCodes.invalidRestoreTarget,
      "A Flexible Server restores as files only; give a blob container URL",
      [
        {
          path: "$.target.kind",
          code: ProviderErrorCodes.invalidRestoreTarget,
          message: "expected 'files' for a Flexible Server",
        },
      ],
    );
  }
  const database = parseDatabaseId(target.targetDatabaseId);
  const secretUri = target.secretUri ?? instance.secretStore?.uri;
  return {
    objectType: "RestoreTargetInfo",
    recoveryOption: "FailIfExists",
    restoreLocation: location,
    datasourceInfo: toArmDatasource({
      resourceId: target.targetDatabaseId,
      datasourceType: DATABASE_DATASOURCE_TYPE,
      resourceName: database.databaseName,
      resourceType: DATABASE_DATASOURCE_TYPE,
      resourceLocation: location,
    }),
    datasourceSetInfo: toArmDatasourceSet({
      resourceId: formatServerId(database),
      datasourceType: DATABASE_DATASOURCE_TYPE,
      resourceName: database.serverName,
      resourceType: "Microsoft.DBforPostgreSQL/servers",
      resourceLocation: location,
    }),
    ...(secretUri
      ? {
          datasourceAuthCredentials: {
            objectType: "SecretStoreBasedAuthCredentials" as const,
            secretStoreResource: { secretStoreType: "AzureKeyVault" as const, uri: secretUri },
          },
        }
      : {}),
  };
}
