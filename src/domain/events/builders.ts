/**
 * Builders of pgprotect's CloudEvents from the domain's own types. They are pure: the caller
 * passes the source and, where the fact has no time of its own, the time.
 */
import { InvalidInputError } from "../errors.js";
import { lastSegment } from "../protection/ids.js";
import type { BackupInstance, BackupJob, ServiceErrorDetail } from "../protection/types.js";
import { stableUuid } from "./stableId.js";
import {
  dataSchemaOf,
  EVENT_SCHEMA_VERSION,
  lifecycleEventTypes,
  PgProtectEventTypes,
  type AnomalyMeasure,
  type BackupAnomalyEvent,
  type BackupOverdueEvent,
  type CloudEvent,
  type DatasourceTags,
  type JobStateChangedEvent,
  type JobStuckEvent,
  type PgProtectEvent,
  type PgProtectEventType,
  type ProtectionConfiguredEvent,
  type ProtectionFailedEvent,
  type ProtectionLifecycleEvent,
  type StuckMark,
} from "./types.js";

/** What every builder needs besides the fact itself. */
export interface EventOptions {
  /** The CloudEvents `source`: a URI-reference naming this deployment, e.g. `/pgprotect/prod`. */
  readonly source: string;
  /** Tags of the datasource, so routing rules can select on them (events from Azure carry none). */
  readonly datasourceTags?: DatasourceTags;
}

/**
 * `PgProtect.Backup.JobStateChanged` for a job in its current state.
 *
 * @remarks The id is derived from the job id and the status only, so the job watcher may publish
 * the same state again after a restart and consumers still see one event. `time` is the job's
 * end (or start) unless given. `stuck` marks the end of a job reported stuck.
 */
export function jobStateChangedEvent(
  job: BackupJob,
  options: EventOptions & { readonly time?: string; readonly stuck?: StuckMark },
): JobStateChangedEvent {
  const type = PgProtectEventTypes.jobStateChanged;
  return envelope(type, {
    id: stableUuid([type, job.id.toLowerCase(), job.status]),
    source: options.source,
    subject: job.id,
    time: options.time ?? job.endTime ?? job.startTime,
    data: {
      schemaVersion: EVENT_SCHEMA_VERSION,
      jobId: job.id,
      jobName: job.name,
      vaultName: job.vaultName,
      operation: job.operation,
      operationCategory: job.operationCategory,
      isUserTriggered: job.isUserTriggered,
      status: job.status,
      startTime: job.startTime,
      ...optional("endTime", job.endTime),
      ...optional("duration", job.duration),
      backupInstanceId: job.backupInstanceId,
      backupInstanceName: job.backupInstanceFriendlyName,
      datasourceId: job.dataSourceId,
      datasourceName: job.dataSourceName,
      datasourceType: job.dataSourceType,
      datasourceLocation: job.dataSourceLocation,
      ...optional("policyName", job.policyName),
      ...optional("ruleName", job.ruleName),
      ...optional("retentionTag", job.retentionTag),
      ...optional("recoveryPointId", job.recoveryPointId),
      ...optional("recoveryDestination", job.recoveryDestination),
      ...optional("dataTransferredInBytes", job.dataTransferredInBytes),
      errors: job.errorDetails ?? [],
      ...optional("datasourceTags", options.datasourceTags),
      ...optional("stuck", options.stuck),
    },
  });
}

/**
 * `PgProtect.Protection.Configured` for a backup instance that reached `ProtectionConfigured`.
 *
 * @remarks One event per datasource and backup instance: protecting the same datasource again
 * with a new instance (after stopping protection) is a new fact.
 */
