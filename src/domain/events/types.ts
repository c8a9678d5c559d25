/**
 * pgprotect's events as CloudEvents 1.0 (structured JSON), published to an Event Grid topic.
 *
 * @remarks Every event carries a versioned `data` payload: `data.schemaVersion` and the
 * `dataschema` attribute name the same version. Consumers must reject versions they do not know
 * rather than guess; new optional fields do not change the version, renamed or removed ones do.
 */
import type {
  JobOperation,
  JobStatus,
  ProtectionStatus,
  ServiceErrorDetail,
} from "../protection/types.js";

/** The CloudEvents `type` of every event pgprotect publishes. */
export const PgProtectEventTypes = {
  /** A datasource reached `ProtectionConfigured` in a vault. */
  protectionConfigured: "PgProtect.Protection.Configured",
  /** Protecting a datasource failed; the data carries the service's error and a recommended action. */
  protectionFailed: "PgProtect.Protection.Failed",
  /** A backup or restore job entered a state (published once per job and state). */
  jobStateChanged: "PgProtect.Backup.JobStateChanged",
  /** A protected datasource had no successful backup within the period its policy promises. */
  backupOverdue: "PgProtect.Backup.Overdue",
  /** Protection of a backup instance stopped; its recovery points are kept. */
  protectionStopped: "PgProtect.Protection.Stopped",
  /** A backup instance's schedule was suspended; retention runs on. */
  protectionSuspended: "PgProtect.Protection.Suspended",
  /** Backups of a suspended or stopped backup instance resumed. */
  protectionResumed: "PgProtect.Protection.Resumed",
  /** A backup instance moved to another policy. */
  protectionPolicyChanged: "PgProtect.Protection.PolicyChanged",
  /** A backup instance was deleted with its recovery points (soft-deleted where the vault keeps them). */
  protectionDeleted: "PgProtect.Protection.Deleted",
  /** A soft-deleted backup instance was brought back. */
  protectionUndeleted: "PgProtect.Protection.Undeleted",
  /** A job has run longer than its own history says it should (published once per job). */
  jobStuck: "PgProtect.Job.Stuck",
  /** A completed backup's size or duration departs from its instance's earlier backups. */
  backupAnomaly: "PgProtect.Backup.Anomaly",
  /** A restore drill restored and verified a backup instance's latest recovery point. */
  drillSucceeded: "PgProtect.Restore.DrillSucceeded",
  /** A restore drill could not restore or verify a backup instance's latest recovery point. */
  drillFailed: "PgProtect.Restore.DrillFailed",
  /** Azure Backup reported a failed job through an Azure Monitor alert. */
  alertJobFailed: "PgProtect.Alert.JobFailed",
  /** Azure Backup raised a security alert (backup data deleted, soft delete disabled, ...). */
  alertSecurity: "PgProtect.Alert.Security",
} as const;

/** One of {@link PgProtectEventTypes}. */
export type PgProtectEventType = (typeof PgProtectEventTypes)[keyof typeof PgProtectEventTypes];

/** Every event type, in a stable order. */
export const pgProtectEventTypes: readonly PgProtectEventType[] =
  Object.values(PgProtectEventTypes);

/** The version of every `data` payload defined here. */
export const EVENT_SCHEMA_VERSION = 1;

/** The `dataschema` URI of an event type's payload at {@link EVENT_SCHEMA_VERSION}. */
export function dataSchemaOf(
  type: PgProtectEventType,
  version: number = EVENT_SCHEMA_VERSION,
): string {
  return `urn:pgprotect:schema:${type}:v${version}`;
}

/** Tags of the datasource (server or database), when the publisher knew them; used for routing. */
export type DatasourceTags = Readonly<Record<string, string>>;

