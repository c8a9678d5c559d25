/**
 * The backup ports over Azure Backup (Data Protection Backup vaults): the REST-level client's
 * answers mapped to the domain's types. ARM-shaped JSON stays in this folder; only policies
 * cross unchanged, because the domain's policy types are the service's.
 */
import type { Client, HttpResponse } from "@azure-rest/core-client";
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
  datasourceTargetOf,
  friendlyNameFor,
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
import { armErrorFromOperation, armErrorFromResponse, armErrorFromThrown } from "./armErrors.js";
import {
  toArmBackupInstance,
  toArmBackupInstanceResource,
  toArmDatasource,
  toArmDatasourceSet,
} from "./backupInstanceBuilder.js";
import {
  createDataProtectionClient,
  isAmbiguousFailure,
  isUnexpected,
  listAll,
  operationStillRunning,
  pollLongRunningOperation,
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
  type LongRunningOutcome,
  type OperationJobExtendedInfoOutput,
  type RestoreFilesTargetInfo,
  type RestoreTargetInfo,
  type UserFacingErrorOutput,
} from "./dataProtection/index.js";
import { logger } from "./dataProtection/logger.js";
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
  /** How a non-idempotent request whose answer was lost is settled. */
  readonly lostAnswers?: LostAnswerOptions;
}

/**
 * How an ad-hoc backup, a restore or a protection action whose answer was lost (5xx, reset,
 * timeout) is settled: the service may have carried it out, so what it started is looked for
 * before the request is sent again.
 */
