/**
 * The mapping of Data Protection's resource shapes to the domain's: backup instances, jobs,
 * recovery points and policies. Every property the contract leaves optional has a fallback here,
 * so that the rest of the provider works with complete domain values.
 */
import { normalizeCode } from "../../domain/errorCodes.js";
import { AppError } from "../../domain/errors.js";
import type { BackupPolicy, BackupPolicyResource } from "../../domain/policy/types.js";
import {
  formatVaultChildId,
  lastSegment as lastIdSegment,
  parseVaultId,
} from "../../domain/protection/ids.js";
import {
  DATABASE_DATASOURCE_TYPE,
  FLEXIBLE_SERVER_DATASOURCE_TYPE,
  datasourceTargetOf,
  friendlyNameFor,
  type PostgresDatasourceType,
} from "../../domain/protection/naming.js";
import type {
  BackupInstance,
  BackupJob,
  DatasourceInfo,
  JobStatus,
  ProtectionStatus,
  RecoveryPoint,
  RecoveryPointStoreType,
  ServiceErrorDetail,
} from "../../domain/protection/types.js";
import type { JobFilter } from "../ports.js";
import type {
  AzureBackupJobResourceOutput,
  AzureBackupRecoveryPointResourceOutput,
  BackupInstanceResourceOutput,
  BaseBackupPolicyResourceOutput,
  DatasourceOutput,
  UserFacingErrorOutput,
} from "./dataProtection/index.js";

function datasourceTypeOf(value: string | undefined): PostgresDatasourceType {
  const lower = (value ?? "").toLowerCase();
  // Responses may echo the legacy internal name of Single Server databases.
  if (lower === "ossdb" || lower === DATABASE_DATASOURCE_TYPE.toLowerCase())
    return DATABASE_DATASOURCE_TYPE;
  if (lower === FLEXIBLE_SERVER_DATASOURCE_TYPE.toLowerCase())
    return FLEXIBLE_SERVER_DATASOURCE_TYPE;
  return (value ?? "") as PostgresDatasourceType;
}

const SINGLE_SERVER_RESOURCE_TYPE = "Microsoft.DBforPostgreSQL/servers";

/**
 * The datasource type and resource type an id names, for answers that omit them: a database, a
 * Flexible Server, or a Single Server (the datasource set of its databases).
 */
function inferredTypes(resourceId: string): { datasourceType: string; resourceType: string } {
  if (/\/databases\/[^/]+$/i.test(resourceId))
    return { datasourceType: DATABASE_DATASOURCE_TYPE, resourceType: DATABASE_DATASOURCE_TYPE };
  if (/\/flexibleServers\/[^/]+$/i.test(resourceId)) {
    return {
      datasourceType: FLEXIBLE_SERVER_DATASOURCE_TYPE,
      resourceType: FLEXIBLE_SERVER_DATASOURCE_TYPE,
    };
  }
  if (/\/servers\/[^/]+$/i.test(resourceId))
    return { datasourceType: DATABASE_DATASOURCE_TYPE, resourceType: SINGLE_SERVER_RESOURCE_TYPE };
  return { datasourceType: "", resourceType: "" };
}

function toDatasourceInfo(source: DatasourceOutput): DatasourceInfo {
  const inferred = inferredTypes(source.resourceID);
  return {
    resourceId: source.resourceID,
    datasourceType: datasourceTypeOf(source.datasourceType || inferred.datasourceType),
    resourceName: source.resourceName || lastSegment(source.resourceID),
    resourceType:
      source.resourceType === "OssDB"
        ? DATABASE_DATASOURCE_TYPE
        : source.resourceType || inferred.resourceType,
    // Unknown here; a restore that needs it asks the vault (same region as its datasources).
    resourceLocation: source.resourceLocation ?? "",
  };
}

/** The friendly name the service's tooling gives a datasource (`server/db` or `server`). */
function friendlyNameOf(datasourceId: string): string | undefined {
  try {
    return friendlyNameFor(datasourceTargetOf(datasourceId));
  } catch {
    return undefined;
  }
}

/** Whether a value is a date and time the app can use as an event time. */
function isTime(value: string | undefined): value is string {
  return value !== undefined && value !== "" && !Number.isNaN(Date.parse(value));
}