/** `data` of `PgProtect.Backup.JobStateChanged`. */
export interface JobStateChangedData {
  readonly schemaVersion: 1;
  /** ARM id of the job. */
  readonly jobId: string;
  /** The job GUID. */
  readonly jobName: string;
  readonly vaultName: string;
  readonly operation: JobOperation;
  readonly operationCategory: "Backup" | "Restore";
  readonly isUserTriggered: boolean;
  readonly status: JobStatus;
  readonly startTime: string;
  readonly endTime?: string;
  /** ISO 8601 duration, once the job ended. */
  readonly duration?: string;
  readonly backupInstanceId: string;
  /** The backup instance's friendly name. */
  readonly backupInstanceName: string;
  readonly datasourceId: string;
  readonly datasourceName: string;
  readonly datasourceType: string;
  readonly datasourceLocation: string;
  readonly policyName?: string;
  /** The backup rule that ran (backup jobs). */
  readonly ruleName?: string;
  readonly retentionTag?: string;
  readonly recoveryPointId?: string;
  readonly recoveryDestination?: string;
  readonly dataTransferredInBytes?: number;
  /** The service's errors; empty unless the job failed or was cancelled. */
  readonly errors: readonly ServiceErrorDetail[];
  readonly datasourceTags?: DatasourceTags;
  /** Set on the end of a job that was reported stuck (`PgProtect.Job.Stuck`). */
  readonly stuck?: StuckMark;
}

/** `data` of `PgProtect.Protection.Configured`. */
export interface ProtectionConfiguredData {
  readonly schemaVersion: 1;
  readonly datasourceId: string;
  readonly datasourceName: string;
  readonly datasourceType: string;
  readonly backupInstanceId: string;
  readonly backupInstanceName: string;
  readonly vaultName: string;
  readonly policyName?: string;
  readonly protectionStatus: ProtectionStatus;
  readonly configuredAt: string;
  readonly datasourceTags?: DatasourceTags;
}

/** `data` of `PgProtect.Protection.Failed`. */
export interface ProtectionFailedData {
  readonly schemaVersion: 1;
  readonly datasourceId: string;
  readonly datasourceName: string;
  readonly datasourceType?: string;
  readonly vaultName: string;
  readonly policyName?: string;
  /** Set when the failure came after the backup instance was created. */
  readonly backupInstanceId?: string;
  readonly backupInstanceName?: string;
  /** The onboarding step that failed, e.g. `validateForBackup`. */
  readonly failedStep?: string;
  /** The protection operation (orchestration instance) that failed. */
  readonly operationId: string;
  readonly error: ServiceErrorDetail;
  readonly datasourceTags?: DatasourceTags;
}

/** `data` of `PgProtect.Backup.Overdue`. */
export interface BackupOverdueData {
  readonly schemaVersion: 1;
  readonly datasourceId: string;
  readonly datasourceName: string;
  readonly backupInstanceId: string;
  readonly backupInstanceName: string;
  readonly vaultName: string;
  readonly policyName?: string;
  /** When the last successful backup ended; absent when there never was one. */
  readonly lastSuccessfulBackupTime?: string;
  /** How often the policy promises a backup (ISO 8601 duration, e.g. `P1W`). */
  readonly expectedEvery: string;
  /** The moment the next backup was due and did not happen. */
  readonly overdueSince: string;
  readonly datasourceTags?: DatasourceTags;
}

/** How a job that was reported stuck was judged, told again when it ends. */
export interface StuckMark {
  /** When the job was reported stuck. */
  readonly reportedAt: string;
  /** How long it was expected to run at most (minutes). */
  readonly expectedWithinMinutes: number;
}

/** `data` of `PgProtect.Job.Stuck`. */
export interface JobStuckData {
  readonly schemaVersion: 1;
  readonly jobId: string;
  readonly jobName: string;
  readonly vaultName: string;
  readonly operation: JobOperation;
  readonly operationCategory: "Backup" | "Restore";
  readonly startTime: string;
  readonly backupInstanceId: string;
  readonly backupInstanceName: string;
  readonly datasourceId: string;
  readonly datasourceName: string;
  readonly datasourceType: string;
  /** How long it had run when it was found stuck (minutes). */
  readonly runningMinutes: number;
  /** How long it was expected to run at most (minutes). */
  readonly expectedWithinMinutes: number;
  /** The 95th percentile of the earlier runs (minutes), when there were any. */
  readonly usualP95Minutes?: number;
  /** How many earlier runs of the instance and operation the expectation came from. */
  readonly earlierRuns: number;
  /** `history`, or the configured bound (`floor`, `ceiling`) that set the expectation. */
  readonly basis: "history" | "floor" | "ceiling";
  readonly datasourceTags?: DatasourceTags;
}