export function protectionConfiguredEvent(
  instance: BackupInstance,
  options: EventOptions & { readonly time?: string },
): ProtectionConfiguredEvent {
  const type = PgProtectEventTypes.protectionConfigured;
  const datasource = instance.dataSourceInfo;
  return envelope(type, {
    id: stableUuid([type, datasource.resourceId.toLowerCase(), instance.id.toLowerCase()]),
    source: options.source,
    subject: datasource.resourceId,
    time: options.time ?? instance.createdAt,
    data: {
      schemaVersion: EVENT_SCHEMA_VERSION,
      datasourceId: datasource.resourceId,
      datasourceName: datasource.resourceName,
      datasourceType: datasource.datasourceType,
      backupInstanceId: instance.id,
      backupInstanceName: instance.friendlyName,
      vaultName: instance.vaultName,
      ...optional("policyName", lastSegment(instance.policyId)),
      protectionStatus: instance.protectionStatus,
      configuredAt: instance.createdAt,
      ...optional("datasourceTags", options.datasourceTags),
    },
  });
}

/** The facts of a failed protection operation. */
export interface ProtectionFailure {
  readonly datasourceId: string;
  /** Default: the last segment of the datasource id. */
  readonly datasourceName?: string;
  readonly datasourceType?: string;
  readonly vaultName: string;
  readonly policyName?: string;
  readonly backupInstance?: Pick<BackupInstance, "id" | "friendlyName">;
  readonly failedStep?: string;
  /** The protection operation (orchestration instance id); a new attempt is a new fact. */
  readonly operationId: string;
  readonly error: ServiceErrorDetail;
}

/**
 * `PgProtect.Protection.Failed`.
 *
 * @remarks The id is derived from the datasource, the operation and the error code: a replayed
 * orchestration publishes the same id, a new attempt that fails again does not.
 */
export function protectionFailedEvent(
  failure: ProtectionFailure,
  options: EventOptions & { readonly time: string },
): ProtectionFailedEvent {
  const type = PgProtectEventTypes.protectionFailed;
  return envelope(type, {
    id: stableUuid([
      type,
      failure.datasourceId.toLowerCase(),
      failure.operationId,
      failure.error.code,
    ]),
    source: options.source,
    subject: failure.datasourceId,
    time: options.time,
    data: {
      schemaVersion: EVENT_SCHEMA_VERSION,
      datasourceId: failure.datasourceId,
      datasourceName:
        failure.datasourceName ?? lastSegment(failure.datasourceId) ?? failure.datasourceId,
      ...optional("datasourceType", failure.datasourceType),
      vaultName: failure.vaultName,
      ...optional("policyName", failure.policyName),
      ...optional("backupInstanceId", failure.backupInstance?.id),
      ...optional("backupInstanceName", failure.backupInstance?.friendlyName),
      ...optional("failedStep", failure.failedStep),
      operationId: failure.operationId,
      error: failure.error,
      ...optional("datasourceTags", options.datasourceTags),
    },
  });
}

/** The facts of a datasource whose backups stopped arriving. */
export interface BackupOverdue {
  readonly instance: BackupInstance;
  readonly lastSuccessfulBackupTime?: string;
  /** ISO 8601 duration, e.g. `P1W`. */
  readonly expectedEvery: string;
  /** When the missed backup was due (RFC 3339). */
  readonly overdueSince: string;
}

/**
 * `PgProtect.Backup.Overdue`.
 *
 * @remarks The id is derived from the backup instance and `overdueSince`: every reconciliation
 * run that finds the same missed backup publishes the same id; the next missed period is a new
 * fact.
 */
export function backupOverdueEvent(
  overdue: BackupOverdue,
  options: EventOptions & { readonly time: string },
): BackupOverdueEvent {
  const type = PgProtectEventTypes.backupOverdue;
  const { instance } = overdue;
  return envelope(type, {
    id: stableUuid([type, instance.id.toLowerCase(), overdue.overdueSince]),
    source: options.source,
    subject: instance.dataSourceInfo.resourceId,
    time: options.time,
    data: {
      schemaVersion: EVENT_SCHEMA_VERSION,
      datasourceId: instance.dataSourceInfo.resourceId,
      datasourceName: instance.dataSourceInfo.resourceName,
      backupInstanceId: instance.id,
      backupInstanceName: instance.friendlyName,
      vaultName: instance.vaultName,
      ...optional("policyName", lastSegment(instance.policyId)),
      ...optional("lastSuccessfulBackupTime", overdue.lastSuccessfulBackupTime),
      expectedEvery: overdue.expectedEvery,
      overdueSince: overdue.overdueSince,
      ...optional("datasourceTags", options.datasourceTags),
    },
  });
}

