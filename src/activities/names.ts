/**
 * Activity names and the shapes that cross the activity boundary. Orchestrations import only
 * this file from `activities/`: names and plain data, no code that does I/O.
 *
 * @remarks Errors lose their class when they cross the boundary, so activities return expected
 * failures as {@link ActivityFailure} values with a stable `code`, and throw only transient
 * failures, which the orchestrations' retry policies retry.
 */
import type { ErrorCode } from "../domain/errorCodes.js";
import type { DatasourceRef, ResolvedDatasource } from "../domain/protection/datasource.js";
import type { LifecycleAction } from "../domain/protection/lifecycle.js";
import type { StuckMark } from "../domain/events/types.js";
import type { BackupInstance, BackupJob } from "../domain/protection/types.js";
import type { RequestCorrelation } from "../observability/eventLogger.js";

/** Every activity, by the name it is registered under. */
export const activityNames = {
  resolveDatasource: "resolveDatasource",
  findProtection: "findProtection",
  verifyAccess: "verifyAccess",
  ensurePolicy: "ensurePolicy",
  validateForBackup: "validateForBackup",
  createBackupInstance: "createBackupInstance",
  getBackupInstance: "getBackupInstance",
  listServerDatabases: "listServerDatabases",
  checkDatabaseLimits: "checkDatabaseLimits",
  checkWeeklyLimit: "checkWeeklyLimit",
  triggerBackup: "triggerBackup",
  getJob: "getJob",
  publishEvents: "publishEvents",
  listJobsSince: "listJobsSince",
  applyLifecycleAction: "applyLifecycleAction",
  readLifecycleState: "readLifecycleState",
  recordJobHistory: "recordJobHistory",
  beginDrill: "beginDrill",
  sweepDrillScratch: "sweepDrillScratch",
  startDrillRestore: "startDrillRestore",
  planDrillLoads: "planDrillLoads",
  removeDrillScratch: "removeDrillScratch",
  finishDrill: "finishDrill",
  loadRestoredFiles: "loadRestoredFiles",
} as const;

/**
 * Every activity's signature, by name. `createActivities.ts` fills it in (a declaration merged
 * into this one): the signatures are read from the activities themselves, so a call and its
 * activity cannot drift apart, yet this module imports nothing of the activities and no code of
 * theirs reaches an orchestration.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- merged in createActivities.ts
export interface ActivitySignatures {}

/** The name of an activity. */
export type ActivityName = keyof ActivitySignatures;

/** What an activity takes, read from its own signature. */
export type ActivityInput<N extends ActivityName> = Parameters<ActivitySignatures[N]>[0];

/** What an activity answers once settled, read from its own signature. */
export type ActivityOutput<N extends ActivityName> = Awaited<ReturnType<ActivitySignatures[N]>>;

/** Marks an activity input sent with the correlation of the request that started the operation. */
export const correlatedInputMarker = "pgprotect.correlatedInput";

/**
 * An activity's input with the starting request's correlation beside it, so that the activity's
 * logs name the request (activities get only their input from the orchestration).
 */
export interface CorrelatedActivityInput {
  readonly [correlatedInputMarker]: 1;
  readonly input: unknown;
  readonly correlation: RequestCorrelation;
}

/** Wraps an activity's input with the starting request's correlation. */
export function correlatedInput(
  input: unknown,
  correlation: RequestCorrelation,
): CorrelatedActivityInput {
  return { [correlatedInputMarker]: 1, input, correlation };
}

/** The activity's own input and, when it was sent wrapped, the starting request's correlation. */
export function openActivityInput(sent: unknown): {
  input: unknown;
  correlation?: RequestCorrelation;
} {
  if (typeof sent !== "object" || sent === null || !(correlatedInputMarker in sent)) {
    return { input: sent };
  }
  const { input, correlation } = sent as Partial<CorrelatedActivityInput>;
  const { invocationId, traceparent } = correlation ?? {};
  return {
    input,
    correlation: {
      ...(typeof invocationId === "string" ? { invocationId } : {}),
      ...(typeof traceparent === "string" ? { traceparent } : {}),
    },
  };
}

/** An expected failure, returned rather than thrown. */
export interface ActivityFailure {
  readonly ok: false;
  /** The catalogue's code, e.g. `MISSING_REQUIRED_PERMISSIONS`. */
  readonly code: ErrorCode;
  /** The service's own code where the failure came from it, e.g. `UserErrorMissingRequiredPermissions`. */
  readonly serviceCode?: string;
  readonly message: string;
  readonly recommendedAction?: string;
}

/** A success carrying a value. */
export interface ActivitySuccess<T> {
  readonly ok: true;
  readonly value: T;
}

/** What an activity with expected failures returns. */
export type ActivityResult<T> = ActivitySuccess<T> | ActivityFailure;

export type { DatasourceRef, ResolvedDatasource };

/** A backup instance as the orchestrations follow it. */
export interface ProtectionSummary {
  readonly backupInstanceName: string;
  readonly backupInstanceId: string;
  readonly vaultId: string;
  readonly protectionStatus: string;
  readonly policyId: string;
  /** The service's protection error: the catalogue's code, and the service's own beside it. */
  readonly error?: {
    readonly code: ErrorCode;
    readonly serviceCode?: string;
    readonly message: string;
    readonly recommendedAction?: string;
  };
  /**
   * The instance as the provider answered it, so that the Configured event is built from it
   * rather than from a second read (in Azure, each read spends Resource Manager's read bucket).
   */
  readonly instance?: BackupInstance;
}

