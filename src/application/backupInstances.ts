/**
 * The look-ups the backup-instance, job, backup and restore user stories share: finding a backup
 * instance or a job by name across the vaults the app covers (`./vaults.ts`), and the user-facing
 * view of an instance (its protection state, policy, last successful backup and next scheduled one).
 */
import { AppError, isAppError, NotFoundError, type ErrorCode } from "../domain/errors.js";
import { expectedBackupPeriod, overdueSince } from "../domain/plans/staleness.js";
import { backupRuleOf, scheduleOccurrences } from "../domain/policy/schedule.js";
import type { BackupPolicyResource } from "../domain/policy/types.js";
import { parseVaultChildId, parseVaultId } from "../domain/protection/ids.js";
import { assertName, backupInstanceNameRule } from "../domain/protection/names.js";
import { lifecycleStateOf } from "../domain/protection/lifecycle.js";
import { FLEXIBLE_SERVER_DATASOURCE_TYPE } from "../domain/protection/naming.js";
import { protectionInstanceId } from "../domain/protection/operationIds.js";
import type { BackupInstance, BackupJob, RecoveryPoint } from "../domain/protection/types.js";
import { hasFinished, type OrchestrationPort } from "./orchestrationPort.js";
import { isForDatasource, protectionIsLiveOrSucceeded } from "./protectionOperations.js";
import { existingVaultId, vaultsToSearch, type VaultDependencies } from "./vaults.js";

/**
 * The dependencies the lookups need; with `orchestrations`, an instance's overdue clock can start
 * at the protection operation the app ran when the service gives no creation time.
 */
export type LookupDependencies = VaultDependencies & {
  readonly orchestrations?: OrchestrationPort;
};

/**
 * When the app's own operation finished configuring protection of the instance's datasource
 * (ISO 8601), or `undefined` when the app ran none (protected elsewhere) or it did not succeed.
 *
 * @remarks The operation's record is kept by the Functions runtime with either provider, and its
 * completion does not move, unlike the stand-in a service that omits `systemData` leaves.
 */
export async function protectionConfiguredAt(
  orchestrations: OrchestrationPort | undefined,
  instance: BackupInstance,
): Promise<string | undefined> {
  if (!orchestrations) return undefined;
  const datasourceId = instance.dataSourceInfo.resourceId;
  let status;
  try {
    status = await orchestrations.status(protectionInstanceId(datasourceId));
  } catch {
    // Without the record the service's own time stands; a view or a pass must not fail for it.
    return undefined;
  }
  // A run that ended in an expected failure also completes: only a success dates protection.
  if (
    !protectionIsLiveOrSucceeded(status) ||
    !hasFinished(status) ||
    !isForDatasource(status.input, datasourceId)
  ) {
    return undefined;
  }
  const completed = new Date(status.lastUpdatedTime);
  return Number.isNaN(completed.getTime()) ? undefined : completed.toISOString();
}

const isNotFound = (error: unknown): boolean => isAppError(error) && error.httpStatus === 404;

/** A backup instance and the vault it is in. */
export interface LocatedInstance {
  readonly vaultId: string;
  readonly instance: BackupInstance;
}

/**
 * Finds a backup instance by name in the named vault, or in every vault the app covers.
 *
 * @throws NotFoundError `BACKUP_INSTANCE_NOT_FOUND`.
 */
