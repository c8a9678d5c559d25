/**
 * What a Backup vault holds, as pgprotect sees it: backup instances, jobs and recovery points.
 * Field names and enum values follow the Data Protection service (`BackupInstance`,
 * `AzureBackupJob`, `AzureBackupDiscreteRecoveryPoint`) so that both providers can fill them
 * without translation tables; envelopes (`properties`, `systemData`) are flattened away.
 */
import type { ErrorCode } from "../errorCodes.js";
import type { PostgresDatasourceType } from "./naming.js";

/** `protectionStatus.status` of a backup instance (open: the service may add values). */
export type ProtectionStatus =
  | "ConfiguringProtection"
  | "ConfiguringProtectionFailed"
  | "ProtectionConfigured"
  | "ProtectionStopped"
  | "SoftDeleted"
  | "SoftDeleting"
  | "NotProtected";

/** Where a recovery point is stored. */
export type RecoveryPointStoreType = "VaultStore" | "ArchiveStore";

/** A failure as the service reports it in job `errorDetails[]` and `protectionStatus.errorDetails`. */
export interface ServiceErrorDetail {
  /**
   * pgprotect's code of the catalogue, from either provider (Azure's answer is read through the
   * catalogue's mapping), so that job events read alike.
   */
  readonly code: ErrorCode;
  /** The service's own code, e.g. `UserErrorDppDatasourceAlreadyProtected`, where there is one. */
  readonly serviceCode?: string;
  readonly message: string;
  readonly recommendedAction?: readonly string[];
  readonly isRetryable?: boolean;
  readonly isUserError?: boolean;
}

/** The resource a backup instance protects (`Datasource` / `DatasourceSet`). */
export interface DatasourceInfo {
  /** ARM id of the database or server. */
  readonly resourceId: string;
  readonly datasourceType: PostgresDatasourceType;
  readonly resourceName: string;
  /** ARM resource type, e.g. `Microsoft.DBforPostgreSQL/servers/databases`. */
  readonly resourceType: string;
  readonly resourceLocation: string;
}

/** How the vault authenticates to the datasource: a secret holding a connection string. */
export interface SecretStoreCredentials {
  readonly secretStoreType: "AzureKeyVault";
  /** Key Vault style secret URI, e.g. `https://kv.vault.azure.net/secrets/ossdbkey`. */
  readonly uri: string;
}

/** What a caller asks for when protecting a datasource. */
export interface BackupInstanceSpec {
  readonly friendlyName: string;
  readonly dataSourceInfo: DatasourceInfo;
  /** The server, for a per-database instance. */
  readonly dataSourceSetInfo?: DatasourceInfo;
  /** ARM id of the vault's policy. */
  readonly policyId: string;
  /** Required for database datasources; Flexible Servers use the vault's identity. */
  readonly secretStore?: SecretStoreCredentials;
}

/** A backup instance: a datasource protected in a vault under a policy. */
export interface BackupInstance extends BackupInstanceSpec {
  /** ARM id `.../backupVaults/{v}/backupInstances/{name}`. */
  readonly id: string;
  /** `<server>-<db>-<uuid>` (see `backupInstanceNameFor`). */
  readonly name: string;
  readonly vaultName: string;
  readonly protectionStatus: ProtectionStatus;
  /**
   * The service's finer state (`currentProtectionState`): tells a suspended schedule
   * (`BackupSchedulesSuspended`) from stopped protection; absent where the service does not say.
   */
  readonly currentProtectionState?: string;
  readonly protectionErrorDetails?: ServiceErrorDetail;
  /** `Succeeded`, `Provisioning` or `Failed`. */
  readonly provisioningState: string;
  /** When protection was configured (ISO 8601). */
  readonly createdAt: string;
}

/** Job states the service reports; `Cancelled` is final like `Completed` and `Failed`. */
export type JobStatus = "InProgress" | "Completed" | "Failed" | "Cancelled";

/** Terminal job states. */
export const terminalJobStatuses: readonly JobStatus[] = ["Completed", "Failed", "Cancelled"];

/** Whether a job state is final. */
export function isTerminalJobStatus(status: JobStatus): boolean {
  return terminalJobStatuses.includes(status);
}

/** The kind of job, in the vocabulary of Resource Graph job queries and `az dataprotection job list`. */
export type JobOperation = "OnDemandBackup" | "ScheduledBackup" | "Restore";