/** What the caller of {@link toBackupInstance} knows besides the answer. */
export interface BackupInstanceReading {
  /** When the app received the answer (ISO 8601): the creation time when `systemData` is omitted. */
  readonly observedAt: string;
  /** The instance's ARM id and name as the request addressed them, when the answer omits them. */
  readonly id?: string;
  readonly name?: string;
  /**
   * The state the request just brought the instance to (a create or a stop that succeeded),
   * when the answer reports none.
   */
  readonly statusWhenUnreported?: ProtectionStatus;
  /**
   * The `currentProtectionState` the request just brought the instance to (a suspend, a stop),
   * when the answer reports none.
   */
  readonly stateWhenUnreported?: string;
}

/**
 * The protection state the service reports, or the one its provisioning state implies, or the
 * one the caller's request brought about; an instance the service lists and reports nothing
 * wrong with is taken as configured.
 */
function protectionStatusOf(
  p: NonNullable<BackupInstanceResourceOutput["properties"]>,
  reading: BackupInstanceReading,
): ProtectionStatus {
  const reported = p.protectionStatus?.status || p.currentProtectionState;
  if (reported) return reported as ProtectionStatus;
  const provisioning = (p.provisioningState ?? "").toLowerCase();
  if (provisioning === "failed") return "ConfiguringProtectionFailed";
  if (provisioning === "provisioning" || provisioning === "updating")
    return "ConfiguringProtection";
  return reading.statusWhenUnreported ?? "ProtectionConfigured";
}

/**
 * The service's error in the catalogue's terms, its own code kept as `serviceCode`, as the local
 * provider states its errors: job events and instance errors read alike from both providers.
 */
function toServiceError(error: UserFacingErrorOutput): ServiceErrorDetail {
  const serviceCode = error.code ?? "";
  return {
    code: normalizeCode(serviceCode).code,
    ...(serviceCode ? { serviceCode } : {}),
    message: error.message ?? "",
    ...(error.recommendedAction ? { recommendedAction: error.recommendedAction } : {}),
    ...(error.isRetryable === undefined ? {} : { isRetryable: error.isRetryable }),
    ...(error.isUserError === undefined ? {} : { isUserError: error.isUserError }),
  };
}

/**
 * Maps a backup instance resource to the domain's instance.
 *
 * @remarks Every property the contract leaves optional has a fallback: id and name from the
 * request, the friendly name and types from the datasource id, the protection state from the
 * provisioning state or the request that just succeeded, the creation time from when the app
 * observed the answer.
 */
