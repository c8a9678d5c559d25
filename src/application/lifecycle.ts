/**
 * The user story "change how a protected item is protected": stop protection (keeping the
 * recovery points, or deleting the instance with them), suspend and resume backups, move the item
 * to another policy, delete and undelete it, and list what was deleted. Each action is checked
 * against the instance's state first, answered at once when it has nothing left to do, and
 * otherwise carried out by a `protectionLifecycle` orchestration started once per instance, which
 * follows the service's operation and publishes the action's event.
 */
import { AppError, isAppError, NotFoundError } from "../domain/errors.js";
import { parseVaultId, sameResourceId } from "../domain/protection/ids.js";
import {
  assertUndeletable,
  decideLifecycleAction,
  lifecycleStateOf,
  lifecycleTargetState,
  type DeletedBackupInstance,
  type LifecycleAction,
} from "../domain/protection/lifecycle.js";
import { resourceIdHash } from "../domain/protection/operationIds.js";
import type { BackupInstance } from "../domain/protection/types.js";
import type { EventLogger, RequestCorrelation } from "../observability/eventLogger.js";
import { logEvents } from "../observability/logEvents.js";
import { orchestrationNames } from "../orchestrations/names.js";
import type {
  ProtectionLifecycleInput,
  ProtectionLifecycleOutput,
} from "../orchestrations/protectionLifecycle.js";
import { findBackupInstance, isServerKind, policyNameOf } from "./backupInstances.js";
import type { ApplicationDependencies } from "./dependencies.js";
import { hasFinished, startOnce, type OrchestrationPort } from "./orchestrationPort.js";
import { lifecycleOf } from "./lifecycleActions.js";
import { checkPolicyFits } from "./protectionChecks.js";
import { vaultsToSearch, type VaultDependencies } from "./vaults.js";

/** What the lifecycle use cases need. */
export type LifecycleDependencies = Pick<ApplicationDependencies, "provider" | "vaults">;

/** A lifecycle action asked for. */
export interface LifecycleRequest {
  readonly action: LifecycleAction;
  readonly backupInstanceName: string;
  /** The vault of the instance; every vault the app covers when absent. */
  readonly vaultName?: string | undefined;
  /** `changePolicy`: the policy of the instance's vault to move it to. */
  readonly policyName?: string | undefined;
  readonly requestedBy?: string | undefined;
  /** The asking request's invocation and trace, carried into the orchestration's logs. */
  readonly correlation?: RequestCorrelation | undefined;
}

/** What a lifecycle request came to. */
export interface LifecycleAnswer {
  readonly action: LifecycleAction;
  readonly backupInstanceName: string;
  readonly vaultName: string;
  /** The instance's state when the request came. */
  readonly state: string;
  /** `accepted`: an operation carries it out; `alreadyDone`: nothing was left to do. */
  readonly outcome: "accepted" | "alreadyDone";
  /** The operation carrying it out (a new one, or the same action already running). */
  readonly operationId: string | null;
  /** The state the action leads to. */
  readonly targetState: string;
}

/**
 * The durable instance id of an instance's lifecycle actions: `lifecycle-<name>-<hash>`, one per
 * backup instance, so that two actions never run on one instance at once.
 */
export function lifecycleOperationId(backupInstanceId: string): string {
  const name = (backupInstanceId.split("/").pop() ?? "").toLowerCase().replace(/[^a-z0-9-]+/g, "-");
  return `lifecycle-${name.slice(0, 80)}-${resourceIdHash(backupInstanceId)}`;
}

/** A deleted instance and the vault it is in. */
interface LocatedDeleted {
  readonly vaultId: string;
  readonly deleted: DeletedBackupInstance;
}

/** A soft-deleted instance by name, in the named vault or every vault the app covers. */
async function findDeleted(
  deps: LifecycleDependencies,
  name: string,
  vaultName?: string,
): Promise<LocatedDeleted | undefined> {
  const lifecycle = lifecycleOf(deps.provider);
  for (const vaultId of await vaultsToSearch(deps, vaultName)) {
    const deleted = (await lifecycle.listDeletedBackupInstances(vaultId)).find(
      (d) => d.name.toLowerCase() === name.toLowerCase(),
    );
    if (deleted) return { vaultId, deleted };
  }
  return undefined;
}

/** The live instance of a name, or `undefined` when no covered vault holds one. */
async function findLive(deps: LifecycleDependencies, name: string, vaultName?: string) {
  try {
    return await findBackupInstance(deps, name, vaultName);
  } catch (error) {
    if (isAppError(error) && error.code === "BACKUP_INSTANCE_NOT_FOUND") return undefined;
    throw error;
  }
}

