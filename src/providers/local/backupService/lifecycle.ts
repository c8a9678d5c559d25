/**
 * The local service's protection lifecycle: stopping, suspending and resuming protection, moving
 * an instance to another policy, and deleting it softly (kept for undelete until its purge), with
 * the service's state rules.
 *
 * @remarks A deleted instance's record moves to `meta/deletedBackupInstances/`; its recovery
 * points stay where they are, so an undelete finds them again. Once its soft-delete retention has
 * ended it is purged with its recovery points, at the next use of the vault's deleted instances
 * (a delete, an undelete, a listing): no service runs purges of its own here.
 */
import { InvalidInputError, NotFoundError } from "../../../domain/errors.js";
import {
  formatVaultId,
  parseVaultChildId,
  sameResourceId,
} from "../../../domain/protection/ids.js";
import {
  assertUndeletable,
  decideLifecycleAction,
  DEFAULT_SOFT_DELETE_RETENTION_DAYS,
  lifecycleStateOf,
  scheduledPurgeTime,
  type DeletedBackupInstance,
  type LifecycleAction,
} from "../../../domain/protection/lifecycle.js";
import type { BackupInstance } from "../../../domain/protection/types.js";
import type { LifecycleActionOutcome } from "../../ports.js";
import { recoveryPointStores, type VaultFolder } from "../vaultStore.js";
import type { LocalServiceContext } from "./context.js";
import { getBackupInstance } from "./instances.js";
import { getPolicy } from "./policies.js";

/**
 * Purges the deleted instances of a vault whose soft-delete retention has ended: each record and
 * every recovery point it left, as the service purges them.
 */
async function purgeExpired(context: LocalServiceContext, vault: VaultFolder): Promise<void> {
  const now = context.now().getTime();
  for (const deleted of await vault.listRecords<DeletedBackupInstance>("deletedBackupInstances")) {
    const purge = Date.parse(deleted.deletionInfo.scheduledPurgeTime ?? "");
    if (Number.isNaN(purge) || purge > now) continue;
    // A live instance of the same name (protected again meanwhile) owns the folders now.
    if (!(await vault.recordNameLike("backupInstances", deleted.name))) {
      for (const store of recoveryPointStores) {
        for (const point of await vault.listManifests(store, deleted.name))
          await vault.deleteRecoveryPoint(deleted.name, point.recoveryPointId, store);
      }
    }
    await vault.removeRecord("deletedBackupInstances", deleted.name);
  }
}

/** Applies an action to an instance in a state that allows it; one already done is answered as it is. */
async function transition(
  context: LocalServiceContext,
  vaultId: string,
  instanceName: string,
  action: LifecycleAction,
  change: (instance: BackupInstance) => BackupInstance,
): Promise<LifecycleActionOutcome> {
  const { vault } = await context.vault(vaultId);
  const instance = await getBackupInstance(context, vaultId, instanceName);
  if (decideLifecycleAction(action, lifecycleStateOf(instance), instance.name) === "alreadyDone")
    return { instance, running: false };
  const changed = change(instance);
  await vault.writeRecord("backupInstances", instance.name, changed);
  return { instance: changed, running: false };
}

/** Stops protection; every recovery point stays. */
export function stopProtection(
  context: LocalServiceContext,
  vaultId: string,
  instanceName: string,
): Promise<LifecycleActionOutcome> {
  return transition(context, vaultId, instanceName, "stop", (instance) => ({
    ...instance,
    protectionStatus: "ProtectionStopped",
    currentProtectionState: "ProtectionStopped",
  }));
}

/**
 * Suspends the schedule: the scheduler and ad-hoc backups see protection stopped, as the
 * service reports a suspended instance.
 */
export function suspendBackups(
  context: LocalServiceContext,
  vaultId: string,
  instanceName: string,
): Promise<LifecycleActionOutcome> {
  return transition(context, vaultId, instanceName, "suspend", (instance) => ({
    ...instance,
    protectionStatus: "ProtectionStopped",
    currentProtectionState: "BackupSchedulesSuspended",
  }));
}

/** Resumes a suspended schedule or stopped protection. */
export function resume(
  context: LocalServiceContext,
  vaultId: string,
  instanceName: string,
): Promise<LifecycleActionOutcome> {
  return transition(context, vaultId, instanceName, "resume", (instance) => ({
    ...instance,
    protectionStatus: "ProtectionConfigured",
    currentProtectionState: "ProtectionConfigured",
  }));
}

/**
 * Moves an instance to another policy of its vault, after the checks the service's
 * `validateForModifyBackup` makes: the policy exists and protects the instance's datasource type.
 *
 * @throws NotFoundError `RESOURCE_NOT_FOUND` for a policy the vault lacks; InvalidInputError
 * `POLICY_NOT_IN_VAULT`, `POLICY_DATASOURCE_TYPE_MISMATCH`.
 */
