/**
 * The ports the activities use to reach a backup service, a secret store and a resource
 * directory. They are shaped after the Data Protection service (Backup vaults, backup instances,
 * jobs, recovery points), Key Vault and Resource Manager, so that the Azure provider and the
 * embedded local provider implement the same interfaces.
 *
 * @remarks Every method fails with an `AppError` carrying a code of the catalogue
 * (`DATASOURCE_ALREADY_PROTECTED`, `MISSING_REQUIRED_PERMISSIONS`, ...) and, where the failure
 * came from the service, the service's own code as `serviceCode`; the constants below name the
 * ones both providers raise. Vaults are named by their ARM id (`/subscriptions/.../backupVaults/{name}`).
 */
import type { PgProtectEvent } from "../domain/events/types.js";
import type { JobHistoryPage, JobHistoryQuery } from "../domain/history/jobQuery.js";
import type { DrillRecord } from "../domain/drills/drill.js";
import type { DrillPage, DrillQuery } from "../domain/drills/query.js";
import type { BackupPolicy, BackupPolicyResource } from "../domain/policy/types.js";
import { ErrorCodes } from "../domain/errorCodes.js";
import type { DeletedBackupInstance } from "../domain/protection/lifecycle.js";
import type { ResolvedDatasource } from "../domain/protection/datasource.js";
import type { ServiceLimitFacts } from "../domain/protection/serviceLimits.js";
import type { VaultSecuritySettings } from "../domain/vault/posture.js";
import type {
  BackupInstance,
  BackupInstanceSpec,
  BackupJob,
  JobOperation,
  JobStatus,
  RecoveryPoint,
  RecoveryPointStoreType,
  RestoreVerificationSummary,
} from "../domain/protection/types.js";

/**
 * The codes the ports raise: a named view onto the catalogue (`domain/errorCodes.ts`). Where the
 * service has a code for the fact, the catalogue names it and it travels as `serviceCode`.
 */
export const ProviderErrorCodes = {
  /** The datasource is already protected (validateForBackup, create). */
  datasourceAlreadyProtected: ErrorCodes.DATASOURCE_ALREADY_PROTECTED,
  /** The vault cannot reach the datasource or its secret with the access it has. */
  missingRequiredPermissions: ErrorCodes.MISSING_REQUIRED_PERMISSIONS,
  /** The database user lacks privileges (e.g. wrong password, no CONNECT, no SELECT). */
  missingDbPermissions: ErrorCodes.MISSING_DB_PERMISSIONS,
  /** A backup instance, policy, job or recovery point does not exist. */
  resourceNotFound: ErrorCodes.RESOURCE_NOT_FOUND,
  /** A secret does not exist (Key Vault's code). */
  secretNotFound: ErrorCodes.SECRET_NOT_FOUND,
  /** Ad-hoc backup names a rule that is not a backup rule of the policy. */
  backupRuleNotFound: ErrorCodes.ADHOC_RULE_NOT_FOUND,
  /** Ad-hoc backup names a retention tag the policy has no retention rule for. */
  retentionTagNotFound: ErrorCodes.ADHOC_TAG_NOT_FOUND,
  /** The instance is not in a state that allows backups (protection stopped). */
  protectionNotConfigured: ErrorCodes.PROTECTION_NOT_CONFIGURED,
  /** A policy with this name exists and policies cannot be modified in place. */
  policyUpdateNotSupported: ErrorCodes.POLICY_UPDATE_NOT_SUPPORTED,
  /** The restore target is not allowed for this datasource (Flexible Server: files only) or already exists. */
  invalidRestoreTarget: ErrorCodes.RESTORE_TARGET_INVALID,
  /** `pg_restore` failed; the partly restored database was dropped. */
  restoreFailed: ErrorCodes.RESTORE_FAILED,
  /** The restored data differ from the recovery point. */
  restoreVerificationFailed: ErrorCodes.RESTORE_VERIFICATION_FAILED,
  /**
   * A recovery point's file does not match the SHA-256 or size recorded when it was made
   * (changed or cut on disk); it is not restored, copied or archived.
   */
  recoveryPointCorrupt: ErrorCodes.RECOVERY_POINT_CORRUPT,
  /** The datasource could not be read (connection refused, database dropped, dump failed). */
  datasourceUnreachable: ErrorCodes.DATASOURCE_UNREACHABLE,
  /** The vault has no room for the recovery point. */
  vaultStorageFull: ErrorCodes.VAULT_STORAGE_FULL,
  /** The provider stopped while the job ran (and its attempts are used up). */
  jobInterrupted: ErrorCodes.JOB_INTERRUPTED,
  /** A backup of the same backup instance is running; one runs at a time. */
  backupInProgress: ErrorCodes.BACKUP_IN_PROGRESS,
  /** The local provider is stopping (the host drains its jobs); no new job starts. */
  providerStopping: ErrorCodes.LOCAL_PROVIDER_STOPPING,
  /**
   * The answer to an ad-hoc backup, restore or protection action was lost and what the service
   * did could not be checked; it is not sent again, so as not to do it twice.
   */
  requestOutcomeUnknown: ErrorCodes.REQUEST_OUTCOME_UNKNOWN,
  /**
   * A service operation outlasted the short wait a call gives it (retryable): the caller's
   * durable retry asks again later instead of the call waiting.
   */
  operationStillRunning: ErrorCodes.OPERATION_STILL_RUNNING,
} as const;

