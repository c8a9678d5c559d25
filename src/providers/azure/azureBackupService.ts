/**
 * The backup ports over Azure Backup (Data Protection Backup vaults): the REST-level client's
 * answers mapped to the domain's types. ARM-shaped JSON stays in this folder; only policies
 * cross unchanged, because the domain's policy types are the service's.
 */
import type { Client } from "@azure-rest/core-client";
import type { TokenCredential } from "@azure/identity";
import type { Config } from "../../config.js";
import { AppError, InvalidInputError } from "../../domain/errors.js";
import type { BackupPolicy, BackupPolicyResource } from "../../domain/policy/types.js";
import { copySettingsOf } from "../../domain/policy/types.js";
import {
  formatServerId,
  formatVaultChildId,
  parseDatabaseId,
  parseVaultId,
  sameResourceId,
  type VaultRef,
} from "../../domain/protection/ids.js";
import {
  DATABASE_DATASOURCE_TYPE,
  FLEXIBLE_SERVER_DATASOURCE_TYPE,
  type PostgresDatasourceType,
} from "../../domain/protection/naming.js";
import type {
  BackupInstance,
  BackupInstanceSpec,
  BackupJob,
  DatasourceInfo,
  JobStatus,
  ProtectionStatus,
  RecoveryPoint,
  RecoveryPointStoreType,
  ServiceErrorDetail,
} from "../../domain/protection/types.js";
import {
  ProviderErrorCodes,
  type AdhocBackupRequest,
  type BackupServicePort,
  type BackupValidation,
  type CreateBackupInstanceOptions,
  type JobFilter,
  type JobReference,
  type RestoreRequest,
} from "../ports.js";
import { armErrorFromResponse, armErrorFromThrown } from "./armErrors.js";
import {
  toArmBackupInstance,
  toArmBackupInstanceResource,
  toArmDatasource,
  toArmDatasourceSet,
} from "./backupInstanceBuilder.js";
import {
  createDataProtectionClient,
  isUnexpected,
  listAll,
  runLongRunningOperation,
  type AzureBackupJobResourceOutput,
  type AzureBackupRecoveryPointResourceOutput,
  type BackupInstanceResourceOutput,
  type BackupInstancesGet,
  type BaseBackupPolicyResourceOutput,
  type DataProtectionClient,
  type DataProtectionClientOptions,
  type DatasourceOutput,
  type LongRunningOptions,
  type OperationJobExtendedInfoOutput,
  type RestoreFilesTargetInfo,
  type RestoreTargetInfo,
  type UserFacingErrorOutput,
} from "./dataProtection/index.js";
import { systemClock, type ArmRequestThrottle } from "./throttling.js";

const RGP =
  "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DataProtection" as const;
const VAULT = `${RGP}/backupVaults/{vaultName}` as const;
const POLICY = `${VAULT}/backupPolicies/{backupPolicyName}` as const;
const INSTANCE = `${VAULT}/backupInstances/{backupInstanceName}` as const;

/** Options of {@link createAzureBackupService}. */
export interface AzureBackupServiceOptions {
  /** The identity the app calls Resource Manager with (managed identity in Azure). */
  readonly credential: TokenCredential;
  /** Endpoint, token audience, TLS and pipeline options of the client. */
  readonly client?: DataProtectionClientOptions;
  /** Buckets shared with the app's other Resource Manager clients. */
  readonly throttle?: ArmRequestThrottle;
  /** How long-running operations are polled. */
  readonly polling?: LongRunningOptions;
  /** Reads of a new instance while it is still `ConfiguringProtection`; 30 by default. */
  readonly maxProtectionChecks?: number;
}

/** What pgprotect needs to know of a Backup vault. */
export interface BackupVaultSummary {
  readonly id: string;
  readonly name: string;
  readonly location: string;
  /** The vault's system-assigned identity, when it has one. */
  readonly principalId?: string;
  readonly provisioningState: string;
}