/** How a running job was judged stuck. */
export interface JobStuck {
  readonly job: BackupJob;
  /** When it was found stuck (RFC 3339). */
  readonly detectedAt: string;
  readonly runningMinutes: number;
  readonly expectedWithinMinutes: number;
  readonly usualP95Minutes?: number;
  readonly earlierRuns: number;
  readonly basis: "history" | "floor" | "ceiling";
}

/**
 * `PgProtect.Job.Stuck`.
 *
 * @remarks The id is derived from the job alone: a job is reported stuck once, however many
 * passes find it still running.
 */
export function jobStuckEvent(stuck: JobStuck, options: EventOptions): JobStuckEvent {
  const type = PgProtectEventTypes.jobStuck;
  const { job } = stuck;
  return envelope(type, {
    id: stableUuid([type, job.id.toLowerCase()]),
    source: options.source,
    subject: job.id,
    time: stuck.detectedAt,
    data: {
      schemaVersion: EVENT_SCHEMA_VERSION,
      jobId: job.id,
      jobName: job.name,
      vaultName: job.vaultName,
      operation: job.operation,
      operationCategory: job.operationCategory,
      startTime: job.startTime,
      backupInstanceId: job.backupInstanceId,
      backupInstanceName: job.backupInstanceFriendlyName,
      datasourceId: job.dataSourceId,
      datasourceName: job.dataSourceName,
      datasourceType: job.dataSourceType,
      runningMinutes: stuck.runningMinutes,
      expectedWithinMinutes: stuck.expectedWithinMinutes,
      ...optional("usualP95Minutes", stuck.usualP95Minutes),
      earlierRuns: stuck.earlierRuns,
      basis: stuck.basis,
      ...optional("datasourceTags", options.datasourceTags),
    },
  });
}

/** A completed backup that departed from its instance's earlier backups. */
export interface BackupAnomaly {
  readonly job: BackupJob;
  readonly findings: readonly AnomalyMeasure[];
  readonly earlierBackups: number;
}

/**
 * `PgProtect.Backup.Anomaly`.
 *
 * @remarks The id is derived from the job alone: one backup raises at most one anomaly.
 */
export function backupAnomalyEvent(
  anomaly: BackupAnomaly,
  options: EventOptions & { readonly time?: string },
): BackupAnomalyEvent {
  const type = PgProtectEventTypes.backupAnomaly;
  const { job } = anomaly;
  return envelope(type, {
    id: stableUuid([type, job.id.toLowerCase()]),
    source: options.source,
    subject: job.id,
    time: options.time ?? job.endTime ?? job.startTime,
    data: {
      schemaVersion: EVENT_SCHEMA_VERSION,
      jobId: job.id,
      jobName: job.name,
      vaultName: job.vaultName,
      operation: job.operation,
      startTime: job.startTime,
      ...optional("endTime", job.endTime),
      backupInstanceId: job.backupInstanceId,
      backupInstanceName: job.backupInstanceFriendlyName,
      datasourceId: job.dataSourceId,
      datasourceName: job.dataSourceName,
      datasourceType: job.dataSourceType,
      ...optional("recoveryPointId", job.recoveryPointId),
      findings: anomaly.findings,
      earlierBackups: anomaly.earlierBackups,
      ...optional("datasourceTags", options.datasourceTags),
    },
  });
}

/** A pgprotect event in the shape `EventGridPublisherClient<"CloudEvent">.send` takes. */
export interface PublishableCloudEvent<TData> {
  readonly type: string;
  readonly source: string;
  readonly id: string;
  readonly time: Date;
  readonly subject: string;
  readonly dataschema: string;
  readonly datacontenttype: string;
  readonly data: TData;
}