// ---------------------------------------------------------------------------------------------
// Policies

/** Backup policies of a vault (`BackupPolicies_*`). Policies cannot be modified in place. */
export interface BackupPolicyPort {
  /**
   * Creates a policy. Creating the same JSON again answers the existing policy; a different body
   * under an existing name fails with `POLICY_UPDATE_NOT_SUPPORTED`.
   */
  createPolicy(
    vaultId: string,
    policyName: string,
    policy: BackupPolicy,
  ): Promise<BackupPolicyResource>;
  /** @throws NotFoundError `RESOURCE_NOT_FOUND`. */
  getPolicy(vaultId: string, policyName: string): Promise<BackupPolicyResource>;
  listPolicies(vaultId: string): Promise<BackupPolicyResource[]>;
}

// ---------------------------------------------------------------------------------------------
// Backup instances

/** Outcome of `validateForBackup` when the datasource can be protected. */
export interface BackupValidation {
  /** The checks that passed, in order, for display. */
  readonly checks: readonly string[];
}

/** Options of `createBackupInstance`. */
export interface CreateBackupInstanceOptions {
  /**
   * The caller ran validateForBackup for this spec just before: the create skips its own
   * validation and its look-up of an existing instance, and writes at once.
   */
  readonly validated?: boolean;
}

/** Backup instances of a vault (`BackupInstances_*`, `BackupInstancesExtensionRouting_List`). */
export interface BackupInstancePort {
  /**
   * Checks that a datasource can be protected: not protected yet, the policy exists and fits the
   * datasource type, the vault can read the credentials and reach the data.
   *
   * @throws AppError `DATASOURCE_ALREADY_PROTECTED`, `MISSING_REQUIRED_PERMISSIONS`,
   * `MISSING_DB_PERMISSIONS`, `SECRET_NOT_FOUND`, `RESOURCE_NOT_FOUND`.
   */
  validateForBackup(vaultId: string, spec: BackupInstanceSpec): Promise<BackupValidation>;
  /**
   * Validates (unless `options.validated`), then creates the instance and answers it as it
   * stands after a short, bounded wait: possibly still `ConfiguringProtection`, which the caller
   * follows with `getBackupInstance` (the orchestration waits, with durable timers). Creating
   * again under the same name for the same datasource answers the existing instance.
   */
  createBackupInstance(
    vaultId: string,
    instanceName: string,
    spec: BackupInstanceSpec,
    options?: CreateBackupInstanceOptions,
  ): Promise<BackupInstance>;
  /** @throws NotFoundError `RESOURCE_NOT_FOUND`. */
  getBackupInstance(vaultId: string, instanceName: string): Promise<BackupInstance>;
  listBackupInstances(vaultId: string): Promise<BackupInstance[]>;
  /** Instances protecting a datasource, in any vault the provider sees. */
  listBackupInstancesForDatasource(datasourceId: string): Promise<BackupInstance[]>;
  /** Stops protection and keeps the recovery points (`ProtectionStopped`). */
  stopProtection(vaultId: string, instanceName: string): Promise<BackupInstance>;
}

// ---------------------------------------------------------------------------------------------
// The protection lifecycle

/**
 * Where a lifecycle action left an instance: as it stands once the service's operation ended,
 * or, when the operation outlasted the short wait a call gives it, `running` (the caller follows
 * the instance's state with durable timers rather than sending the action again).
 */
export interface LifecycleActionOutcome {
  /** The instance as read after the action; absent once it is deleted. */
  readonly instance?: BackupInstance;
  /** Whether the service's operation was still running when the call stopped waiting. */
  readonly running: boolean;
}

/**
 * The protection lifecycle of backup instances (`BackupInstances_StopProtection`,
 * `_SuspendBackups`, `_ResumeBackups`, `_ResumeProtection`, `_ValidateForModifyBackup`,
 * `_CreateOrUpdate`, `_Delete`, `DeletedBackupInstances_*`).
 *
 * @remarks Actions that the service carries out on arrival (stop, suspend, resume, delete,
 * undelete) are sent once however their answers are lost. Each refuses a state the service
 * refuses with `PROTECTION_STATE_CONFLICT`.
 */