/** The client options the app's settings describe. */
export function dataProtectionClientOptionsFrom(
  config: Pick<Config, "AZURE_RESOURCE_MANAGER_ENDPOINT" | "AZURE_TOKEN_AUDIENCE">,
): DataProtectionClientOptions {
  return {
    endpoint: config.AZURE_RESOURCE_MANAGER_ENDPOINT,
    tokenAudience: config.AZURE_TOKEN_AUDIENCE,
  };
}

/** Creates the backup ports over a Data Protection client. */
export function createAzureBackupService(options: AzureBackupServiceOptions): AzureBackupService {
  const client = createDataProtectionClient(options.credential, {
    ...options.client,
    ...(options.throttle ? { throttle: options.throttle } : {}),
  });
  return new AzureBackupService(client, options.polling ?? {}, options.maxProtectionChecks ?? 30);
}

function datasourceTypeOf(value: string | undefined): PostgresDatasourceType {
  const lower = (value ?? "").toLowerCase();
  // Responses may echo the legacy internal name of Single Server databases.
  if (lower === "ossdb" || lower === DATABASE_DATASOURCE_TYPE.toLowerCase())
    return DATABASE_DATASOURCE_TYPE;
  if (lower === FLEXIBLE_SERVER_DATASOURCE_TYPE.toLowerCase())
    return FLEXIBLE_SERVER_DATASOURCE_TYPE;
  return (value ?? "") as PostgresDatasourceType;
}

function toDatasourceInfo(source: DatasourceOutput): DatasourceInfo {
  return {
    resourceId: source.resourceID,
    datasourceType: datasourceTypeOf(source.datasourceType),
    resourceName: source.resourceName ?? source.resourceID.split("/").pop() ?? "",
    resourceType:
      source.resourceType === "OssDB" ? DATABASE_DATASOURCE_TYPE : (source.resourceType ?? ""),
    resourceLocation: source.resourceLocation ?? "",
  };
}

function toServiceError(error: UserFacingErrorOutput): ServiceErrorDetail {
  return {
    code: error.code ?? "Unknown",
    message: error.message ?? "",
    ...(error.recommendedAction ? { recommendedAction: error.recommendedAction } : {}),
    ...(error.isRetryable === undefined ? {} : { isRetryable: error.isRetryable }),
    ...(error.isUserError === undefined ? {} : { isUserError: error.isUserError }),
  };
}

/** Maps a backup instance resource to the domain's instance. */
export function toBackupInstance(
  resource: BackupInstanceResourceOutput,
  vaultName: string,
): BackupInstance {
  const p = resource.properties;
  if (!resource.id || !resource.name || !p) {
    throw new AppError(
      "InvalidServiceResponse",
      "A backup instance came back without id, name or properties",
      {
        httpStatus: 502,
        retryable: true,
      },
    );
  }
  const secret = p.datasourceAuthCredentials?.secretStoreResource;
  const errorDetails = p.protectionStatus?.errorDetails ?? p.protectionErrorDetails;
  return {
    id: resource.id,
    name: resource.name,
    vaultName,
    friendlyName: p.friendlyName ?? resource.name,
    dataSourceInfo: toDatasourceInfo(p.dataSourceInfo),
    ...(p.dataSourceSetInfo ? { dataSourceSetInfo: toDatasourceInfo(p.dataSourceSetInfo) } : {}),
    policyId: p.policyInfo.policyId,
    ...(secret?.uri
      ? { secretStore: { secretStoreType: "AzureKeyVault" as const, uri: secret.uri } }
      : {}),
    protectionStatus: (p.protectionStatus?.status ??
      p.currentProtectionState ??
      "NotProtected") as ProtectionStatus,
    ...(errorDetails?.code ? { protectionErrorDetails: toServiceError(errorDetails) } : {}),
    provisioningState: p.provisioningState ?? "",
    createdAt: resource.systemData?.createdAt ?? "",
  };
}

const jobStatuses: Readonly<Record<string, JobStatus>> = {
  started: "InProgress",
  inprogress: "InProgress",
  cancelling: "InProgress",
  paused: "InProgress",
  completed: "Completed",
  succeeded: "Completed",
  completedwithwarnings: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
  canceled: "Cancelled",
};