/** The instance a request names and its vault: deleted ones for undelete (and a repeated delete). */
async function locate(
  deps: LifecycleDependencies,
  request: LifecycleRequest,
  now: Date,
): Promise<{ vaultId: string; instance: BackupInstance }> {
  const { action, backupInstanceName: name, vaultName } = request;
  if (action !== "undelete" && action !== "delete") {
    const { vaultId, instance } = await findBackupInstance(deps, name, vaultName);
    return { vaultId, instance };
  }
  const live = await findLive(deps, name, vaultName);
  if (live) return live;
  const found = await findDeleted(deps, name, vaultName);
  if (!found) {
    throw new NotFoundError(
      action === "undelete" ? "DELETED_BACKUP_INSTANCE_NOT_FOUND" : "BACKUP_INSTANCE_NOT_FOUND",
      `There is no ${action === "undelete" ? "deleted " : ""}backup instance '${name}'`,
      { recommendedAction: "List them with GET /api/deleted-backup-instances" },
    );
  }
  if (action === "undelete") assertUndeletable(found.deleted, now);
  return { vaultId: found.vaultId, instance: found.deleted };
}

/**
 * Starts a lifecycle action on a backup instance, once.
 *
 * @remarks The instance's state decides first: an action with nothing left to do (a second stop,
 * a resume of a configured instance, a move to the policy it has) is answered `alreadyDone`
 * without touching the service; one the state does not allow is a 409. A change of policy is
 * checked before anything starts: the policy exists in the instance's vault and protects its
 * datasource type. Only one action runs per instance: the same action asked again while it runs
 * answers the running operation, another one is a 409.
 *
 * @throws NotFoundError `BACKUP_INSTANCE_NOT_FOUND`, `DELETED_BACKUP_INSTANCE_NOT_FOUND`,
 * `POLICY_NOT_FOUND`; AppError `PROTECTION_STATE_CONFLICT`, `UNDELETE_RETENTION_EXPIRED`,
 * `POLICY_DATASOURCE_TYPE_MISMATCH`, `PROTECTION_LIFECYCLE_NOT_SUPPORTED`.
 */
export async function startLifecycleAction(
  deps: LifecycleDependencies,
  orchestrations: OrchestrationPort,
  request: LifecycleRequest,
  now: Date,
): Promise<LifecycleAnswer> {
  lifecycleOf(deps.provider);
  const { vaultId, instance } = await locate(deps, request, now);
  const state = lifecycleStateOf(instance);
  const { action } = request;
  let decision = decideLifecycleAction(action, state, instance.name);
  let policyId: string | undefined;
  if (action === "changePolicy") {
    const policyName = request.policyName ?? "";
    await checkPolicyFits(
      deps.provider.backup,
      vaultId,
      policyName,
      instance.dataSourceInfo.datasourceType,
    );
    policyId = `${vaultId}/backupPolicies/${policyName}`;
    if (sameResourceId(policyId, instance.policyId)) decision = "alreadyDone";
  }
  const answer = {
    action,
    backupInstanceName: instance.name,
    vaultName: parseVaultId(vaultId).vaultName,
    state,
    targetState: lifecycleTargetState(action, state),
  };
  if (decision === "alreadyDone") return { ...answer, outcome: "alreadyDone", operationId: null };
  const operationId = lifecycleOperationId(instance.id);
  const input: ProtectionLifecycleInput = {
    action,
    vaultId,
    backupInstanceName: instance.name,
    ...(policyId ? { policyId } : {}),
    ...(request.requestedBy ? { requestedBy: request.requestedBy } : {}),
    ...(request.correlation ? { correlation: request.correlation } : {}),
  };
  const started = await startOnce(orchestrations, {
    name: orchestrationNames.protectionLifecycle,
    instanceId: operationId,
    stands: (status) => !hasFinished(status),
    input: () => input,
  });
  if (!started.started) {
    const running = (started.status.input as Partial<ProtectionLifecycleInput> | undefined)?.action;
    if (running !== action) {
      throw new AppError(
        "PROTECTION_STATE_CONFLICT",
        `Backup instance '${instance.name}' has a ${running ?? "lifecycle"} action running (operation ${operationId})`,
        {
          httpStatus: 409,
          recommendedAction: `Follow it with GET /api/lifecycle-operations/${operationId}, then ask again`,
        },
      );
    }
  }
  return { ...answer, outcome: "accepted", operationId };
}

/** Logs a lifecycle request and what it came to. */
export function logLifecycleRequest(
  log: EventLogger,
  answer: LifecycleAnswer,
  requestedBy?: string,
): void {
  log.with({ operationId: answer.operationId ?? undefined }).emit(logEvents.lifecycleRequested, {
    action: answer.action,
    backupInstanceName: answer.backupInstanceName,
    vaultName: answer.vaultName,
    state: answer.state,
    outcome: answer.outcome,
    requestedBy,
  });
}