export interface ProtectionLifecyclePort {
  /** Stops protection and keeps every recovery point (`ProtectionStopped`). */
  stopProtection(vaultId: string, instanceName: string): Promise<LifecycleActionOutcome>;
  /** Stops the schedule; retention runs on (`BackupSchedulesSuspended`). */
  suspendBackups(vaultId: string, instanceName: string): Promise<LifecycleActionOutcome>;
  /** Resumes a suspended schedule or stopped protection (`ProtectionConfigured`). */
  resume(vaultId: string, instanceName: string): Promise<LifecycleActionOutcome>;
  /**
   * Moves the instance to another policy of its vault: validated by the service first
   * (`validateForModifyBackup`), then written.
   *
   * @throws AppError `POLICY_NOT_FOUND`, `POLICY_DATASOURCE_TYPE_MISMATCH`.
   */
  changePolicy(
    vaultId: string,
    instanceName: string,
    policyId: string,
  ): Promise<LifecycleActionOutcome>;
  /** Deletes the instance; with soft delete on, it can be undeleted until its purge. */
  deleteBackupInstance(vaultId: string, instanceName: string): Promise<LifecycleActionOutcome>;
  /**
   * Brings a soft-deleted instance back (as `ProtectionStopped`).
   *
   * @throws NotFoundError `DELETED_BACKUP_INSTANCE_NOT_FOUND`; AppError
   * `UNDELETE_RETENTION_EXPIRED`.
   */
  undeleteBackupInstance(vaultId: string, instanceName: string): Promise<LifecycleActionOutcome>;
  /** The soft-deleted instances of a vault. */
  listDeletedBackupInstances(vaultId: string): Promise<DeletedBackupInstance[]>;
}

// ---------------------------------------------------------------------------------------------
// Backups, restores, jobs, recovery points

/** `TriggerBackupRequest`: the backup rule to run and, optionally, the retention tag to give. */
export interface AdhocBackupRequest {
  /** Name of an `AzureBackupRule` of the instance's policy, e.g. `BackupWeekly`. */
  readonly ruleName: string;
  /** Name of a retention rule of the policy (`Default`, `Weekly`, `Monthly`, `Yearly`); default `Default`. */
  readonly retentionTagOverride?: string;
}

/** `OperationJobExtendedInfo`: the job started by an operation. */
export interface JobReference {
  /** ARM id of the job. */
  readonly jobId: string;
}

/** Restore into a new database. */
export interface RestoreToDatabaseTarget {
  readonly kind: "database";
  /** ARM id of the database to create; it must not exist (`FailIfExists`). */
  readonly targetDatabaseId: string;
  /** Secret with a connection string for the target server; the instance's secret by default. */
  readonly secretUri?: string;
  /**
   * A whole server's recovery point (one dump per database): the database whose dump to restore.
   * Without it, a recovery point of one database restores that one.
   */
  readonly sourceDatabaseName?: string;
}

/** Restore as files (`RestoreFilesTargetInfo`): the dump files copied out. */
export interface RestoreAsFilesTarget {
  readonly kind: "files";
  /** Destination: a blob container URL in Azure, a folder path (or `file://` URL) locally. */
  readonly url: string;
  /** Prefix of the restored file names. */
  readonly filePrefix?: string;
  /**
   * ARM id of the storage account (or its container) the files go to, sent as the service's
   * `targetResourceArmId` when it names a container.
   */
  readonly storageScope?: string;
}

/** `AzureBackupRecoveryPointBasedRestoreRequest`, flattened. */
export interface RestoreRequest {
  /** The recovery point id (the last segment of its ARM id, or the whole id). */
  readonly recoveryPointId: string;
  /** The store to read from; the provider picks one holding the point when absent. */
  readonly sourceDataStoreType?: RecoveryPointStoreType;
  readonly target: RestoreToDatabaseTarget | RestoreAsFilesTarget;
}

/** Filters of a job list; all given filters must match. */
export interface JobFilter {
  readonly status?: readonly JobStatus[];
  readonly operation?: readonly JobOperation[];
  readonly datasourceId?: string;
  readonly backupInstanceName?: string;
  /** Jobs started or ended at or after this instant (ISO 8601), for watermark-based tracking. */
  readonly since?: string;
}