/** `00:02:11.9724387` (.NET TimeSpan, as job examples show) or ISO 8601, to ISO 8601. */
export function toIsoDuration(value: string): string {
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(value);
  if (!match) return value;
  const [, days, hours, minutes, seconds] = match;
  const totalHours = Number(days ?? 0) * 24 + Number(hours);
  return `PT${totalHours}H${Number(minutes)}M${Number(seconds)}S`;
}

const RUNNING_END_TIME = /^0001-01-01/;

/** Maps a job resource to the domain's job. */
export function toBackupJob(resource: AzureBackupJobResourceOutput, vaultId: string): BackupJob {
  const p = resource.properties;
  if (!p || !resource.name) {
    throw new AppError("InvalidServiceResponse", "A job came back without name or properties", {
      httpStatus: 502,
      retryable: true,
    });
  }
  const status = jobStatuses[p.status.toLowerCase()] ?? "InProgress";
  const category = p.operationCategory.toLowerCase().startsWith("restore") ? "Restore" : "Backup";
  const details = p.extendedInfo?.additionalDetails ?? {};
  const ended = p.endTime && !RUNNING_END_TIME.test(p.endTime) && status !== "InProgress";
  return {
    id:
      resource.id ??
      formatVaultChildId({
        ...parseVaultId(vaultId),
        childType: "backupJobs",
        childName: resource.name,
      }),
    name: resource.name,
    vaultName: p.vaultName,
    operation:
      category === "Restore" ? "Restore" : p.isUserTriggered ? "OnDemandBackup" : "ScheduledBackup",
    operationCategory: category,
    isUserTriggered: p.isUserTriggered,
    status,
    startTime: p.startTime,
    ...(ended ? { endTime: p.endTime } : {}),
    ...(ended && p.duration ? { duration: toIsoDuration(p.duration) } : {}),
    backupInstanceId: p.backupInstanceId ?? "",
    backupInstanceFriendlyName: p.backupInstanceFriendlyName,
    dataSourceId: p.dataSourceId,
    dataSourceName: p.dataSourceName,
    dataSourceType: p.dataSourceType,
    dataSourceLocation: p.dataSourceLocation,
    ...(p.policyId ? { policyId: p.policyId } : {}),
    ...(p.policyName ? { policyName: p.policyName } : {}),
    ...(details["PolicyRuleName"] ? { ruleName: details["PolicyRuleName"] } : {}),
    ...(details["RetentionTag"] ? { retentionTag: details["RetentionTag"] } : {}),
    ...(p.extendedInfo?.sourceRecoverPoint?.recoveryPointID
      ? { recoveryPointId: p.extendedInfo.sourceRecoverPoint.recoveryPointID }
      : {}),
    ...(p.extendedInfo?.recoveryDestination
      ? { recoveryDestination: p.extendedInfo.recoveryDestination }
      : {}),
    ...(p.extendedInfo?.dataTransferredInBytes === undefined
      ? {}
      : { dataTransferredInBytes: p.extendedInfo.dataTransferredInBytes }),
    ...(p.errorDetails && p.errorDetails.length > 0
      ? { errorDetails: p.errorDetails.map(toServiceError) }
      : {}),
  };
}

/**
 * Whether a job passes a job list's filter. Resource Manager's list and the Resource Graph query
 * both end with it, so that both answer the same jobs for the same filter.
 */
export function jobMatchesFilter(job: BackupJob, filter: JobFilter): boolean {
  const since = filter.since === undefined ? undefined : Date.parse(filter.since);
  return (
    (!filter.status || filter.status.includes(job.status)) &&
    (!filter.operation || filter.operation.includes(job.operation)) &&
    (!filter.datasourceId ||
      job.dataSourceId.toLowerCase() === filter.datasourceId.toLowerCase()) &&
    (!filter.backupInstanceName ||
      lastSegment(job.backupInstanceId).toLowerCase() ===
        filter.backupInstanceName.toLowerCase()) &&
    (since === undefined ||
      Date.parse(job.startTime) >= since ||
      (job.endTime !== undefined && Date.parse(job.endTime) >= since))
  );
}