/** A backup or restore job (`AzureBackupJob`, flattened). */
export interface BackupJob {
  /** ARM id `.../backupVaults/{v}/backupJobs/{guid}`. */
  readonly id: string;
  /** The job GUID. */
  readonly name: string;
  readonly vaultName: string;
  readonly operation: JobOperation;
  /** `Backup` or `Restore`. */
  readonly operationCategory: "Backup" | "Restore";
  /** True for on-demand work, false for the policy's schedule. */
  readonly isUserTriggered: boolean;
  readonly status: JobStatus;
  readonly startTime: string;
  readonly endTime?: string;
  /** ISO 8601 duration, once the job ended. */
  readonly duration?: string;
  readonly backupInstanceId: string;
  readonly backupInstanceFriendlyName: string;
  readonly dataSourceId: string;
  readonly dataSourceName: string;
  readonly dataSourceType: string;
  readonly dataSourceLocation: string;
  readonly policyId?: string;
  readonly policyName?: string;
  /** Backup jobs: the backup rule that ran. */
  readonly ruleName?: string;
  /** Backup jobs: the retention tag the recovery point got. */
  readonly retentionTag?: string;
  /** Backup jobs: the recovery point made; restore jobs: the one restored. */
  readonly recoveryPointId?: string;
  /** Restore jobs: where the data went (database id or folder). */
  readonly recoveryDestination?: string;
  readonly dataTransferredInBytes?: number;
  /** Restore jobs into a database: how the restored data compared with the recovery point. */
  readonly restoreVerification?: RestoreVerificationSummary;
  /** Set when `status` is `Failed` or `Cancelled`. */
  readonly errorDetails?: readonly ServiceErrorDetail[];
  /**
   * Local provider: the attempt running (or that ran last), from 1; a job cut off by a stop or a
   * crash of the host runs again as a new attempt when the host is back.
   */
  readonly attempt?: number;
  /** Local provider: the earlier attempts and why each was cut off, oldest first. */
  readonly interruptedAttempts?: readonly InterruptedAttempt[];
}

/** An attempt of a job that a stop or a crash of the host cut off. */
export interface InterruptedAttempt {
  readonly attempt: number;
  readonly startTime: string;
  /** When the interruption was noticed (the stop, or the recovery after a crash). */
  readonly interruptedAt: string;
  /** A sentence: what cut the attempt off and what was cleaned up. */
  readonly reason: string;
}

/** The outcome of comparing a restored database with its recovery point, table by table. */
export interface RestoreVerificationSummary {
  readonly verified: boolean;
  readonly tables: number;
  readonly rows: number;
  readonly largeObjects: number;
  /** One sentence per difference; empty when verified. */
  readonly mismatches: readonly string[];
  /** What was compared, one phrase each; `verified` speaks for these and nothing else. */
  readonly checked?: readonly string[];
  /** What could not be compared, and why (e.g. a recovery point made before structure was recorded). */
  readonly notChecked?: readonly string[];
  /** What the restore does not carry over (ownership, privileges), naming what the backup had. */
  readonly notRestored?: readonly string[];
}

/** Where one copy of a recovery point lives (`RecoveryPointDataStoreDetails`). */
export interface RecoveryPointDataStore {
  readonly type: RecoveryPointStoreType;
  readonly creationTime: string;
}

/** One file of a recovery point: a `pg_dump -Fc` archive of one database. */
export interface RecoveryPointFile {
  readonly databaseName: string;
  readonly fileName: string;
  readonly sizeBytes: number;
  /**
   * Hex SHA-256 of the file's bytes; for a directory-format dump, of its file list (one
   * `<sha256>  <size>  <name>` line per part, in name order).
   */
  readonly sha256: string;
  /**
   * `custom`: one `pg_dump -Fc` file (also when absent, in recovery points of earlier versions);
   * `directory`: a folder of `pg_dump -Fd` files, listed in `parts`.
   */
  readonly format?: "custom" | "directory";
  /** The files of a directory-format dump, inside its folder, each with its size and digest. */
  readonly parts?: readonly RecoveryPointFilePart[];
  /**
   * The database's structure in the snapshot the dump was taken in; absent in recovery points of
   * earlier versions (their restores are verified without comparing structure).
   */
  readonly structure?: RecordedStructure;
}

/** One file of a directory-format dump (`pg_dump -Fd`), inside the dump's folder. */
export interface RecoveryPointFilePart {
  readonly fileName: string;
  readonly sizeBytes: number;
  /** Hex SHA-256 of the file's bytes, computed while `pg_dump` wrote it. */
  readonly sha256: string;
}

/**
 * A database's structure as its catalogue described it: one canonical description per object,
 * keyed `<kind> <qualified name>` and sorted, so that a restored database can be compared with it.
 */
export interface RecordedStructure {
  /** Version of the description; a database is compared only with a description of its version. */
  readonly format: number;
  /** E.g. `index public.orders_pkey` -> `CREATE UNIQUE INDEX ...`; long definitions as digests. */
  readonly objects: Readonly<Record<string, string>>;
  /** Roles that owned the database's objects (a restore does not carry ownership over). */
  readonly owners: readonly string[];
  /** Roles that held granted privileges on them (a restore does not carry grants over). */
  readonly grantees: readonly string[];
}

/** A discrete recovery point (`AzureBackupDiscreteRecoveryPoint`, plus what a local vault knows). */
export interface RecoveryPoint {
  /** ARM id `.../backupInstances/{bi}/recoveryPoints/{recoveryPointId}`. */
  readonly id: string;
  readonly recoveryPointId: string;
  readonly backupInstanceName: string;
  /** The moment the data reflects: the backup's start. */
  readonly recoveryPointTime: string;
  readonly recoveryPointType: "Full";
  readonly policyName: string;
  /** The backup rule that made it, e.g. `BackupWeekly`. */
  readonly ruleName: string;
  /** The retention tag it carries, e.g. `Default` or `Monthly`. */
  readonly retentionTagName: string;
  readonly startTime: string;
  readonly endTime: string;
  readonly sizeBytes: number;
  readonly files: readonly RecoveryPointFile[];
  /** `server_version` of the source, e.g. `15.8`. */
  readonly serverVersion: string;
  readonly dataStores: readonly RecoveryPointDataStore[];
  /** The job that made it. */
  readonly jobId: string;
}