/** Backup and restore operations of a vault. */
export interface BackupOperationsPort {
  /**
   * Starts an on-demand backup under one of the policy's backup rules (`BackupInstances_AdhocBackup`).
   * The job runs on; follow it with {@link JobPort.getJob}. Rule and tag mistakes fail here, before
   * a job exists; the service's run-time rules (one backup a week on Flexible Server) fail the job.
   *
   * @throws AppError `ADHOC_RULE_NOT_FOUND`, `ADHOC_TAG_NOT_FOUND`,
   * `PROTECTION_NOT_CONFIGURED`, `RESOURCE_NOT_FOUND`.
   */
  triggerBackup(
    vaultId: string,
    instanceName: string,
    request: AdhocBackupRequest,
  ): Promise<JobReference>;
  /** Starts a restore (`BackupInstances_TriggerRestore`); follow the returned job. */
  triggerRestore(
    vaultId: string,
    instanceName: string,
    request: RestoreRequest,
  ): Promise<JobReference>;
  /**
   * Asks the service whether it would carry a restore out (`BackupInstances_ValidateForRestore`),
   * where the provider has such a check.
   *
   * @throws AppError with the service's code as `serviceCode` when it refuses (a 4xx).
   */
  validateRestore?(vaultId: string, instanceName: string, request: RestoreRequest): Promise<void>;
}

/** Jobs of a vault (`Jobs_Get`, `Jobs_List`). */
export interface JobPort {
  /** @param jobId - the job's ARM id or GUID. @throws NotFoundError `RESOURCE_NOT_FOUND`. */
  getJob(vaultId: string, jobId: string): Promise<BackupJob>;
  /** Jobs matching the filter, oldest start first. */
  listJobs(vaultId: string, filter?: JobFilter): Promise<BackupJob[]>;
}

/**
 * Jobs of many vaults in one request, where {@link JobPort.listJobs} costs one list (and its
 * pages) per vault. In Azure that is one Resource Graph query for every vault and subscription,
 * counted against Resource Graph's per-user quota rather than the Resource Manager read bucket
 * that protection, backups and restores share.
 *
 * @remarks Optional: a provider without it is listed vault by vault. Resource Graph indexes jobs a
 * few minutes after the service shows them, so a listing by watermark reaches back further than
 * that (the job watcher overlaps its listings), and whoever follows one job reads it with
 * {@link JobPort.getJob}.
 */
export interface CrossVaultJobPort {
  /**
   * The jobs `listJobs` returns for each vault, with the same filter: all vaults' jobs in one
   * list, oldest start first (jobs starting at the same instant in the order of `vaultIds`).
   */
  listJobsAcrossVaults(vaultIds: readonly string[], filter?: JobFilter): Promise<BackupJob[]>;
}

/** A backup instance as a cross-vault index shows it: enough to tell what is protected. */
export interface ProtectedItem {
  /** ARM id of the backup instance. */
  readonly backupInstanceId: string;
  /** ARM id of the datasource it protects. */
  readonly datasourceId: string;
  /** `ProtectionConfigured`, `ProtectionStopped`, `SoftDeleted`, ... as the service reports it. */
  readonly protectionStatus: string;
}

/**
 * Every backup instance of some subscriptions in one request, where asking datasource by datasource
 * costs a Resource Manager read each (`BackupInstancesExtensionRouting_List`). In Azure that is one
 * Resource Graph query, the way `az dataprotection backup-instance list-from-resourcegraph` asks.
 *
 * @remarks Optional. Resource Graph shows an instance a few minutes after it is created, so a
 * datasource protected a moment ago can look unprotected: callers that act on "unprotected" must
 * still go through `protectDatasource`, which checks the service itself before creating anything.
 */
export interface ProtectedItemPort {
  /** The backup instances of these subscriptions, in any vault. */
  listProtectedItems(subscriptions: readonly string[]): Promise<ProtectedItem[]>;
}

/** Recovery points of a backup instance (`RecoveryPoints_List`). */
export interface RecoveryPointPort {
  /** Recovery points, oldest first. */
  listRecoveryPoints(vaultId: string, instanceName: string): Promise<RecoveryPoint[]>;
}

// ---------------------------------------------------------------------------------------------
// Secrets

/** Secrets addressed by Key Vault style URIs (`https://{vault}.vault.azure.net/secrets/{name}`). */
export interface SecretPort {
  /**
   * The secret's current value. Callers must never log it.
   *
   * @throws NotFoundError `SECRET_NOT_FOUND`; AppError `MISSING_REQUIRED_PERMISSIONS`.
   */
  getSecret(uri: string): Promise<string>;
  /** Whether the secret exists, without reading its value out. */
  secretExists(uri: string): Promise<boolean>;
}

// ---------------------------------------------------------------------------------------------
// Resource directory

/** Resource tags, as ARM keeps them. */
export type ResourceTags = Readonly<Record<string, string>>;

/** A PostgreSQL server known to the directory. */
export interface DirectoryServer {
  readonly id: string;
  readonly name: string;
  /** `servers` (per-database protection) or `flexibleServers` (whole-server protection). */
  readonly kind: "servers" | "flexibleServers";
  readonly location: string;
  readonly tags: ResourceTags;
}