/**
 * Maps a recovery point resource to the domain's recovery point.
 *
 * @remarks Azure does not report what a local vault knows (files, sizes, server version, the job
 * and rule that made the point); those fields are left empty.
 */
export function toRecoveryPoint(
  resource: AzureBackupRecoveryPointResourceOutput,
  instanceName: string,
): RecoveryPoint {
  const p = resource.properties;
  const pointId = p?.recoveryPointId ?? resource.name ?? "";
  const at = p?.recoveryPointTime ?? "";
  return {
    id: resource.id ?? "",
    recoveryPointId: pointId,
    backupInstanceName: instanceName,
    recoveryPointTime: at,
    recoveryPointType: "Full",
    policyName: p?.policyName ?? "",
    ruleName: "",
    retentionTagName: p?.retentionTagName ?? "Default",
    startTime: at,
    endTime: at,
    sizeBytes: 0,
    files: [],
    serverVersion: "",
    dataStores: (p?.recoveryPointDataStoresDetails ?? [])
      .filter((d) => d.type === "VaultStore" || d.type === "ArchiveStore")
      .map((d) => ({ type: d.type as RecoveryPointStoreType, creationTime: d.creationTime ?? at })),
    jobId: "",
  };
}

function toPolicyResource(resource: BaseBackupPolicyResourceOutput): BackupPolicyResource {
  if (!resource.properties) {
    throw new AppError("InvalidServiceResponse", "A policy came back without properties", {
      httpStatus: 502,
      retryable: true,
    });
  }
  return {
    ...(resource.id ? { id: resource.id } : {}),
    ...(resource.name ? { name: resource.name } : {}),
    ...(resource.type ? { type: resource.type } : {}),
    properties: resource.properties,
    ...(resource.systemData ? { systemData: resource.systemData } : {}),
  };
}

/** The parts of a policy that decide its behaviour, in one canonical JSON form. */
function canonicalPolicy(policy: BackupPolicy): string {
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (typeof value !== "object" || value === null) return value;
    const entries = Object.entries(value as Record<string, unknown>)
      // The service stamps tag ids and eTags; nulls and absent fields mean the same.
      .filter(([key, v]) => v !== null && v !== undefined && key !== "id" && key !== "eTag")
      .map(([key, v]) => [key, strip(v)] as const)
      .sort(([a], [b]) => a.localeCompare(b));
    return Object.fromEntries(entries);
  };
  const rules = policy.policyRules.map((rule) =>
    rule.objectType === "AzureRetentionRule"
      ? {
          ...rule,
          lifecycles: rule.lifecycles.map((l) => ({
            ...l,
            targetDataStoreCopySettings: copySettingsOf(l),
          })),
        }
      : rule,
  );
  return JSON.stringify(
    strip({
      objectType: policy.objectType,
      datasourceTypes: policy.datasourceTypes,
      policyRules: rules,
    }),
  );
}

function lastSegment(id: string): string {
  return (
    id
      .split("/")
      .filter((s) => s !== "")
      .pop() ?? id
  );
}

/** The backup ports over Azure Backup. */
export class AzureBackupService implements BackupServicePort {
  constructor(
    readonly client: DataProtectionClient,
    private readonly polling: LongRunningOptions = {},
    private readonly maxProtectionChecks = 30,
  ) {}

  private vault(vaultId: string): VaultRef {
    return parseVaultId(vaultId);
  }

  private async call<T>(operation: string, send: () => PromiseLike<T>): Promise<T> {
    try {
      return await send();
    } catch (thrown) {
      throw armErrorFromThrown(thrown, operation);
    }
  }

  private fail(
    response: { status: string; headers: Record<string, string>; body: unknown },
    operation: string,
  ): never {
    throw armErrorFromResponse(response, operation);
  }

  private async lro<T>(initial: Parameters<typeof runLongRunningOperation>[1], operation: string) {
    return runLongRunningOperation<T>(this.client as Client, initial, operation, this.polling);
  }