export interface LostAnswerOptions {
  /** Reads looking for what the request started; 3 by default. */
  readonly lookups?: number;
  /** Wait before each read after the first; 10 s by default (new jobs are listed within seconds). */
  readonly lookupIntervalMs?: number;
  /**
   * How long before the request a job may have started and still be taken for its own, for the
   * service's clock running behind; 30 s by default. Jobs this process already handed to an
   * earlier request are never taken.
   */
  readonly clockSkewMs?: number;
  /** Sends in all while each answer is lost and nothing is found; 2 by default. */
  readonly maxSends?: number;
  /** The app's clock; the system's by default. */
  readonly now?: () => number;
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
  return new AzureBackupService(client, options.polling ?? {}, options.lostAnswers ?? {});
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

function toServiceError(error: UserFacingErrorOutput): ServiceErrorDetail {
  return {
    code: error.code ?? "Unknown",
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
    throw new AppError("InvalidServiceResponse", "A job came back without name or properties", {
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
function toPolicyResource(
  resource: BaseBackupPolicyResourceOutput,
  known: { id?: string; name?: string; properties?: BackupPolicy } = {},
): BackupPolicyResource {
  const properties = resource.properties ?? known.properties;
  if (!properties) {
    throw new AppError("InvalidServiceResponse", "A policy came back without properties", {
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

/** The parts of a policy that decide its behaviour, in one canonical form. */
function canonicalPolicy(policy: BackupPolicy): unknown {
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
  return strip({
    objectType: policy.objectType,
    datasourceTypes: policy.datasourceTypes,
    policyRules: rules,
  });
}

/**
 * Whether what the service reports of a policy agrees with `wanted`: every property it reports
 * has the wanted value, lists have the same length. Properties it omits (all but a few are
 * optional in the contract) are not taken for differences.
 */
function reportedPolicyAgrees(reported: BackupPolicy, wanted: BackupPolicy): boolean {
  const agrees = (read: unknown, want: unknown): boolean => {
    if (Array.isArray(read)) {
      return (
        Array.isArray(want) &&
        read.length === want.length &&
        read.every((item, i) => agrees(item, want[i]))
      );
    }
    if (typeof read === "object" && read !== null) {
      if (typeof want !== "object" || want === null || Array.isArray(want)) return false;
      return Object.entries(read).every(([key, value]) =>
        agrees(value, (want as Record<string, unknown>)[key]),
      );
    }
    return read === want;
  };
  return agrees(canonicalPolicy(reported), canonicalPolicy(wanted));
}

function lastSegment(id: string): string {
  return (
    id
      .split("/")
      .filter((s) => s !== "")
      .pop() ?? id
  );
}

/** A non-idempotent request whose answer was lost: the service may or may not have acted. */
class LostAnswer extends Error {
  constructor(override readonly cause: AppError) {
    super(cause.message);
    this.name = "LostAnswer";
  }
}

/** The backup ports over Azure Backup. */
export class AzureBackupService implements BackupServicePort {
  constructor(
    readonly client: DataProtectionClient,
    private readonly polling: LongRunningOptions = {},
    private readonly lostAnswers: LostAnswerOptions = {},
  ) {}

  /**
   * Jobs this service handed to a caller as started by its request (ids, lower case): a later
   * request whose answer is lost never adopts one of them.
   */
  private readonly startedJobs = new Set<string>();

  private vault(vaultId: string): VaultRef {
    return parseVaultId(vaultId);
  }

  private now(): number {
    return (this.lostAnswers.now ?? Date.now)();
  }

  private sleep(ms: number): Promise<void> {
    return (this.polling.sleep ?? systemClock.sleep)(ms, this.polling.abortSignal);
  }

  /** How the app read an instance now, for the fallbacks of {@link toBackupInstance}. */
  private reading(
    vaultId: string,
    instanceName: string,
    statusWhenUnreported?: ProtectionStatus,
  ): BackupInstanceReading {
    return {
      observedAt: new Date(this.now()).toISOString(),
      id: formatVaultChildId({
        ...this.vault(vaultId),
        childType: "backupInstances",
        childName: instanceName,
      }),
      name: instanceName,
      ...(statusWhenUnreported ? { statusWhenUnreported } : {}),
    };
  }

  /**
   * Sends a non-idempotent request (ad-hoc backup, restore, protection action) so that it is
   * carried out once however its answers are lost.
   *
   * @remarks The pipeline does not send these again by itself (`sendOnce.ts`). When an answer is
   * lost (`LostAnswer`: a 5xx, a reset or a timeout after sending, a status monitor that stopped
   * answering) the service may have acted, so `find` looks for what the request started, up to
   * `lookups` reads apart by `lookupIntervalMs`, and adopts it. Only when none of those reads
   * finds anything is the request sent again (the service shows new jobs within seconds, so
   * nothing found after the bounded look means nothing was started), at most `maxSends` times
   * in all; after that the last failure is thrown, retryable, since nothing was started. When
   * the look itself cannot be done, nothing is sent again: the call fails with
   * `RequestOutcomeUnknown`, which is not retried.
   */
  private async sendOnce<T>(request: {
    readonly operation: string;
    /** What the caller will recognise in the vault, for messages. */
    readonly subject: string;
    readonly send: () => Promise<T>;
    /** One look for what a request sent at `sentAt` started; `undefined` when nothing is seen. */
    readonly find: (sentAt: number) => Promise<T | undefined>;
  }): Promise<T> {
    const maxSends = Math.max(1, this.lostAnswers.maxSends ?? 2);
    for (let sends = 1; ; sends += 1) {
      const sentAt = this.now();
      let lost: LostAnswer;
      try {
        return await request.send();
      } catch (thrown) {
        if (!(thrown instanceof LostAnswer)) throw thrown;
        lost = thrown;
      }
      let found: T | undefined;
      try {
        found = await this.lookFor(sentAt, request.find);
      } catch (lookFailed) {
        throw new AppError(
          ProviderErrorCodes.requestOutcomeUnknown,
          `${request.operation} for ${request.subject}: the service's answer was lost (${lost.cause.message}) and whether it started was not found out (${lookFailed instanceof Error ? lookFailed.message : String(lookFailed)})`,
          {
            httpStatus: 502,
            retryable: false,
            recommendedAction: `Look in the vault's jobs for one of ${request.subject} started after ${new Date(sentAt).toISOString()} before asking again`,
            cause: lost.cause,
          },
        );
      }
      if (found !== undefined) {
        logger.warning(
          `${request.operation} for ${request.subject}: the answer was lost (${lost.cause.message}); adopted what the request started`,
        );
        return found;
      }
      if (sends >= maxSends) throw lost.cause;
      logger.warning(
        `${request.operation} for ${request.subject}: the answer was lost (${lost.cause.message}) and nothing was started; sending it again`,
      );
    }
  }

  /** Up to `lookups` reads, the first at once, until one finds something. */
  private async lookFor<T>(
    sentAt: number,
    find: (sentAt: number) => Promise<T | undefined>,
  ): Promise<T | undefined> {
    const lookups = Math.max(1, this.lostAnswers.lookups ?? 3);
    for (let look = 1; look <= lookups; look += 1) {
      if (look > 1) await this.sleep(this.lostAnswers.lookupIntervalMs ?? 10_000);
      const found = await find(sentAt);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  /**
   * The job of a backup instance's datasource that a request sent at `sentAt` may have
   * started: user-triggered, of the category, started no earlier than the clock skew allows;
   * of several, the one that started closest to the request.
   */
  private async findStartedJob(
    vaultId: string,
    instanceName: string,
    category: "Backup" | "Restore",
    sentAt: number,
  ): Promise<JobReference | undefined> {
    const instance = await this.getBackupInstance(vaultId, instanceName);
    const from = sentAt - (this.lostAnswers.clockSkewMs ?? 30_000);
    const [job] = (await this.listJobs(vaultId))
      .filter(
        (j) =>
          !this.startedJobs.has(j.id.toLowerCase()) &&
          j.operationCategory === category &&
          j.isUserTriggered &&
          Date.parse(j.startTime) >= from &&
          (j.backupInstanceId
            ? lastSegment(j.backupInstanceId).toLowerCase() === instanceName.toLowerCase()
            : sameResourceId(j.dataSourceId, instance.dataSourceInfo.resourceId)),
      )
      .sort(
        (a, b) =>
          Math.abs(Date.parse(a.startTime) - sentAt) - Math.abs(Date.parse(b.startTime) - sentAt),
      );
    return job ? { jobId: job.id } : undefined;
  }

  /**
   * Sends a non-idempotent action's first request and answers its success; a failure after
   * which the service may have acted is a {@link LostAnswer}, any other is thrown as it is.
   */
  private async sendAction<T extends HttpResponse>(
    operation: string,
    post: () => PromiseLike<T>,
  ): Promise<T> {
    let initial: T;
    try {
      initial = await post();
    } catch (thrown) {
      const error = armErrorFromThrown(thrown, operation);
      if (isAmbiguousFailure({ thrown })) throw new LostAnswer(error);
      throw error;
    }
    if (isUnexpected(initial)) {
      const error = armErrorFromResponse(initial, operation);
      if (isAmbiguousFailure({ status: Number(initial.status) })) throw new LostAnswer(error);
      throw error;
    }
    return initial;
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
    const initial = await this.sendAction(operation, post);
    let jobId: string | undefined;
    if (initial.status === "200") {
      jobId = (initial.body as OperationJobExtendedInfoOutput | undefined)?.jobId;
    } else {
      let outcome: LongRunningOutcome<OperationJobExtendedInfoOutput>;
      try {
        outcome = await pollLongRunningOperation<OperationJobExtendedInfoOutput>(
          this.client as Client,
          initial,
          this.polling,
        );
      } catch (thrown) {
        // The service accepted the request; only its outcome went missing.
        throw new LostAnswer(armErrorFromThrown(thrown, operation));
      }
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
    category: "Backup" | "Restore",
    operation: string,
    post: Parameters<AzureBackupService["startJob"]>[2],
  ): Promise<JobReference> {
    const find = (sentAt: number) => this.findStartedJob(vaultId, instanceName, category, sentAt);
    const started = await this.sendOnce({
      operation,
      subject: `backup instance ${instanceName}`,
      send: async () => {
        const sentAt = this.now();
        const started = await this.startJob(vaultId, operation, post);
        if (started !== "unnamed") return started;
        let found: JobReference | undefined;
        try {
          found = await this.lookFor(sentAt, find);
        } catch (lookFailed) {
          throw new AppError(
            ProviderErrorCodes.requestOutcomeUnknown,
            `${operation} succeeded without naming its job, and the jobs of backup instance ${instanceName} could not be read (${lookFailed instanceof Error ? lookFailed.message : String(lookFailed)})`,
            {
              httpStatus: 502,
              retryable: false,
              recommendedAction: `Look in the vault's jobs for one of ${instanceName} started after ${new Date(sentAt).toISOString()} before asking again`,
            },
          );
        }
        if (found) return found;
        throw new AppError(
          "InvalidServiceResponse",
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
    this.startedJobs.add(started.jobId.toLowerCase());
    // Only recent jobs can be mistaken for a new request's; the oldest are forgotten first.
    if (this.startedJobs.size > 1000) {
      const [oldest] = this.startedJobs;
      if (oldest !== undefined) this.startedJobs.delete(oldest);
    }
    return started;
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
      id: body.id || vaultId,
      name: body.name || v.vaultName,
      location: body.location,
      ...(body.identity?.principalId ? { principalId: body.identity.principalId } : {}),
      provisioningState: body.properties?.provisioningState ?? "",
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
    const known = {
      id: formatVaultChildId({ ...v, childType: "backupPolicies", childName: policyName }),
      name: policyName,
    };
    const existing = await this.call("Reading the backup policy", () => route.get());
    if (!isUnexpected(existing)) {
      const current = toPolicyResource(existing.body, known);
      if (reportedPolicyAgrees(current.properties, policy)) return current;
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
    return toPolicyResource(created.body, { ...known, properties: policy });
  }

  async getPolicy(vaultId: string, policyName: string): Promise<BackupPolicyResource> {
    const v = this.vault(vaultId);
    const response = await this.call("Reading the backup policy", () =>
      this.client.path(POLICY, v.subscriptionId, v.resourceGroup, v.vaultName, policyName).get(),
    );
    if (isUnexpected(response)) this.fail(response, "Reading the backup policy");
    return toPolicyResource(response.body, {
      id: formatVaultChildId({ ...v, childType: "backupPolicies", childName: policyName }),
      name: policyName,
    });
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
    return items.map((item) => toPolicyResource(item));
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
   * Creates the instance and answers it as it stands once its operation ends or the short
   * polling bound passes: possibly still `ConfiguringProtection`, which the caller follows.
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
      ({ instance, existed } = await this.putBackupInstance(route, vaultId, instanceName, spec));
    } else {
      const existing = await this.call("Reading the backup instance", () => route.get());
      existed = !isUnexpected(existing);
      if (!isUnexpected(existing)) {
        instance = toBackupInstance(
          existing.body,
          v.vaultName,
          this.reading(vaultId, instanceName),
        );
      } else {
        if (existing.status !== "404") this.fail(existing, "Reading the backup instance");
        await this.validateForBackup(vaultId, spec);
        ({ instance } = await this.putBackupInstance(route, vaultId, instanceName, spec));
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
    // An instance still ConfiguringProtection is answered as it is: waiting for it is the
    // orchestration's (durable timers), not this call's, which runs inside an activity.
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

  /** The PUT of a backup instance, followed to the end of its operation or for the polling bound. */
  private async putBackupInstance(
    route: BackupInstancesGet,
    vaultId: string,
    instanceName: string,
    spec: BackupInstanceSpec,
  ): Promise<{ instance: BackupInstance; existed: boolean }> {
    const v = this.vault(vaultId);
    const operation = "Creating the backup instance";
    // The create succeeded: an answer that reports no state means the state it was asked for.
    const reading = () => this.reading(vaultId, instanceName, "ProtectionConfigured");
    const initial = await this.call(operation, () =>
      route.put({ body: toArmBackupInstanceResource(spec) }),
    );
    if (isUnexpected(initial)) this.fail(initial, operation);
    // 200 is the update of an instance that was there; a new one is 201 or 202 with an operation.
    if (initial.status === "200") {
      return { instance: toBackupInstance(initial.body, v.vaultName, reading()), existed: true };
    }
    // The service answers 201 with the instance already provisioned (its REST docs show
    // `provisioningState: Succeeded`, `ProtectionConfigured`): the operation behind the status URL
    // has nothing left to tell, and polling it would spend Resource Manager reads for nothing.
    if (
      initial.status === "201" &&
      initial.body.properties?.provisioningState?.toLowerCase() === "succeeded"
    ) {
      return { instance: toBackupInstance(initial.body, v.vaultName, reading()), existed: false };
    }
    let outcome: LongRunningOutcome<BackupInstanceResourceOutput>;
    try {
      outcome = await pollLongRunningOperation<BackupInstanceResourceOutput>(
        this.client as Client,
        initial,
        this.polling,
      );
    } catch (thrown) {
      throw armErrorFromThrown(thrown, operation);
    }
    if (outcome.status === "failed" || outcome.status === "canceled") {
      throw armErrorFromOperation(outcome.lastStatus?.error, operation);
    }
    // Still running after the short wait: the instance is answered as it stands
    // (ConfiguringProtection), for the orchestration to follow.
    if (outcome.status === "running") {
      const read = await this.call("Reading the backup instance", () => route.get());
      // Not visible yet: the activity's durable retry sends the same PUT again later.
      if (read.status === "404") throw operationStillRunning(operation, outcome.statusUrl);
      if (isUnexpected(read)) this.fail(read, "Reading the backup instance");
      const stillRunning = this.reading(vaultId, instanceName, "ConfiguringProtection");
      return { instance: toBackupInstance(read.body, v.vaultName, stillRunning), existed: false };
    }
    // The final read may carry no instance (a `Location` answering 200 or 204 with no body).
    if (!outcome.result?.properties?.dataSourceInfo) {
      const read = await this.call("Reading the backup instance", () => route.get());
      if (isUnexpected(read)) this.fail(read, "Reading the backup instance");
      return { instance: toBackupInstance(read.body, v.vaultName, reading()), existed: false };
    }
    return { instance: toBackupInstance(outcome.result, v.vaultName, reading()), existed: false };
  }

  async getBackupInstance(vaultId: string, instanceName: string): Promise<BackupInstance> {
    const v = this.vault(vaultId);
    const response = await this.call("Reading the backup instance", () =>
      this.client
        .path(INSTANCE, v.subscriptionId, v.resourceGroup, v.vaultName, instanceName)
        .get(),
    );
    if (isUnexpected(response)) this.fail(response, "Reading the backup instance");
    return toBackupInstance(response.body, v.vaultName, this.reading(vaultId, instanceName));
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
    const observedAt = new Date(this.now()).toISOString();
    return items.map((item) => toBackupInstance(item, v.vaultName, { observedAt }));
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
    const observedAt = new Date(this.now()).toISOString();
    return items.map((item) =>
      toBackupInstance(item, /\/backupVaults\/([^/]+)/i.exec(item.id ?? "")?.[1] ?? "", {
        observedAt,
      }),
    );
  }

  /**
   * Stops protection, once: after a lost answer the instance is read, and one already stopped
   * is the request's doing.
   */
  async stopProtection(vaultId: string, instanceName: string): Promise<BackupInstance> {
    const v = this.vault(vaultId);
    const operation = "Stopping protection";
    const stopped = async (): Promise<BackupInstance> => {
      const route = this.client.path(
        INSTANCE,
        v.subscriptionId,
        v.resourceGroup,
        v.vaultName,
        instanceName,
      );
      const read = await this.call("Reading the backup instance", () => route.get());
      if (isUnexpected(read)) this.fail(read, "Reading the backup instance");
      return toBackupInstance(
        read.body,
        v.vaultName,
        this.reading(vaultId, instanceName, "ProtectionStopped"),
      );
    };
    return this.sendOnce({
      operation,
      subject: `backup instance ${instanceName}`,
      send: async () => {
        const initial = await this.sendAction(operation, () =>
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
        if (initial.status === "202") {
          let outcome: LongRunningOutcome<unknown>;
          try {
            outcome = await pollLongRunningOperation<unknown>(
              this.client as Client,
              initial,
              this.polling,
            );
          } catch (thrown) {
            throw new LostAnswer(armErrorFromThrown(thrown, operation));
          }
          // Sending it again while it runs would be refused: the caller asks again later.
          if (outcome.status === "running")
            throw operationStillRunning(operation, outcome.statusUrl);
          if (outcome.status !== "succeeded")
            throw armErrorFromOperation(outcome.lastStatus?.error, operation);
        }
        return stopped();
      },
      find: async () => {
        const instance = await this.getBackupInstance(vaultId, instanceName);
        return instance.protectionStatus === "ProtectionStopped" ? instance : undefined;
      },
    });
  }

  // -- operations -------------------------------------------------------------------------------

  private jobReference(vaultId: string, jobId: string): JobReference {
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
    return this.startJobOnce(vaultId, instanceName, "Backup", "Starting the backup", () =>
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
  }

  async triggerRestore(
    vaultId: string,
    instanceName: string,
    request: RestoreRequest,
  ): Promise<JobReference> {
    const v = this.vault(vaultId);
    const instance = await this.getBackupInstance(vaultId, instanceName);
    // A vault protects datasources of its own region: its region stands in when unreported.
    const location =
      instance.dataSourceInfo.resourceLocation || (await this.getVault(vaultId)).location;
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
    return this.startJobOnce(vaultId, instanceName, "Restore", "Starting the restore", () =>
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
    // Jobs that do not name their backup instance (the contract leaves it optional) are the
    // instance's when they are of its datasource.
    let instance: BackupInstance | undefined;
    if (filter.backupInstanceName && items.some((item) => !item.properties?.backupInstanceId)) {
      instance = await this.getBackupInstance(vaultId, filter.backupInstanceName).catch(
        (error: unknown) => {
          if (error instanceof AppError && error.httpStatus === 404) return undefined;
          throw error;
        },
      );
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