/** A database of a PostgreSQL server. */
export interface DirectoryDatabase {
  readonly id: string;
  readonly name: string;
  readonly serverId: string;
  readonly serverName: string;
  readonly location: string;
  readonly tags: ResourceTags;
}

/** A resource appeared or its tags changed (an Event Grid `Microsoft.Resources.ResourceWriteSuccess`). */
export interface ResourceWriteChange {
  readonly eventType: "Microsoft.Resources.ResourceWriteSuccess";
  /** ARM id of the resource written. */
  readonly resourceId: string;
  /** e.g. `Microsoft.DBforPostgreSQL/servers/databases/write`. */
  readonly operationName: string;
  /** Why it counts as a write: the resource is new, or its tags changed. */
  readonly reason: "created" | "tagsChanged";
  /** When the directory noticed it (ISO 8601). */
  readonly eventTime: string;
  /** Tags after the write (events in Azure carry none; the local directory knows them). */
  readonly tags: ResourceTags;
}

/** Changes after a watermark, and the watermark to ask from next time. */
export interface ResourceChangePage {
  readonly changes: readonly ResourceWriteChange[];
  readonly watermark: string;
}

/** Where PostgreSQL servers and databases are found, with their tags. */
export interface ResourceDirectoryPort {
  /** @throws NotFoundError `RESOURCE_NOT_FOUND`. */
  resolveServer(serverName: string): Promise<DirectoryServer>;
  /** @throws NotFoundError `RESOURCE_NOT_FOUND`. */
  resolveDatabase(serverName: string, databaseName: string): Promise<DirectoryDatabase>;
  /** Tags of a server or database. @throws NotFoundError `RESOURCE_NOT_FOUND`. */
  getTags(resourceId: string): Promise<ResourceTags>;
  listServers(): Promise<DirectoryServer[]>;
  /** Databases of one server, or of all servers. */
  listDatabases(serverId?: string): Promise<DirectoryDatabase[]>;
  /**
   * Resource writes (new databases, tag changes) since a watermark from an earlier page; without
   * one, every current resource is reported as created.
   */
  changesSince(watermark?: string): Promise<ResourceChangePage>;
}

// ---------------------------------------------------------------------------------------------
// Events

/** A CloudEvent as pgprotect publishes it (CloudEvents 1.0 attributes; `specversion` is implied). */
export interface PublishedEvent {
  readonly type: string;
  readonly subject: string;
  /** Stable for the same fact, so a retried publish is recognised downstream. */
  readonly id: string;
  /** ISO 8601. */
  readonly time: string;
  readonly data: unknown;
  readonly source?: string;
  readonly dataschema?: string;
}

/** Where pgprotect's events go (an Event Grid topic). */
export interface EventPublisherPort {
  /** @throws AppError `EVENT_PUBLISH_FAILED`, retryable for throttling and outages. */
  publish(events: readonly PublishedEvent[]): Promise<void>;
}

/** Everything the backup service offers. */
export interface BackupServicePort
  extends BackupPolicyPort, BackupInstancePort, BackupOperationsPort, JobPort, RecoveryPointPort {
  /**
   * The names of the vaults the provider has beyond the configured ones (the local provider's
   * vaults on disk); absent where vaults are configured only (Azure).
   */
  listVaultNames?(): Promise<string[]>;
}

/** A role the Backup vault's identity lacks on what it protects. */
export interface MissingRole {
  /** The built-in role's name, e.g. `Reader`. */
  readonly roleName: string;
  /** ARM id of the scope the role is needed at (a resource or a resource group). */
  readonly scope: string;
}

/**
 * Secret permissions a key vault's access policy does not give the Backup vault's identity (a key
 * vault using access policies instead of Azure RBAC).
 */
export interface MissingSecretPermissions {
  /** ARM id of the key vault. */
  readonly keyVaultId: string;
  /** The object id the access policy must name: the vault identity's principal. */
  readonly principalId: string;
  /** The secret permissions it lacks, among `get` and `list`. */
  readonly permissions: readonly string[];
}

/** What the Backup vault's identity lacks on a datasource, or what was granted it. */
export interface VaultAccessReport {
  /** The roles it lacks (`missingRoles`) or was granted (`grantMissingRoles`). */
  readonly roles: MissingRole[];
  /** Access-policy permissions it lacks; never granted, as that writes the key vault itself. */
  readonly secretPermissions: MissingSecretPermissions[];
  /** What could not be checked and is left to the service's validation, as sentences. */
  readonly unchecked: string[];
}

/**
 * The Backup vault identity's role assignments on a datasource: checked before validateForBackup,
 * so that a missing role is named with its scope instead of surfacing as the service's generic
 * permissions error.
 *
 * @remarks `secretUri` is a Single Server database's Key Vault secret: the identity also needs to
 * read it, through "Key Vault Secrets User" or the key vault's access policy.
 */