/** One measure of a backup beside its instance's usual value. */
export interface AnomalyMeasure {
  readonly measure: "size" | "duration";
  /** This backup's value: bytes for size, seconds for duration. */
  readonly observed: number;
  /** The median of the instance's earlier completed backups, in the same unit. */
  readonly usual: number;
  /** `observed / usual`. */
  readonly ratio: number;
  /** The configured ratio it crossed. */
  readonly limit: number;
}

/** `data` of `PgProtect.Backup.Anomaly`. */
export interface BackupAnomalyData {
  readonly schemaVersion: 1;
  readonly jobId: string;
  readonly jobName: string;
  readonly vaultName: string;
  readonly operation: JobOperation;
  readonly startTime: string;
  readonly endTime?: string;
  readonly backupInstanceId: string;
  readonly backupInstanceName: string;
  readonly datasourceId: string;
  readonly datasourceName: string;
  readonly datasourceType: string;
  readonly recoveryPointId?: string;
  /** Each measure that departed, with the numbers side by side. */
  readonly findings: readonly AnomalyMeasure[];
  /** How many earlier completed backups the usual values came from. */
  readonly earlierBackups: number;
  readonly datasourceTags?: DatasourceTags;
}

/** `data` of `PgProtect.Restore.DrillSucceeded` and `PgProtect.Restore.DrillFailed`. */
export interface RestoreDrillData {
  readonly schemaVersion: 1;
  /** The drill (its orchestration instance id). */
  readonly drillId: string;
  readonly verdict: "Succeeded" | "Failed";
  readonly backupInstanceId: string;
  /** The backup instance's friendly name. */
  readonly backupInstanceName: string;
  readonly vaultName: string;
  readonly datasourceId: string;
  readonly datasourceName: string;
  /** The drill schedule that ran it; absent for a drill started on demand. */
  readonly schedule?: string;
  readonly requestedBy?: string;
  readonly recoveryPointId?: string;
  readonly recoveryPointTime?: string;
  readonly startTime: string;
  readonly endTime: string;
  /** From the restore's start until its data were verified (seconds). */
  readonly timeToRestoreSeconds?: number;
  readonly restoreJobId?: string;
  /** What the verification compared and found. */
  readonly verification?: {
    readonly verified: boolean;
    readonly tables: number;
    readonly rows: number;
    readonly largeObjects: number;
    readonly mismatches: readonly string[];
  };
  /** Why a failed drill failed. */
  readonly error?: ServiceErrorDetail;
  /** Whether the scratch target was removed. */
  readonly scratchRemoved: boolean;
  readonly datasourceTags?: DatasourceTags;
}

/** A CloudEvent 1.0 in structured JSON form. */
export interface CloudEvent<TType extends string, TData> {
  readonly specversion: "1.0";
  /** Stable per fact: re-publishing the same fact gives the same id (see `stableUuid`). */
  readonly id: string;
  /** URI-reference of the publishing pgprotect deployment, e.g. `/pgprotect/contoso-prod`. */
  readonly source: string;
  readonly type: TType;
  /** The job id for job events; the datasource id for the others. */
  readonly subject: string;
  /** When the fact happened (RFC 3339). */
  readonly time: string;
  readonly datacontenttype: "application/json";
  readonly dataschema: string;
  readonly data: TData;
}

/** `PgProtect.Backup.JobStateChanged`. */
export type JobStateChangedEvent = CloudEvent<
  typeof PgProtectEventTypes.jobStateChanged,
  JobStateChangedData
>;
/** `PgProtect.Protection.Configured`. */
export type ProtectionConfiguredEvent = CloudEvent<
  typeof PgProtectEventTypes.protectionConfigured,
  ProtectionConfiguredData
>;
/** `PgProtect.Protection.Failed`. */
export type ProtectionFailedEvent = CloudEvent<
  typeof PgProtectEventTypes.protectionFailed,
  ProtectionFailedData
>;
/** `PgProtect.Backup.Overdue`. */
export type BackupOverdueEvent = CloudEvent<
  typeof PgProtectEventTypes.backupOverdue,
  BackupOverdueData
>;

/** `PgProtect.Job.Stuck`. */
export type JobStuckEvent = CloudEvent<typeof PgProtectEventTypes.jobStuck, JobStuckData>;
/** `PgProtect.Backup.Anomaly`. */
export type BackupAnomalyEvent = CloudEvent<
  typeof PgProtectEventTypes.backupAnomaly,
  BackupAnomalyData
>;