/** A lifecycle operation as `GET /api/lifecycle-operations/{id}` shows it. */
export interface LifecycleOperationView {
  readonly id: string;
  readonly action: string;
  readonly backupInstanceName: string;
  readonly vaultName: string;
  /** `Running`, `Completed` or `Failed`. */
  readonly status: "Running" | "Completed" | "Failed";
  /** The state the instance was left in, once completed. */
  readonly state: string | null;
  readonly error: {
    readonly code: string;
    readonly serviceCode?: string;
    readonly message: string;
    readonly recommendedAction?: string;
  } | null;
  readonly createdTime: string;
  readonly lastUpdatedTime: string;
}

/**
 * A lifecycle operation's progress and outcome.
 *
 * @throws NotFoundError `LIFECYCLE_OPERATION_NOT_FOUND`.
 */
export async function lifecycleOperationStatus(
  orchestrations: OrchestrationPort,
  id: string,
): Promise<LifecycleOperationView> {
  const status = id.startsWith("lifecycle-") ? await orchestrations.status(id) : undefined;
  if (!status || status.name !== orchestrationNames.protectionLifecycle) {
    throw new NotFoundError(
      "LIFECYCLE_OPERATION_NOT_FOUND",
      `There is no lifecycle operation '${id}'`,
    );
  }
  const input = (status.input ?? {}) as Partial<ProtectionLifecycleInput>;
  const output = hasFinished(status)
    ? (status.output as Partial<ProtectionLifecycleOutput> | undefined)
    : undefined;
  const succeeded = status.runtimeStatus === "Completed" && output?.outcome === "Succeeded";
  const failedError =
    output?.error ??
    (hasFinished(status) && !succeeded
      ? {
          code: "PROTECTION_ACTION_FAILED",
          message: `The operation ended ${status.runtimeStatus} before it stated an outcome`,
          recommendedAction: "Read the backup instance's state, then ask again",
        }
      : undefined);
  return {
    id,
    action: input.action ?? "",
    backupInstanceName: input.backupInstanceName ?? "",
    vaultName: input.vaultId ? parseVaultId(input.vaultId).vaultName : "",
    status: !hasFinished(status) ? "Running" : succeeded ? "Completed" : "Failed",
    state: output?.state ?? null,
    error: succeeded ? null : (failedError ?? null),
    createdTime: new Date(status.createdTime).toISOString(),
    lastUpdatedTime: new Date(status.lastUpdatedTime).toISOString(),
  };
}

/** A soft-deleted instance as `GET /api/deleted-backup-instances` shows it. */
export interface DeletedBackupInstanceView {
  readonly name: string;
  readonly id: string;
  readonly vaultName: string;
  readonly friendlyName: string;
  readonly datasourceId: string;
  readonly datasourceType: string;
  readonly kind: "database" | "server";
  readonly policy: { readonly name: string; readonly id: string };
  readonly deletionTime: string;
  /** When it will be purged with its recovery points; `null` when the service does not say. */
  readonly scheduledPurgeTime: string | null;
  /** Whether it can still be undeleted. */
  readonly undeletable: boolean;
}

/** The soft-deleted instances of the named vault, or of every vault the app covers. */
export async function deletedBackupInstanceViews(
  deps: VaultDependencies,
  vaultName: string | undefined,
  now: Date,
): Promise<DeletedBackupInstanceView[]> {
  const lifecycle = lifecycleOf(deps.provider);
  const views: DeletedBackupInstanceView[] = [];
  for (const vaultId of await vaultsToSearch(deps, vaultName)) {
    for (const deleted of await lifecycle.listDeletedBackupInstances(vaultId)) {
      const purge = deleted.deletionInfo.scheduledPurgeTime ?? null;
      views.push({
        name: deleted.name,
        id: deleted.id,
        vaultName: parseVaultId(vaultId).vaultName,
        friendlyName: deleted.friendlyName,
        datasourceId: deleted.dataSourceInfo.resourceId,
        datasourceType: deleted.dataSourceInfo.datasourceType,
        kind: isServerKind(deleted) ? "server" : "database",
        policy: { name: policyNameOf(deleted), id: deleted.policyId },
        deletionTime: deleted.deletionInfo.deletionTime,
        scheduledPurgeTime: purge,
        undeletable: purge === null || Date.parse(purge) > now.getTime(),
      });
    }
  }
  return views.sort((a, b) => b.deletionTime.localeCompare(a.deletionTime));
}