export interface VaultAccessPort {
  /** What the vault's identity needs on the datasource (and its secret) and does not hold. */
  missingRoles(
    vaultId: string,
    datasourceId: string,
    secretUri?: string,
  ): Promise<VaultAccessReport>;
  /**
   * Grants the roles the vault's identity lacks on the datasource (and its secret's key vault);
   * reports what was granted and what it still lacks that cannot be granted.
   */
  grantMissingRoles(
    vaultId: string,
    datasourceId: string,
    secretUri?: string,
  ): Promise<VaultAccessReport>;
}

/**
 * A vault's security settings (Azure: `BackupVaults_Get` and `DppResourceGuardProxy_List`), for
 * its posture: a setting the answer leaves out is `unknown`, never a failure.
 */
export interface VaultSettingsPort {
  /** @throws NotFoundError `RESOURCE_NOT_FOUND` for a vault that does not exist. */
  readVaultSettings(vaultId: string): Promise<VaultSecuritySettings>;
}

/** The roles the vault's identity lacks (or was granted) on a restore's target storage. */
export interface RestoreAccessReport {
  /** The vault identity's principal id, for the command that grants the roles. */
  readonly principalId: string;
  readonly roles: MissingRole[];
}

/**
 * The vault identity's access to where a restore writes its files: a restore as files needs
 * Storage Blob Data Contributor on the target storage account or container.
 */
export interface RestoreAccessPort {
  /** The roles the identity lacks on the storage scope (a storage account's or container's ARM id). */
  missingRestoreRoles(vaultId: string, storageScope: string): Promise<RestoreAccessReport>;
  /** Grants the roles the identity lacks on the storage scope; reports what was granted. */
  grantRestoreRoles(vaultId: string, storageScope: string): Promise<RestoreAccessReport>;
  /**
   * The storage account a blob container URL is in, found by the account's name (the vault's
   * subscription and the app's); absent where accounts cannot be looked up.
   */
  findStorageAccount?(vaultId: string, containerUrl: string): Promise<StorageAccountLookup>;
}

/** What {@link RestoreAccessPort.findStorageAccount} found. */
export type StorageAccountLookup =
  | {
      readonly found: true;
      readonly accountName: string;
      readonly accountId: string;
      /** The container's ARM id: the narrowest scope the vault's identity needs its role at. */
      readonly containerId: string;
    }
  | {
      readonly found: false;
      /** Absent when the URL names no storage account (not `<account>.blob.<storage suffix>`). */
      readonly accountName?: string;
      /** The ARM ids of the accounts of that name: none, or several. */
      readonly candidates: readonly string[];
    };

/** What {@link RestoreToServerPort.loadRestoredFiles} loads, and where. */
export interface LoadRestoredFilesRequest {
  /** Names the load: its temporary database is named after it, so a retry finds its own. */
  readonly loadId: string;
  /** The blob container a restore as files wrote into. */
  readonly containerUrl: string;
  /** The prefix the restore's files were written under. */
  readonly filePrefix: string;
  /** Which database's dump to load, when the files hold several (a Flexible Server's). */
  readonly sourceDatabaseName?: string;
  /** A secret holding a connection string of the target server (its user may create databases). */
  readonly secretUri: string;
  /** The new database's name; it must not exist. */
  readonly databaseName: string;
}

/** A database loaded from a restore's files and verified. */
export interface LoadedDatabase {
  readonly databaseName: string;
  /** The server as the connection string names it (host and port). */
  readonly server: string;
  /** The blob the dump was read from. */
  readonly blobName: string;
  readonly dumpBytes: number;
  /** The comparison of the restored data with the dump (see `restoreVerification.ts`). */
  readonly verification: RestoreVerificationSummary;
  /** Seconds spent downloading, in `pg_restore` and verifying. */
  readonly seconds: { readonly download: number; readonly load: number; readonly verify: number };
}

/**
 * Restore to a server: a dump that a restore as files left in a blob container, loaded with
 * `pg_restore` into a new database of a reachable PostgreSQL server, under a temporary name that
 * is renamed only once the data is verified.
 */
export interface RestoreToServerPort {
  /**
   * Loads and verifies the dump. Idempotent per `loadId`: a retry after a crash drops its own
   * half-written temporary database and starts again; a load already renamed into place is
   * answered as it is.
   *
   * @throws AppError `RESTORE_TARGET_EXISTS`, `RESTORED_FILES_NOT_FOUND`, `RESTORE_FAILED`,
   * `RESTORE_VERIFICATION_FAILED`, `MISSING_DB_PERMISSIONS`.
   */
  loadRestoredFiles(request: LoadRestoredFilesRequest): Promise<LoadedDatabase>;
  /**
   * The databases whose dumps a restore as files wrote under `filePrefix` (a whole server's:
   * `{prefix}_{database}.dump`), sorted by name.
   */
  listRestoredDatabases(request: {
    readonly containerUrl: string;
    readonly filePrefix: string;
  }): Promise<string[]>;
}