  // -- vaults -----------------------------------------------------------------------------------

  /**
   * A vault's region and managed identity: the identity needs roles on what it protects, and the
   * vault must be in the datasource's region.
   */
  async getVault(vaultId: string): Promise<BackupVaultSummary> {
    const v = this.vault(vaultId);
    const response = await this.call("Reading the Backup vault", () =>
      this.client.path(VAULT, v.subscriptionId, v.resourceGroup, v.vaultName).get(),
    );
    if (isUnexpected(response)) this.fail(response, "Reading the Backup vault");
    const body = response.body;
    return {
      id: body.id ?? vaultId,
      name: body.name ?? v.vaultName,
      location: body.location,
      ...(body.identity?.principalId ? { principalId: body.identity.principalId } : {}),
      provisioningState: body.properties.provisioningState ?? "",
    };
  }

  // -- policies ---------------------------------------------------------------------------------

  async createPolicy(
    vaultId: string,
    policyName: string,
    policy: BackupPolicy,
  ): Promise<BackupPolicyResource> {
    const v = this.vault(vaultId);
    const route = this.client.path(
      POLICY,
      v.subscriptionId,
      v.resourceGroup,
      v.vaultName,
      policyName,
    );
    const existing = await this.call("Reading the backup policy", () => route.get());
    if (!isUnexpected(existing)) {
      const current = toPolicyResource(existing.body);
      if (canonicalPolicy(current.properties) === canonicalPolicy(policy)) return current;
      throw new AppError(
        ProviderErrorCodes.policyUpdateNotSupported,
        `Backup policy '${policyName}' exists with other rules; the service does not support modifying a policy`,
        {
          httpStatus: 409,
          retryable: false,
          recommendedAction:
            "Create the policy under a new name and assign it to the backup instances",
        },
      );
    }
    if (existing.status !== "404") this.fail(existing, "Reading the backup policy");
    // `name` is a template convenience, not part of the contract's BackupPolicy.
    const { name: _name, ...properties } = policy;
    const created = await this.call("Creating the backup policy", () =>
      route.put({ body: { properties } }),
    );
    if (isUnexpected(created)) this.fail(created, "Creating the backup policy");
    return toPolicyResource(created.body);
  }

  async getPolicy(vaultId: string, policyName: string): Promise<BackupPolicyResource> {
    const v = this.vault(vaultId);
    const response = await this.call("Reading the backup policy", () =>
      this.client.path(POLICY, v.subscriptionId, v.resourceGroup, v.vaultName, policyName).get(),
    );
    if (isUnexpected(response)) this.fail(response, "Reading the backup policy");
    return toPolicyResource(response.body);
  }

  async listPolicies(vaultId: string): Promise<BackupPolicyResource[]> {
    const v = this.vault(vaultId);
    const first = await this.call("Listing backup policies", () =>
      this.client
        .path(`${VAULT}/backupPolicies`, v.subscriptionId, v.resourceGroup, v.vaultName)
        .get(),
    );
    const items = await this.call("Listing backup policies", () =>
      listAll<BaseBackupPolicyResourceOutput>(this.client, first, "Listing backup policies"),
    );
    return items.map(toPolicyResource);
  }

  // -- backup instances -------------------------------------------------------------------------

  async validateForBackup(vaultId: string, spec: BackupInstanceSpec): Promise<BackupValidation> {
    const v = this.vault(vaultId);
    const operation = "Validating the backup instance";
    const initial = await this.call(operation, () =>
      this.client
        .path(`${VAULT}/validateForBackup`, v.subscriptionId, v.resourceGroup, v.vaultName)
        .post({ body: { backupInstance: toArmBackupInstance(spec) } }),
    );
    if (isUnexpected(initial)) this.fail(initial, operation);
    // Only the outcome matters, which the status monitor reports: no read of the result after it.
    if (initial.status === "202") {
      await runLongRunningOperation<OperationJobExtendedInfoOutput>(
        this.client as Client,
        initial,
        operation,
        { ...this.polling, resourceLocationConfig: "azure-async-operation" },
      );
    }
    return {
      checks: [
        `${spec.friendlyName} is not protected by another backup instance`,
        `the policy ${lastSegment(spec.policyId)} exists in vault ${v.vaultName}`,
        `the vault's identity can reach ${spec.dataSourceInfo.resourceName}`,
      ],
    };
  }