export async function changePolicy(
  context: LocalServiceContext,
  vaultId: string,
  instanceName: string,
  policyId: string,
): Promise<LifecycleActionOutcome> {
  const { ref } = await context.vault(vaultId);
  const policyRef = parseVaultChildId(policyId, "backupPolicies");
  if (!sameResourceId(formatVaultId(policyRef), formatVaultId(ref))) {
    throw new InvalidInputError(
      "POLICY_NOT_IN_VAULT",
      "The policy must belong to the vault of the backup instance",
      [{ path: "$.policyId", code: "POLICY_NOT_IN_VAULT", message: "use a policy of this vault" }],
    );
  }
  const policy = await getPolicy(context, vaultId, policyRef.childName);
  const current = await getBackupInstance(context, vaultId, instanceName);
  const datasourceType = current.dataSourceInfo.datasourceType;
  if (
    !policy.properties.datasourceTypes.some((t) => t.toLowerCase() === datasourceType.toLowerCase())
  ) {
    throw new InvalidInputError(
      "POLICY_DATASOURCE_TYPE_MISMATCH",
      `Policy '${policy.name}' protects ${policy.properties.datasourceTypes.join(", ")}, not ${datasourceType}`,
      [
        {
          path: "$.policyId",
          code: "POLICY_DATASOURCE_TYPE_MISMATCH",
          message: `the policy's datasourceTypes lack ${datasourceType}`,
        },
      ],
    );
  }
  const newPolicyId = policy.id ?? policyId;
  if (sameResourceId(current.policyId, newPolicyId)) return { instance: current, running: false };
  return transition(context, vaultId, instanceName, "changePolicy", (instance) => ({
    ...instance,
    policyId: newPolicyId,
  }));
}

/**
 * Deletes an instance softly: its record is kept for undelete until the scheduled purge; its
 * recovery points stay. A second delete of a deleted instance answers nothing left.
 */
export async function deleteBackupInstance(
  context: LocalServiceContext,
  vaultId: string,
  instanceName: string,
): Promise<LifecycleActionOutcome> {
  const { vault } = await context.vault(vaultId);
  await purgeExpired(context, vault);
  const stored = await vault.recordNameLike("backupInstances", instanceName);
  if (stored === undefined) {
    if (await vault.recordNameLike("deletedBackupInstances", instanceName))
      return { running: false };
    throw context.notFound(`Backup instance '${instanceName}' was not found in the vault`);
  }
  const instance = await getBackupInstance(context, vaultId, stored);
  decideLifecycleAction("delete", lifecycleStateOf(instance), instance.name);
  const now = context.now();
  const deleted: DeletedBackupInstance = {
    ...instance,
    protectionStatus: "SoftDeleted",
    currentProtectionState: "SoftDeleted",
    deletionInfo: {
      deletionTime: now.toISOString(),
      scheduledPurgeTime: scheduledPurgeTime(now, DEFAULT_SOFT_DELETE_RETENTION_DAYS),
    },
  };
  // Written before the live record goes: a crash in between leaves both, never neither.
  await vault.writeRecord("deletedBackupInstances", instance.name, deleted);
  await vault.removeRecord("backupInstances", instance.name);
  return { running: false };
}

/**
 * Brings a soft-deleted instance back as `ProtectionStopped`, within its soft-delete retention.
 *
 * @throws NotFoundError `DELETED_BACKUP_INSTANCE_NOT_FOUND`; AppError `UNDELETE_RETENTION_EXPIRED`.
 */
export async function undeleteBackupInstance(
  context: LocalServiceContext,
  vaultId: string,
  instanceName: string,
): Promise<LifecycleActionOutcome> {
  const { vault } = await context.vault(vaultId);
  await purgeExpired(context, vault);
  const stored = await vault.recordNameLike("deletedBackupInstances", instanceName);
  const deleted = stored
    ? await vault.readRecord<DeletedBackupInstance>("deletedBackupInstances", stored)
    : undefined;
  if (!deleted) {
    const live = await vault.recordNameLike("backupInstances", instanceName);
    if (live) return { instance: await getBackupInstance(context, vaultId, live), running: false };
    throw new NotFoundError(
      "DELETED_BACKUP_INSTANCE_NOT_FOUND",
      `There is no deleted backup instance '${instanceName}' in the vault`,
    );
  }
  assertUndeletable(deleted, context.now());
  const { deletionInfo: _deletionInfo, ...rest } = deleted;
  const restored: BackupInstance = {
    ...rest,
    protectionStatus: "ProtectionStopped",
    currentProtectionState: "ProtectionStopped",
  };
  await vault.writeRecord("backupInstances", deleted.name, restored);
  await vault.removeRecord("deletedBackupInstances", deleted.name);
  return { instance: restored, running: false };
}

/** The soft-deleted instances of a vault. */
export async function listDeletedBackupInstances(
  context: LocalServiceContext,
  vaultId: string,
): Promise<DeletedBackupInstance[]> {
  const { vault } = await context.vault(vaultId);
  await purgeExpired(context, vault);
  return vault.listRecords<DeletedBackupInstance>("deletedBackupInstances");
}