/** A cheap check that the provider can serve, for `/api/health`. */
export interface ProviderHealthPort {
  /** Resolves when the provider can serve; throws an AppError saying what is down. */
  check(): Promise<void>;
}

/** The full set of ports a provider supplies. */
export interface Provider {
  /** Whether the provider's own parts are up (locally: its PostgreSQL servers). */
  readonly health?: ProviderHealthPort;
  readonly backup: BackupServicePort;
  readonly secrets: SecretPort;
  readonly directory: ResourceDirectoryPort;
  /** Role checks of the vault's identity, where the provider has roles (Azure). */
  readonly access?: VaultAccessPort;
  /**
   * Jobs of many vaults in one query (Azure: Resource Graph), where the provider has such a
   * source; without it, jobs are listed vault by vault with {@link JobPort.listJobs}.
   */
  readonly jobs?: CrossVaultJobPort;
  /**
   * Backup instances of whole subscriptions in one query (Azure: Resource Graph); without it,
   * protections are looked up datasource by datasource.
   */
  readonly protectedItems?: ProtectedItemPort;
  /** Stop, suspend, resume, change of policy, delete and undelete of backup instances. */
  readonly lifecycle?: ProtectionLifecyclePort;
  /** The vault identity's role on a restore's target storage, where the provider has roles. */
  readonly restoreAccess?: RestoreAccessPort;
  /** Loading a restore's files into a PostgreSQL server, where restores land as files (Azure). */
  readonly restoreToServer?: RestoreToServerPort;
  /** Scratch targets of restore drills, where the provider has them. */
  readonly drills?: DrillTargetPort;
  /** The vaults' security settings, for their posture (`GET /api/vaults`). */
  readonly vaultSettings?: VaultSettingsPort;
  /** What the service's limits need to know of a datasource, read before it is protected. */
  readonly limits?: ServiceLimitFactsPort;
}

/**
 * Reads what the service's limits (`domain/protection/serviceLimits.ts`) need: the server's
 * properties where the provider has a control plane (Resource Manager), the databases through
 * the connection protection checks.
 */
export interface ServiceLimitFactsPort {
  /**
   * Reads the facts; a fact that cannot be read is left out with the reason, never thrown.
   *
   * @param secretUri - a database's connection-string secret, already checked to exist.
   * @param scope - `serverOnly` reads what the server states of itself and no database (every
   * database of a server is then read one by one, as it is protected).
   */
  readFacts(
    datasource: ResolvedDatasource,
    secretUri?: string,
    scope?: "serverOnly",
  ): Promise<ServiceLimitFacts>;
}

/**
 * The provider's part of a restore drill: a scratch target to restore into and verify, and its
 * removal. Everything else of a drill (which recovery point, following the job, timing, the
 * history, the events) is the provider's common ports and the application's.
 */
export interface DrillTargetPort {
  /**
   * Starts restoring a recovery point into the scratch target `scratchName` (locally a database of
   * that name on the instance's server). The job ends `Completed` only when the restored data were
   * verified against what the backup recorded; it carries `restoreVerification`. A whole server
   * restored database by database answers one job per database, each into its own scratch
   * database (`databaseScratchName`); restored as files (Azure), one job whose files hold a dump per
   * database, each loaded by the drill into its own scratch database.
   */
  startScratchRestore(
    vaultId: string,
    backupInstanceName: string,
    recoveryPointId: string,
    scratchName: string,
  ): Promise<ScratchRestoreStarted>;
  /**
   * Removes scratch targets: the one named, or, without a name, every scratch target that is not
   * in `keep` (those of drills still running). Answers the names removed; removing one that is
   * gone already is not an error.
   */
  removeScratchTargets(request: {
    readonly scratchName?: string;
    readonly keep?: readonly string[];
  }): Promise<string[]>;
  /**
   * Where a drill's restore as files writes (Azure: the drill container and its storage account),
   * for the vault identity's role check before a restore starts; absent where a drill restores
   * into a database directly.
   */
  readonly filesTarget?: { readonly containerUrl: string; readonly storageScope?: string };
}

/** One database of a whole server restored by its own job into its own scratch database. */
export interface ScratchDatabaseRestore {
  readonly databaseName: string;
  readonly scratchTarget: string;
  readonly jobId: string;
}

/**
 * A drill's restore started. Where restores land as files (Azure), `load` says what to load into
 * the scratch database once the job completed: the drill's job then verifies nothing itself, the
 * load does (`RestoreToServerPort.loadRestoredFiles`, run by the drill under its own id).
 */