  /**
   * Creates the instance and answers it once protection is configured.
   *
   * @remarks Without `options.validated`, the instance is read first (a retried call finds its
   * own instance, which validation would now call protected) and the spec validated, then
   * written. With it, the PUT goes out at once: a PUT of an instance that exists is an update
   * that answers it, so a retried create under the same name still answers the existing
   * instance, with one write and no extra read.
   */
  async createBackupInstance(
    vaultId: string,
    instanceName: string,
    spec: BackupInstanceSpec,
    options: CreateBackupInstanceOptions = {},
  ): Promise<BackupInstance> {
    const v = this.vault(vaultId);
    const route = this.client.path(
      INSTANCE,
      v.subscriptionId,
      v.resourceGroup,
      v.vaultName,
      instanceName,
    );
    let instance: BackupInstance;
    // Whether the instance existed before this call (a retry), and may belong to another datasource.
    let existed: boolean;
    if (options.validated) {
      ({ instance, existed } = await this.putBackupInstance(route, v, spec));
    } else {
      const existing = await this.call("Reading the backup instance", () => route.get());
      existed = !isUnexpected(existing);
      if (!isUnexpected(existing)) {
        instance = toBackupInstance(existing.body, v.vaultName);
      } else {
        if (existing.status !== "404") this.fail(existing, "Reading the backup instance");
        await this.validateForBackup(vaultId, spec);
        ({ instance } = await this.putBackupInstance(route, v, spec));
      }
    }
    if (
      existed &&
      !sameResourceId(instance.dataSourceInfo.resourceId, spec.dataSourceInfo.resourceId)
    ) {
      throw new AppError(
        "BackupInstanceNameInUse",
        `Backup instance '${instanceName}' already protects ${instance.dataSourceInfo.resourceId}`,
        {
          httpStatus: 409,
          retryable: false,
          recommendedAction: "Choose another backup instance name",
        },
      );
    }
    // The operation can end before the service reports protection configured.
    for (
      let check = 0;
      instance.protectionStatus === "ConfiguringProtection" && check < this.maxProtectionChecks;
      check += 1
    ) {
      await (this.polling.sleep ?? systemClock.sleep)(
        this.polling.intervalInMs ?? 10_000,
        this.polling.abortSignal,
      );
      instance = await this.getBackupInstance(vaultId, instanceName);
    }
    if (instance.protectionStatus === "ConfiguringProtectionFailed") {
      const detail = instance.protectionErrorDetails;
      throw new AppError(
        detail?.code ?? "ConfiguringProtectionFailed",
        detail?.message ?? "Configuring protection failed",
        {
          httpStatus: 502,
          retryable: detail?.isRetryable ?? false,
          ...(detail?.recommendedAction
            ? { recommendedAction: detail.recommendedAction.join(" ") }
            : {}),
        },
      );
    }
    return instance;
  }

  /** The PUT of a backup instance, followed to the end of its operation. */
  private async putBackupInstance(
    route: BackupInstancesGet,
    v: VaultRef,
    spec: BackupInstanceSpec,
  ): Promise<{ instance: BackupInstance; existed: boolean }> {
    const operation = "Creating the backup instance";
    const initial = await this.call(operation, () =>
      route.put({ body: toArmBackupInstanceResource(spec) }),
    );
    if (isUnexpected(initial)) this.fail(initial, operation);
    // 200 is the update of an instance that was there; a new one is 201 or 202 with an operation.
    if (initial.status === "200") {
      return { instance: toBackupInstance(initial.body, v.vaultName), existed: true };
    }
    // The service answers 201 with the instance already provisioned (its REST docs show
    // `provisioningState: Succeeded`, `ProtectionConfigured`): the operation behind the status URL
    // has nothing left to tell, and polling it would spend Resource Manager reads for nothing.
    if (
      initial.status === "201" &&
      initial.body.properties?.provisioningState?.toLowerCase() === "succeeded"
    ) {
      return { instance: toBackupInstance(initial.body, v.vaultName), existed: false };
    }
    const outcome = await this.lro<BackupInstanceResourceOutput>(initial, operation);
    return { instance: toBackupInstance(outcome.result ?? {}, v.vaultName), existed: false };
  }