/** The facts of a lifecycle action carried out. */
export interface ProtectionLifecycleFact {
  readonly action: keyof typeof lifecycleEventTypes;
  /** The instance after the action (before it, for a delete). */
  readonly instance: BackupInstance;
  /** The state the action left it in. */
  readonly state: string;
  /** `changePolicy`: the policy's id before. */
  readonly previousPolicyId?: string;
  /** The lifecycle operation; another operation doing the same again is a new fact. */
  readonly operationId: string;
  readonly requestedBy?: string;
}

/**
 * The lifecycle event of an action: `PgProtect.Protection.Stopped`, `.Suspended`, `.Resumed`,
 * `.PolicyChanged`, `.Deleted` or `.Undeleted`.
 *
 * @remarks The id derives from the type, the instance and the operation, so a replayed
 * orchestration publishes the same event and a later action is a new one.
 */
export function protectionLifecycleEvent(
  fact: ProtectionLifecycleFact,
  options: EventOptions & { readonly time: string },
): ProtectionLifecycleEvent {
  const type = lifecycleEventTypes[fact.action];
  const { instance } = fact;
  const datasource = instance.dataSourceInfo;
  return envelope(type, {
    id: stableUuid([type, instance.id.toLowerCase(), fact.operationId]),
    source: options.source,
    subject: datasource.resourceId,
    time: options.time,
    data: {
      schemaVersion: EVENT_SCHEMA_VERSION,
      action: fact.action,
      datasourceId: datasource.resourceId,
      datasourceName: datasource.resourceName,
      datasourceType: datasource.datasourceType,
      backupInstanceId: instance.id,
      backupInstanceName: instance.friendlyName,
      vaultName: instance.vaultName,
      ...optional("policyName", lastSegment(instance.policyId)),
      ...optional(
        "previousPolicyName",
        fact.previousPolicyId ? lastSegment(fact.previousPolicyId) : undefined,
      ),
      protectionState: fact.state,
      operationId: fact.operationId,
      ...optional("requestedBy", fact.requestedBy),
      ...optional("datasourceTags", options.datasourceTags),
    },
  });
}

/**
 * The event as the Event Grid SDK wants it: `time` as a `Date`, no `specversion` (the SDK
 * writes it). The SDK serializes it back to exactly the CloudEvent this module built.
 */
export function toPublishable<TEvent extends PgProtectEvent>(
  event: TEvent,
): PublishableCloudEvent<TEvent["data"]> {
  return {
    type: event.type,
    source: event.source,
    id: event.id,
    time: new Date(event.time),
    subject: event.subject,
    dataschema: event.dataschema,
    datacontenttype: event.datacontenttype,
    data: event.data,
  };
}

function envelope<TType extends PgProtectEventType, TData>(
  type: TType,
  parts: { id: string; source: string; subject: string; time: string; data: TData },
): CloudEvent<TType, TData> {
  if (parts.source.trim() === "") {
    throw new InvalidInputError("EVENT_SOURCE_MISSING", "An event needs a source", [
      {
        path: "source",
        code: "EVENT_SOURCE_MISSING",
        message: "give the deployment's event source, e.g. /pgprotect/prod",
      },
    ]);
  }
  if (Number.isNaN(Date.parse(parts.time))) {
    throw new InvalidInputError("EVENT_TIME_INVALID", `'${parts.time}' is not a time`, [
      { path: "time", code: "EVENT_TIME_INVALID", message: "expected an RFC 3339 date and time" },
    ]);
  }
  return {
    specversion: "1.0",
    id: parts.id,
    source: parts.source,
    type,
    subject: parts.subject,
    time: new Date(parts.time).toISOString(),
    datacontenttype: "application/json",
    dataschema: dataSchemaOf(type),
    data: parts.data,
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