export type ScratchRestoreStarted =
  | (JobReference & {
      readonly load?: Omit<LoadRestoredFilesRequest, "loadId" | "sourceDatabaseName">;
      /**
       * The files hold one dump per database (a whole server's): each is loaded into its own
       * scratch database, and the drill verifies every one.
       */
      readonly wholeServer?: boolean;
    })
  /** A whole server restored database by database, each by its own job (locally). */
  | { readonly databases: readonly ScratchDatabaseRestore[] };

/**
 * pgprotect's record of restore drills, beside the job history (SQLite locally).
 *
 * @remarks `beginDrill` is the one place that decides whether a drill may run: at most one drill
 * of a backup instance runs at a time.
 */
export interface DrillHistoryPort {
  /**
   * Records a drill as running unless another drill of the same backup instance runs, or, with
   * `maxRunning`, that many drills run already (drills begun less than `abandonedDrillAfterMs`
   * ago count). The decision is atomic across processes and app instances: starters racing for
   * the last place admit exactly one. A drill begun already under the same id begins again.
   */
  beginDrill(
    drill: DrillRecord,
    options?: { readonly maxRunning?: number },
  ): Promise<
    | { readonly begun: true }
    | { readonly begun: false; readonly running: DrillRecord }
    | { readonly begun: false; readonly atCapacity: number }
  >;
  /** Records how a drill ended. */
  finishDrill(drill: DrillRecord): Promise<void>;
  /** One drill by id. */
  getDrill(id: string): Promise<DrillRecord | undefined>;
  /** One page of drills, newest first. */
  queryDrills(query: DrillQuery): Promise<DrillPage>;
  /** Drills recorded as running. */
  runningDrills(): Promise<DrillRecord[]>;
  /** The last drill of each backup instance (by ARM id, lower-cased), ended or running. */
  lastDrills(backupInstanceIds: readonly string[]): Promise<ReadonlyMap<string, DrillRecord>>;
  /**
   * Removes drills begun before the instant (`HISTORY_RETENTION_DAYS`, as the job history);
   * answers how many went.
   */
  prune(before: string): Promise<number>;
}

/**
 * What time it is, for the application and the providers: the one clock port, so that a test can
 * hold time still or move it, and nothing reads the wall clock behind its back. Orchestrations
 * never use it: their time is `context.df.currentUtcDateTime`.
 */
export type Clock = () => Date;

/** The wall clock: {@link Clock} in production. */
export const wallClock: Clock = () => new Date();

/** An alarm the job history raised, kept so that it is raised once and its end can be told. */
export interface AlarmRecord {
  /** The alarm's CloudEvent id (stable per fact). */
  readonly id: string;
  readonly kind: "stuck" | "anomaly";
  /** The job it is about (ARM id). */
  readonly jobId: string;
  /** When it was raised (ISO 8601). */
  readonly at: string;
  /** The event announcing it, published again as is if publishing was cut off. */
  readonly event: PgProtectEvent;
  /** Whether the event was published. */
  readonly published: boolean;
}

/** Earlier completed jobs of one backup instance and operation category. */
export interface CompletedJobsQuery {
  readonly backupInstanceId: string;
  readonly operationCategory: "Backup" | "Restore";
  /** Only jobs started before this instant (ISO 8601). */
  readonly startedBefore: string;
  /** At most this many, newest first. */
  readonly limit: number;
}

/**
 * pgprotect's own record of jobs and alarms, kept longer than the service keeps jobs (SQLite
 * locally, Table Storage in Azure).
 *
 * @remarks Writes are idempotent and safe with two writers: a job is one record that only a
 * state at least as far along replaces, and an alarm is recorded once under its event id.
 */
export interface JobHistoryPort {
  /** Records jobs in the state given (a state already recorded, or an earlier one, changes nothing). */
  recordJobs(jobs: readonly BackupJob[]): Promise<void>;
  /** One page of recorded jobs, newest first. */
  queryJobs(query: JobHistoryQuery): Promise<JobHistoryPage>;
  /** The jobs recorded as still running. */
  runningJobs(): Promise<BackupJob[]>;
  /** Earlier completed jobs of an instance, newest first. */
  completedJobs(query: CompletedJobsQuery): Promise<BackupJob[]>;
  /** Records an alarm unless one with its id is recorded; answers the alarm as recorded. */
  recordAlarm(alarm: AlarmRecord): Promise<AlarmRecord>;
  /** Notes that an alarm's event was published. */
  markAlarmPublished(id: string): Promise<void>;
  /** The alarms raised about a job, oldest first. */
  alarmsOfJob(jobId: string): Promise<AlarmRecord[]>;
  /** Removes jobs started and alarms raised before the instant; answers how many jobs went. */
  prune(before: string): Promise<number>;
}