  async getBackupInstance(vaultId: string, instanceName: string): Promise<BackupInstance> {
    const v = this.vault(vaultId);
    const response = await this.call("Reading the backup instance", () =>
      this.client
        .path(INSTANCE, v.subscriptionId, v.resourceGroup, v.vaultName, instanceName)
        .get(),
    );
    if (isUnexpected(response)) this.fail(response, "Reading the backup instance");
    return toBackupInstance(response.body, v.vaultName);
  }

  async listBackupInstances(vaultId: string): Promise<BackupInstance[]> {
    const v = this.vault(vaultId);
    const first = await this.call("Listing backup instances", () =>
      this.client
        .path(`${VAULT}/backupInstances`, v.subscriptionId, v.resourceGroup, v.vaultName)
        .get(),
    );
    const items = await this.call("Listing backup instances", () =>
      listAll<BackupInstanceResourceOutput>(this.client, first, "Listing backup instances"),
    );
    return items.map((item) => toBackupInstance(item, v.vaultName));
  }

  async listBackupInstancesForDatasource(datasourceId: string): Promise<BackupInstance[]> {
    const operation = "Listing the backup instances of the datasource";
    const first = await this.call(operation, () =>
      this.client
        .path("/{resourceId}/providers/Microsoft.DataProtection/backupInstances", {
          value: datasourceId.replace(/^\/+/, ""),
          allowReserved: true,
        })
        .get(),
    );
    const items = await this.call(operation, () =>
      listAll<BackupInstanceResourceOutput>(this.client, first, operation),
    );
    return items.map((item) =>
      toBackupInstance(item, /\/backupVaults\/([^/]+)/i.exec(item.id ?? "")?.[1] ?? ""),
    );
  }

  async stopProtection(vaultId: string, instanceName: string): Promise<BackupInstance> {
    const v = this.vault(vaultId);
    const operation = "Stopping protection";
    const initial = await this.call(operation, () =>
      this.client
        .path(
          `${INSTANCE}/stopProtection`,
          v.subscriptionId,
          v.resourceGroup,
          v.vaultName,
          instanceName,
        )
        .post(),
    );
    if (isUnexpected(initial)) this.fail(initial, operation);
    if (initial.status === "202") await this.lro<unknown>(initial, operation);
    return this.getBackupInstance(vaultId, instanceName);
  }

  // -- operations -------------------------------------------------------------------------------

  private jobReference(
    vaultId: string,
    jobId: string | undefined,
    operation: string,
  ): JobReference {
    if (!jobId) {
      throw new AppError(
        "InvalidServiceResponse",
        `${operation} succeeded without naming its job`,
        { httpStatus: 502, retryable: false },
      );
    }
    if (jobId.startsWith("/")) return { jobId };
    return {
      jobId: formatVaultChildId({
        ...this.vault(vaultId),
        childType: "backupJobs",
        childName: jobId,
      }),
    };
  }