/** `PgProtect.Restore.DrillSucceeded` or `PgProtect.Restore.DrillFailed`. */
export type RestoreDrillEvent = CloudEvent<
  typeof PgProtectEventTypes.drillSucceeded | typeof PgProtectEventTypes.drillFailed,
  RestoreDrillData
>;

/** `data` of `PgProtect.Alert.JobFailed` and `PgProtect.Alert.Security`. */
export interface MonitorAlertData {
  readonly schemaVersion: 1;
  /** The alert instance's ARM id in Azure Monitor. */
  readonly alertId: string;
  /** The alert's name, e.g. `Backup Failure`, `Soft Delete Disabled for Vault`. */
  readonly alertRule: string;
  /** `Sev0` (security) to `Sev4`. */
  readonly severity?: string;
  /** `Fired`, or `Resolved` when the condition cleared. */
  readonly monitorCondition: "Fired" | "Resolved";
  readonly firedAt?: string;
  readonly resolvedAt?: string;
  readonly vaultName: string;
  readonly vaultId: string;
  /** The affected datasource; the vault's id for alerts on the vault itself. */
  readonly datasourceId: string;
  readonly datasourceName: string;
  readonly datasourceType?: string;
  /** `PgProtect.Alert.JobFailed`: the job's ARM id and GUID, when the alert names it. */
  readonly jobId?: string;
  readonly jobName?: string;
  /** `PgProtect.Alert.JobFailed`: a backup or a restore. */
  readonly operationCategory?: "Backup" | "Restore";
  readonly description?: string;
  readonly recommendedActions: readonly string[];
  /** Azure Monitor's page of the alert. */
  readonly investigationLink?: string;
  readonly datasourceTags?: DatasourceTags;
}

/** The event types of Azure Monitor alerts. */
export type MonitorAlertEventType =
  typeof PgProtectEventTypes.alertJobFailed | typeof PgProtectEventTypes.alertSecurity;

/** `PgProtect.Alert.JobFailed` or `PgProtect.Alert.Security`. */
export type MonitorAlertEvent = CloudEvent<MonitorAlertEventType, MonitorAlertData>;

/** The lifecycle event types, by the action that causes each. */
export const lifecycleEventTypes = {
  stop: PgProtectEventTypes.protectionStopped,
  suspend: PgProtectEventTypes.protectionSuspended,
  resume: PgProtectEventTypes.protectionResumed,
  changePolicy: PgProtectEventTypes.protectionPolicyChanged,
  delete: PgProtectEventTypes.protectionDeleted,
  undelete: PgProtectEventTypes.protectionUndeleted,
} as const;

/** A lifecycle event type. */
export type LifecycleEventType = (typeof lifecycleEventTypes)[keyof typeof lifecycleEventTypes];

/**
 * `data` of the lifecycle events (`PgProtect.Protection.Stopped`, `.Suspended`, `.Resumed`,
 * `.PolicyChanged`, `.Deleted`, `.Undeleted`).
 */
export interface ProtectionLifecycleData {
  readonly schemaVersion: 1;
  /** The action: `stop`, `suspend`, `resume`, `changePolicy`, `delete` or `undelete`. */
  readonly action: string;
  readonly datasourceId: string;
  readonly datasourceName: string;
  readonly datasourceType: string;
  readonly backupInstanceId: string;
  readonly backupInstanceName: string;
  readonly vaultName: string;
  /** The policy after the action. */
  readonly policyName?: string;
  /** `changePolicy`: the policy before. */
  readonly previousPolicyName?: string;
  /** The state the action left the instance in (`ProtectionStopped`, `SoftDeleted`, ...). */
  readonly protectionState: string;
  /** The lifecycle operation (orchestration instance) that carried it out. */
  readonly operationId: string;
  /** Who asked, where the app knows. */
  readonly requestedBy?: string;
  readonly datasourceTags?: DatasourceTags;
}

/** A lifecycle event. */
export type ProtectionLifecycleEvent = CloudEvent<LifecycleEventType, ProtectionLifecycleData>;

/** Any event pgprotect publishes. */
export type PgProtectEvent =
  | ProtectionLifecycleEvent
  | JobStateChangedEvent
  | ProtectionConfiguredEvent
  | ProtectionFailedEvent
  | BackupOverdueEvent
  | JobStuckEvent
  | BackupAnomalyEvent
  | RestoreDrillEvent
  | MonitorAlertEvent;