/** Input of `verifyAccess`, `validateForBackup` and `createBackupInstance`. */
export interface ProtectionRequest {
  readonly vaultId: string;
  readonly policyName: string;
  readonly datasource: ResolvedDatasource;
  /** Key Vault style URI of the secret with the connection string (database datasources). */
  readonly secretUri?: string;
}

/** Input of `createBackupInstance`: the request and a name minted by the orchestration. */
export interface CreateBackupInstanceInput extends ProtectionRequest {
  readonly backupInstanceName: string;
}

/** Input of `getBackupInstance`. */
export interface BackupInstanceKey {
  readonly vaultId: string;
  readonly backupInstanceName: string;
}

/** Input of `ensurePolicy`. */
export interface EnsurePolicyInput {
  readonly vaultId: string;
  readonly policyName: string;
  readonly datasourceType: string;
}

/** Input of `listServerDatabases`. */
export interface ServerRefInput {
  readonly serverName: string;
}

/** Input of `checkDatabaseLimits`: databases of one server, reached with its one secret. */
export interface DatabaseLimitsInput {
  readonly databases: readonly ResolvedDatasource[];
  readonly secretUri?: string;
}

/** Input of `triggerBackup`. */
export interface TriggerBackupInput extends BackupInstanceKey {
  readonly ruleName: string;
  readonly retentionTagOverride?: string;
}

/** Input of `checkWeeklyLimit`: whether one more backup may run now. */
export interface WeeklyLimitInput extends BackupInstanceKey {
  /** The orchestration's current time (ISO 8601), so the check is replay-safe. */
  readonly at: string;
}

/** Input of `getJob`. */
export interface JobKey {
  readonly vaultId: string;
  readonly jobId: string;
}

/** A fact to announce; the `publishEvents` activity builds the CloudEvent with a stable id. */
export type EventRequest =
  | {
      readonly kind: "protectionConfigured";
      readonly vaultId: string;
      readonly backupInstanceName: string;
      /** The instance as last read; without it the activity reads it. */
      readonly instance?: BackupInstance;
      readonly datasourceTags?: Readonly<Record<string, string>>;
      /**
       * When the orchestration saw it configured: the event's time when the service gives the
       * instance no creation time (`systemData` is optional in its API).
       */
      readonly time?: string;
    }
  | {
      readonly kind: "protectionFailed";
      readonly datasourceId: string;
      readonly vaultId: string;
      readonly policyName?: string;
      readonly failedStep?: string;
      /** The backup instance the protection created before it failed. */
      readonly backupInstance?: { readonly id: string; readonly friendlyName: string };
      /** The orchestration instance: a new attempt that fails again is a new fact. */
      readonly operationId: string;
      readonly error: {
        readonly code: ErrorCode;
        readonly serviceCode?: string;
        readonly message: string;
        readonly recommendedAction?: string;
      };
      /** When it failed (the orchestration's time). */
      readonly time: string;
      readonly datasourceTags?: Readonly<Record<string, string>>;
    }
  | {
      readonly kind: "protectionLifecycle";
      readonly action: LifecycleAction;
      readonly vaultId: string;
      readonly backupInstanceName: string;
      /** The instance after the action (before it, for a delete); without it the activity reads it. */
      readonly instance?: BackupInstance;
      /** `changePolicy`: the policy before. */
      readonly previousPolicyId?: string;
      /** The state the action left the instance in. */
      readonly state: string;
      /** The lifecycle operation: another operation doing the same again is a new fact. */
      readonly operationId: string;
      readonly requestedBy?: string;
      /** When the orchestration saw the action done. */
      readonly time: string;
      readonly datasourceTags?: Readonly<Record<string, string>>;
    }
  | {
      readonly kind: "jobStateChanged";
      /** The job as read, so the event reports the state the orchestration saw. */
      readonly job: BackupJob;
      readonly datasourceTags?: Readonly<Record<string, string>>;
      /** Set on the end of a job that was reported stuck. */
      readonly stuck?: StuckMark;
      /**
       * The job watcher recorded the job in the job history already. Otherwise (the ad-hoc backup
       * follow-up) publishing records it, and finds whether its end is that of a stuck job.
       */
      readonly recorded?: boolean;
    };

/** Input of `listJobsSince`: jobs of these vaults started or ended at or after `since`. */
export interface ListJobsSinceInput {
  readonly vaultIds: readonly string[];
  /** ISO 8601 instant. */
  readonly since: string;
}

/** A job as the job watcher sees it, with its datasource's tags for routing rules. */
export interface WatchedJob {
  readonly job: BackupJob;
  readonly datasourceTags?: Readonly<Record<string, string>>;
}

/** Input of `recordJobHistory`: the jobs a watcher pass listed, and the pass's time. */
export interface RecordJobHistoryInput {
  readonly jobs: readonly WatchedJob[];
  /** ISO 8601: running jobs are measured to it. */
  readonly at: string;
}