  async triggerBackup(
    vaultId: string,
    instanceName: string,
    request: AdhocBackupRequest,
  ): Promise<JobReference> {
    const v = this.vault(vaultId);
    const operation = "Starting the backup";
    const initial = await this.call(operation, () =>
      this.client
        .path(`${INSTANCE}/backup`, v.subscriptionId, v.resourceGroup, v.vaultName, instanceName)
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
    if (isUnexpected(initial)) this.fail(initial, operation);
    if (initial.status === "200") return this.jobReference(vaultId, initial.body.jobId, operation);
    const { result, lastStatus } = await this.lro<OperationJobExtendedInfoOutput>(
      initial,
      operation,
    );
    return this.jobReference(vaultId, result?.jobId ?? lastStatus?.properties?.jobId, operation);
  }

  async triggerRestore(
    vaultId: string,
    instanceName: string,
    request: RestoreRequest,
  ): Promise<JobReference> {
    const v = this.vault(vaultId);
    const instance = await this.getBackupInstance(vaultId, instanceName);
    const location = instance.dataSourceInfo.resourceLocation;
    const target = request.target;
    let restoreTargetInfo: RestoreTargetInfo | RestoreFilesTargetInfo;
    if (target.kind === "files") {
      restoreTargetInfo = {
        objectType: "RestoreFilesTargetInfo",
        recoveryOption: "FailIfExists",
        restoreLocation: location,
        targetDetails: {
          filePrefix: target.filePrefix ?? instanceName,
          restoreTargetLocationType: "AzureBlobs",
          url: target.url,
        },
      };
    } else {
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
      restoreTargetInfo = {
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
    const operation = "Starting the restore";
    const initial = await this.call(operation, () =>
      this.client
        .path(`${INSTANCE}/restore`, v.subscriptionId, v.resourceGroup, v.vaultName, instanceName)
        .post({
          body: {
            objectType: "AzureBackupRecoveryPointBasedRestoreRequest",
            recoveryPointId: lastSegment(request.recoveryPointId),
            sourceDataStoreType: request.sourceDataStoreType ?? "VaultStore",
            sourceResourceId: instance.dataSourceInfo.resourceId,
            restoreTargetInfo,
          },
        }),
    );
    if (isUnexpected(initial)) this.fail(initial, operation);
    if (initial.status === "200") return this.jobReference(vaultId, initial.body.jobId, operation);
    const { result, lastStatus } = await this.lro<OperationJobExtendedInfoOutput>(
      initial,
      operation,
    );
    return this.jobReference(vaultId, result?.jobId ?? lastStatus?.properties?.jobId, operation);
  }

  // -- jobs and recovery points -----------------------------------------------------------------

  async getJob(vaultId: string, jobId: string): Promise<BackupJob> {
    const v = this.vault(vaultId);
    const response = await this.call("Reading the job", () =>
      this.client
        .path(
          `${VAULT}/backupJobs/{jobId}`,
          v.subscriptionId,
          v.resourceGroup,
          v.vaultName,
          lastSegment(jobId),
        )
        .get(),
    );
    if (isUnexpected(response)) this.fail(response, "Reading the job");
    return toBackupJob(response.body, vaultId);
  }

  async listJobs(vaultId: string, filter: JobFilter = {}): Promise<BackupJob[]> {
    const v = this.vault(vaultId);
    const first = await this.call("Listing jobs", () =>
      this.client.path(`${VAULT}/backupJobs`, v.subscriptionId, v.resourceGroup, v.vaultName).get(),
    );
    const items = await this.call("Listing jobs", () =>
      listAll<AzureBackupJobResourceOutput>(this.client, first, "Listing jobs"),
    );
    return items
      .map((item) => toBackupJob(item, vaultId))
      .filter((job) => jobMatchesFilter(job, filter))
      .sort((a, b) => Date.parse(a.startTime) - Date.parse(b.startTime));
  }

  async listRecoveryPoints(vaultId: string, instanceName: string): Promise<RecoveryPoint[]> {
    const v = this.vault(vaultId);
    const first = await this.call("Listing recovery points", () =>
      this.client
        .path(
          `${INSTANCE}/recoveryPoints`,
          v.subscriptionId,
          v.resourceGroup,
          v.vaultName,
          instanceName,
        )
        .get(),
    );
    const items = await this.call("Listing recovery points", () =>
      listAll<AzureBackupRecoveryPointResourceOutput>(
        this.client,
        first,
        "Listing recovery points",
      ),
    );
    return items
      .map((item) => toRecoveryPoint(item, instanceName))
      .sort((a, b) => Date.parse(a.recoveryPointTime) - Date.parse(b.recoveryPointTime));
  }
}