export function toBackupInstance(
  resource: BackupInstanceResourceOutput,
  vaultName: string,
  reading: BackupInstanceReading = { observedAt: new Date().toISOString() },
): BackupInstance {
  const p = resource.properties;
  const id = resource.id || reading.id;
  const name = resource.name || reading.name || (id ? lastSegment(id) : undefined);
  if (!id || !name || !p?.dataSourceInfo?.resourceID) {
    throw new AppError(
      "INVALID_SERVICE_RESPONSE",
      "A backup instance came back without id, name or properties",
      {
        httpStatus: 502,
        retryable: true,
      },
    );
  }
  const secret = p.datasourceAuthCredentials?.secretStoreResource;
  const errorDetails = p.protectionStatus?.errorDetails ?? p.protectionErrorDetails;
  const createdAt = resource.systemData?.createdAt;
  return {
    id,
    name,
    vaultName,
    friendlyName: p.friendlyName || friendlyNameOf(p.dataSourceInfo.resourceID) || name,
    dataSourceInfo: toDatasourceInfo(p.dataSourceInfo),
    ...(p.dataSourceSetInfo?.resourceID
      ? { dataSourceSetInfo: toDatasourceInfo(p.dataSourceSetInfo) }
      : {}),
    policyId: p.policyInfo?.policyId ?? "",
    ...(secret?.uri
      ? { secretStore: { secretStoreType: "AzureKeyVault" as const, uri: secret.uri } }
      : {}),
    protectionStatus: protectionStatusOf(p, reading),
    ...((p.currentProtectionState ?? reading.stateWhenUnreported)
      ? { currentProtectionState: p.currentProtectionState ?? reading.stateWhenUnreported }
      : {}),
    ...(errorDetails?.code ? { protectionErrorDetails: toServiceError(errorDetails) } : {}),
    provisioningState: p.provisioningState ?? "",
    createdAt: isTime(createdAt) ? createdAt : reading.observedAt,
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

/**
 * Maps a job resource to the domain's job.
 *
 * @remarks Optional properties fall back: the name from the id (or the id from the name), the
 * end of a finished job without `endTime` to its start (a lower bound that stays the same on
 * every read), the backup instance to the one the caller listed for (`backupInstanceId`).
 */
export function toBackupJob(
  resource: AzureBackupJobResourceOutput,
  vaultId: string,
  backupInstanceId?: string,
): BackupJob {
  const p = resource.properties;
  const name = resource.name || (resource.id ? lastSegment(resource.id) : undefined);
  if (!p || !name) {
    throw new AppError("INVALID_SERVICE_RESPONSE", "A job came back without name or properties", {
      httpStatus: 502,
      retryable: true,
    });
  }
  const status = jobStatuses[(p.status ?? "").toLowerCase()] ?? "InProgress";
  const category = (p.operationCategory ?? "").toLowerCase().startsWith("restore")
    ? "Restore"
    : "Backup";
  const details = p.extendedInfo?.additionalDetails ?? {};
  const finished = status !== "InProgress";
  const reportedEnd = p.endTime && !RUNNING_END_TIME.test(p.endTime) ? p.endTime : undefined;
  const endTime = finished ? (reportedEnd ?? p.startTime) : undefined;
  return {
    id:
      resource.id ||
      formatVaultChildId({
        ...parseVaultId(vaultId),
        childType: "backupJobs",
        childName: name,
      }),
    name,
    vaultName: p.vaultName,
    operation:
      category === "Restore" ? "Restore" : p.isUserTriggered ? "OnDemandBackup" : "ScheduledBackup",
    operationCategory: category,
    isUserTriggered: p.isUserTriggered,
    status,
    startTime: p.startTime,
    ...(endTime ? { endTime } : {}),
    ...(reportedEnd && finished && p.duration ? { duration: toIsoDuration(p.duration) } : {}),
    backupInstanceId: p.backupInstanceId || backupInstanceId || "",
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
  instanceId?: string,
): RecoveryPoint {
  const p = resource.properties;
  const pointId =
    p?.recoveryPointId || resource.name || (resource.id ? lastSegment(resource.id) : "");
  const at = p?.recoveryPointTime ?? "";
  const stores = (p?.recoveryPointDataStoresDetails ?? []).filter(
    (d) => d.type === "VaultStore" || d.type === "ArchiveStore",
  );
  return {
    id: resource.id || (instanceId && pointId ? `${instanceId}/recoveryPoints/${pointId}` : ""),
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
    // Without details, the point is where every backup lands first: the vault store.
    dataStores:
      stores.length > 0
        ? stores.map((d) => ({
            type: d.type as RecoveryPointStoreType,
            creationTime: d.creationTime ?? at,
          }))
        : [{ type: "VaultStore", creationTime: at }],
    jobId: "",
  };
}

/**
 * Maps a policy resource; `known` stands in for what the answer omits (the policy's id and name
 * from the request, its rules from what was written).
 */
export function toPolicyResource(
  resource: BaseBackupPolicyResourceOutput,
  known: { id?: string; name?: string; properties?: BackupPolicy } = {},
): BackupPolicyResource {
  const properties = resource.properties ?? known.properties;
  if (!properties) {
    throw new AppError("INVALID_SERVICE_RESPONSE", "A policy came back without properties", {
      httpStatus: 502,
      retryable: true,
    });
  }
  const id = resource.id || known.id;
  const name = resource.name || known.name;
  return {
    ...(id ? { id } : {}),
    ...(name ? { name } : {}),
    ...(resource.type ? { type: resource.type } : {}),
    properties,
    ...(resource.systemData ? { systemData: resource.systemData } : {}),
  };
}

/** The last segment of a resource id: the name of what it names; the id itself when it has none. */
export function lastSegment(id: string): string {
  return lastIdSegment(id) ?? id;
}