export async function findBackupInstance(
  deps: LookupDependencies,
  name: string,
  vaultName?: string,
): Promise<LocatedInstance> {
  assertName(backupInstanceNameRule, name, "path.name");
  const vaultIds = await vaultsToSearch(deps, vaultName);
  for (const vaultId of vaultIds) {
    try {
      return { vaultId, instance: await deps.provider.backup.getBackupInstance(vaultId, name) };
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  throw new NotFoundError(
    "BACKUP_INSTANCE_NOT_FOUND",
    `There is no backup instance '${name}' in ${vaultIds.map((id) => parseVaultId(id).vaultName).join(", ")}`,
    {
      recommendedAction:
        "List the protected items with GET /api/backup-instances and use the name it shows",
    },
  );
}

/** The policy name in an instance's `policyId`. */
export function policyNameOf(instance: BackupInstance): string {
  return parseVaultChildId(instance.policyId, "backupPolicies").childName;
}

/** The policy an instance is protected by. */
export async function policyOf(
  deps: LookupDependencies,
  located: LocatedInstance,
): Promise<BackupPolicyResource> {
  return deps.provider.backup.getPolicy(located.vaultId, policyNameOf(located.instance));
}

/** Whether an instance protects a whole Flexible Server (one backup a week). */
export function isServerKind(instance: BackupInstance): boolean {
  return (
    instance.dataSourceInfo.datasourceType.toLowerCase() ===
    FLEXIBLE_SERVER_DATASOURCE_TYPE.toLowerCase()
  );
}

/** A backup that completed. */
export interface SuccessfulBackup {
  /** The moment the data reflects (the backup's start). */
  readonly time: string;
  readonly completedAt: string | null;
  readonly jobId: string | null;
  readonly recoveryPointId: string | null;
  readonly ruleName: string | null;
  readonly retentionTag: string | null;
}

/** A protected item as `GET /api/backup-instances` shows it. */
export interface BackupInstanceView {
  readonly name: string;
  readonly id: string;
  readonly vaultName: string;
  readonly friendlyName: string;
  readonly datasourceId: string;
  readonly datasourceType: string;
  /** `database`: one database; `server`: a whole Flexible Server. */
  readonly kind: "database" | "server";
  readonly protectionStatus: string;
  /**
   * The service's finer state: `BackupSchedulesSuspended` for a suspended schedule (whose
   * protection status reads stopped), else the protection status.
   */
  readonly protectionState: string;
  readonly protectionError: {
    readonly code: ErrorCode;
    readonly message: string;
    readonly recommendedAction: string | null;
  } | null;
  readonly policy: { readonly name: string; readonly id: string };
  readonly createdAt: string;
  readonly lastSuccessfulBackup: SuccessfulBackup | null;
  /** The policy schedule's next backup, while protection is configured. */
  readonly nextScheduledBackup: string | null;
  /**
   * Since when a backup is overdue (no success within the policy's period plus a day, as the
   * reconciliation's `PgProtect.Backup.Overdue` counts it), while protection is configured.
   */
  readonly overdueSince: string | null;
  readonly recoveryPointCount: number;
}

function latestSuccess(
  jobs: readonly BackupJob[],
  points: readonly RecoveryPoint[],
): SuccessfulBackup | null {
  const fromJobs = jobs
    .filter((job) => job.status === "Completed" && job.operationCategory === "Backup")
    .map((job): SuccessfulBackup => ({
      time: job.startTime,
      completedAt: job.endTime ?? null,
      jobId: job.id,
      recoveryPointId: job.recoveryPointId ?? null,
      ruleName: job.ruleName ?? null,
      retentionTag: job.retentionTag ?? null,
    }));
  // Jobs age out of the service's history sooner than recovery points do.
  const fromPoints = points.map((point): SuccessfulBackup => ({
    time: point.recoveryPointTime,
    completedAt: point.endTime,
    jobId: point.jobId || null,
    recoveryPointId: point.recoveryPointId,
    ruleName: point.ruleName || null,
    retentionTag: point.retentionTagName || null,
  }));
  const all = [...fromJobs, ...fromPoints].sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
  const latest = all[0];
  if (!latest) return null;
  // The job and its recovery point describe the same backup: keep the job's view, filled in.
  const twin = all.find((other) => other !== latest && other.time === latest.time);
  return twin
    ? {
        time: latest.time,
        completedAt: latest.completedAt ?? twin.completedAt,
        jobId: latest.jobId ?? twin.jobId,
        recoveryPointId: latest.recoveryPointId ?? twin.recoveryPointId,
        ruleName: latest.ruleName ?? twin.ruleName,
        retentionTag: latest.retentionTag ?? twin.retentionTag,
      }
    : latest;
}

function overdueOf(
  instance: BackupInstance,
  policy: BackupPolicyResource | undefined,
  last: SuccessfulBackup | null,
  configuredAt: string | undefined,
  now: Date,
): string | null {
  if (instance.protectionStatus !== "ProtectionConfigured" || !policy) return null;
  const expectedEvery = expectedBackupPeriod(policy.properties);
  if (!expectedEvery) return null;
  const since = overdueSince(
    {
      protectedSince: instance.createdAt,
      expectedEvery,
      ...(configuredAt ? { configuredAt } : {}),
      ...(last ? { lastSuccessfulBackupTime: last.completedAt ?? last.time } : {}),
    },
    now,
  );
  return since ?? null;
}

function nextOccurrence(policy: BackupPolicyResource | undefined, now: Date): string | null {
  if (!policy) return null;
  try {
    const schedule = backupRuleOf(policy.properties).trigger.schedule;
    const from = now.getTime();
    // A weekly schedule fires within 8 days; a year covers any interval the service allows.
    const next = scheduleOccurrences(schedule, from, from + 366 * 86_400_000)[0];
    return next === undefined ? null : new Date(next).toISOString();
  } catch {
    return null;
  }
}

/**
 * Describes one instance for users.
 *
 * @param policies - policies already read, by vault id and name, shared across a listing.
 */
export async function describeBackupInstance(
  deps: LookupDependencies,
  located: LocatedInstance,
  now: Date,
  policies: Map<string, Promise<BackupPolicyResource | undefined>> = new Map(),
): Promise<BackupInstanceView> {
  const { vaultId, instance } = located;
  const policyName = policyNameOf(instance);
  const policyKey = `${vaultId.toLowerCase()}|${policyName.toLowerCase()}`;
  let policy = policies.get(policyKey);
  if (!policy) {
    policy = deps.provider.backup.getPolicy(vaultId, policyName).catch((error: unknown) => {
      if (isNotFound(error)) return undefined;
      throw error;
    });
    policies.set(policyKey, policy);
  }
  const [jobs, points, policyResource, configuredAt] = await Promise.all([
    deps.provider.backup.listJobs(vaultId, {
      backupInstanceName: instance.name,
      operation: ["OnDemandBackup", "ScheduledBackup"],
      status: ["Completed"],
    }),
    deps.provider.backup.listRecoveryPoints(vaultId, instance.name),
    policy,
    instance.protectionStatus === "ProtectionConfigured"
      ? protectionConfiguredAt(deps.orchestrations, instance)
      : undefined,
  ]);
  const error = instance.protectionErrorDetails;
  const lastSuccessfulBackup = latestSuccess(jobs, points);
  return {
    name: instance.name,
    id: instance.id,
    vaultName: parseVaultId(vaultId).vaultName,
    friendlyName: instance.friendlyName,
    datasourceId: instance.dataSourceInfo.resourceId,
    datasourceType: instance.dataSourceInfo.datasourceType,
    kind: isServerKind(instance) ? "server" : "database",
    protectionStatus: instance.protectionStatus,
    protectionState: lifecycleStateOf(instance),
    protectionError: error
      ? {
          code: error.code,
          message: error.message,
          recommendedAction: error.recommendedAction?.join(" ") || null,
        }
      : null,
    policy: { name: policyName, id: instance.policyId },
    createdAt: instance.createdAt,
    lastSuccessfulBackup,
    nextScheduledBackup:
      instance.protectionStatus === "ProtectionConfigured"
        ? nextOccurrence(policyResource, now)
        : null,
    overdueSince: overdueOf(instance, policyResource, lastSuccessfulBackup, configuredAt, now),
    recoveryPointCount: points.length,
  };
}

/** A job and the vault it is in. */
export interface LocatedJob {
  readonly vaultId: string;
  readonly job: BackupJob;
}

const JOB_GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Finds a job by its GUID (in every vault the app covers) or its ARM id (in its vault).
 *
 * @throws InvalidInputError `JOB_ID_INVALID` for anything else; NotFoundError `JOB_NOT_FOUND`.
 */
export async function findJob(deps: LookupDependencies, id: string): Promise<LocatedJob> {
  const text = id.trim();
  let vaultIds: string[];
  let guid: string;
  if (JOB_GUID.test(text)) {
    guid = text;
    vaultIds = await vaultsToSearch(deps);
  } else {
    let child;
    try {
      child = parseVaultChildId(text.startsWith("/") ? text : `/${text}`, "backupJobs");
    } catch {
      throw new AppError("JOB_ID_INVALID", `'${id}' is neither a job GUID nor a job's ARM id`, {
        httpStatus: 400,
        recommendedAction:
          "Use the jobId a backup or restore request answered, or the id GET /api/jobs lists",
      });
    }
    guid = child.childName;
    vaultIds = [await existingVaultId(deps, child.vaultName, "path.id")];
  }
  for (const vaultId of vaultIds) {
    try {
      return { vaultId, job: await deps.provider.backup.getJob(vaultId, guid) };
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  throw new NotFoundError(
    "JOB_NOT_FOUND",
    `There is no job '${guid}' in ${vaultIds.map((v) => parseVaultId(v).vaultName).join(", ")}`,
  );
}
