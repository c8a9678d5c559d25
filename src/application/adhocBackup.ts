/**
 * The user story "back up now": an ad-hoc backup of a backup instance under a backup rule and,
 * optionally, a retention tag, followed by an `adhocBackup` orchestration that publishes its
 * states.
 */
import { checkAdhocBackupRequest } from "../domain/policy/adhoc.js";
import { adhocBackupInstanceId } from "../domain/protection/operationIds.js";
import type { AdhocBackupInput } from "../orchestrations/adhocBackup.js";
import type { EventLogger, RequestCorrelation } from "../observability/eventLogger.js";
import { logEvents } from "../observability/logEvents.js";
import { orchestrationNames } from "../orchestrations/names.js";
import { backupAdmission } from "./backupAdmission.js";
import { findBackupInstance, isServerKind, policyOf } from "./backupInstances.js";
import type { ApplicationDependencies } from "./dependencies.js";
import { notFollowedReason, startJobFollowing } from "./jobFollowing.js";
import type { OrchestrationPort } from "./orchestrationPort.js";

/** An ad-hoc backup request. */
export interface AdhocBackupRequest {
  readonly backupInstanceName: string;
  /** The vault of the instance; every vault the app covers when absent. */
  readonly vaultName?: string | undefined;
  /** The policy's backup rule, e.g. `BackupWeekly`. */
  readonly ruleName: string;
  /** The retention rule the recovery point is kept under; `Default` when absent. */
  readonly retentionTagOverride?: string | undefined;
  readonly requestedBy?: string | undefined;
  /** The asking request's invocation and trace, carried into the orchestration's logs. */
  readonly correlation?: RequestCorrelation | undefined;
}

/** An ad-hoc backup started. */
export interface AdhocBackupStarted {
  readonly jobId: string;
  readonly jobName: string;
  readonly vaultId: string;
  readonly backupInstanceName: string;
  readonly ruleName: string;
  readonly retentionTag: string;
  /** The orchestration that follows the job, or `null` when it did not start. */
  readonly operationId: string | null;
  /** Why the orchestration did not start, when it did not. */
  readonly notFollowed?: unknown;
}

/**
 * Starts an ad-hoc backup. The request is checked against the instance's policy (a retention rule
 * given as `ruleName` is answered with the backup rule to use) and, for a whole Flexible Server,
 * against a running backup and the one-backup-a-week rule; the backup is then triggered, and an
 * `adhocBackup` orchestration follows the job.
 *
 * @throws NotFoundError `BACKUP_INSTANCE_NOT_FOUND`; AppError `BACKUP_IN_PROGRESS`, the
 * weekly limit's code, and the policy's refusals of the rule or tag.
 */
export async function startAdhocBackup(
  deps: Pick<ApplicationDependencies, "provider" | "vaults">,
  orchestrations: OrchestrationPort,
  request: AdhocBackupRequest,
  now: Date,
): Promise<AdhocBackupStarted> {
  const located = await findBackupInstance(deps, request.backupInstanceName, request.vaultName);
  const { vaultId, instance } = located;
  const policy = await policyOf(deps, located);
  const { ruleName, retentionTag } = checkAdhocBackupRequest(
    policy.properties,
    request.ruleName,
    request.retentionTagOverride,
  );
  if (isServerKind(instance)) {
    const admission = await backupAdmission(deps.provider.backup, vaultId, instance, now);
    if (!admission.admitted) throw admission.error;
  }
  const override = request.retentionTagOverride ? { retentionTagOverride: retentionTag } : {};
  const { jobId } = await deps.provider.backup.triggerBackup(vaultId, instance.name, {
    ruleName,
    ...override,
  });
  const jobName = jobId.split("/").pop() ?? jobId;
  const input: AdhocBackupInput = {
    vaultId,
    backupInstanceName: instance.name,
    ruleName,
    ...override,
    whenWeeklyLimitReached: "refuse",
    jobId,
    ...(request.requestedBy ? { requestedBy: request.requestedBy } : {}),
    ...(request.correlation ? { correlation: request.correlation } : {}),
  };
  const started = {
    jobId,
    jobName,
    vaultId,
    backupInstanceName: instance.name,
    ruleName,
    retentionTag,
  };
  // Unfollowed, the backup's states are still reported by the job watcher.
  const { instanceId: operationId, ...following } = await startJobFollowing(
    orchestrations,
    orchestrationNames.adhocBackup,
    adhocBackupInstanceId(jobName),
    input,
  );
  return { ...started, operationId, ...following };
}

/** Logs an ad-hoc backup started, and the orchestration that should follow it when it did not start. */
export function logBackupStart(
  log: EventLogger,
  started: AdhocBackupStarted,
  requestedBy?: string,
): void {
  const operation = log.with({ operationId: started.operationId ?? undefined });
  operation.emit(logEvents.backupRequested, {
    backupInstanceName: started.backupInstanceName,
    vaultId: started.vaultId,
    jobName: started.jobName,
    requestedBy,
  });
  if (started.notFollowed === undefined) return;
  operation.emit(logEvents.backupNotFollowed, {
    jobName: started.jobName,
    backupInstanceName: started.backupInstanceName,
    errorMessage: notFollowedReason(started.notFollowed),
  });
}
