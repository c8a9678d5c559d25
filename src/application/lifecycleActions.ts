/**
 * The steps of a lifecycle operation, as its activities take them: apply the action unless the
 * instance is already where it leads, and read the state the instance is in.
 */
import { AppError, isAppError, NotFoundError } from "../domain/errors.js";
import { sameResourceId } from "../domain/protection/ids.js";
import {
  decideLifecycleAction,
  lifecycleStateOf,
  lifecycleTargetState,
  type LifecycleAction,
} from "../domain/protection/lifecycle.js";
import type { BackupInstance } from "../domain/protection/types.js";
import type {
  LifecycleActionOutcome,
  Provider,
  ProtectionLifecyclePort,
} from "../providers/ports.js";

/** An action on one instance, as the orchestration asks for it. */
export interface LifecycleStep {
  readonly vaultId: string;
  readonly backupInstanceName: string;
  readonly action: LifecycleAction;
  /** `changePolicy`: the policy to move to. */
  readonly policyId?: string;
}

/** What applying an action did. */
export interface LifecycleApplied {
  /** Whether the service's operation was still running when the step stopped waiting. */
  readonly running: boolean;
  /** The instance's state now. */
  readonly state: string;
  /** The state the action leads to. */
  readonly targetState: string;
  /** The instance after the action; before it, for a delete (for the event). */
  readonly instance?: BackupInstance;
  /** `changePolicy`: the policy the instance had. */
  readonly previousPolicyId?: string;
}

/** The state of an instance that is no longer listed: deleted. */
const DELETED_STATE = "SoftDeleted";

/** The provider's lifecycle port, or the refusal of a provider without one. */
export function lifecycleOf(provider: Pick<Provider, "lifecycle">): ProtectionLifecyclePort {
  if (provider.lifecycle) return provider.lifecycle;
  throw new AppError(
    "PROTECTION_LIFECYCLE_NOT_SUPPORTED",
    "This provider offers no protection lifecycle (stop, suspend, resume, change of policy, delete)",
    { httpStatus: 501 },
  );
}

/** The instance, or `undefined` when its vault no longer lists it. */
async function currentInstance(
  provider: Pick<Provider, "backup">,
  step: Pick<LifecycleStep, "vaultId" | "backupInstanceName">,
): Promise<BackupInstance | undefined> {
  try {
    return await provider.backup.getBackupInstance(step.vaultId, step.backupInstanceName);
  } catch (error) {
    if (isAppError(error) && error.httpStatus === 404) return undefined;
    throw error;
  }
}

/** Carries the action out through the port. */
function send(
  lifecycle: ProtectionLifecyclePort,
  step: LifecycleStep,
): Promise<LifecycleActionOutcome> {
  const { vaultId, backupInstanceName: name } = step;
  switch (step.action) {
    case "stop":
      return lifecycle.stopProtection(vaultId, name);
    case "suspend":
      return lifecycle.suspendBackups(vaultId, name);
    case "resume":
      return lifecycle.resume(vaultId, name);
    case "changePolicy":
      return lifecycle.changePolicy(vaultId, name, step.policyId ?? "");
    case "delete":
      return lifecycle.deleteBackupInstance(vaultId, name);
    case "undelete":
      return lifecycle.undeleteBackupInstance(vaultId, name);
  }
}

/**
 * Applies an action unless the instance is already where it leads, so that a retried step (the
 * activity ran, its answer was lost) does not act twice.
 *
 * @throws AppError `PROTECTION_STATE_CONFLICT` when the state no longer allows it; the port's
 * refusals.
 */
export async function applyLifecycleStep(
  provider: Pick<Provider, "backup" | "lifecycle">,
  step: LifecycleStep,
): Promise<LifecycleApplied> {
  const lifecycle = lifecycleOf(provider);
  const current = await currentInstance(provider, step);
  if (!current) {
    if (step.action === "delete")
      return { running: false, state: DELETED_STATE, targetState: DELETED_STATE };
    if (step.action !== "undelete") {
      throw new NotFoundError(
        "BACKUP_INSTANCE_NOT_FOUND",
        `Backup instance '${step.backupInstanceName}' is no longer in the vault`,
      );
    }
  }
  const state = current ? lifecycleStateOf(current) : DELETED_STATE;
  // An instance listed again was undeleted already.
  if (current && step.action === "undelete")
    return { running: false, state, targetState: state, instance: current };
  const targetState = lifecycleTargetState(step.action, state);
  if (current && decideLifecycleAction(step.action, state, current.name) === "alreadyDone")
    return { running: false, state, targetState, instance: current };
  if (
    current &&
    step.action === "changePolicy" &&
    sameResourceId(current.policyId, step.policyId ?? "")
  )
    return { running: false, state, targetState, instance: current };
  const outcome = await send(lifecycle, step);
  const after = outcome.instance ? lifecycleStateOf(outcome.instance) : undefined;
  const instance = step.action === "delete" ? current : (outcome.instance ?? current);
  return {
    running: outcome.running,
    state: after ?? (outcome.running ? state : targetState),
    targetState,
    ...(instance ? { instance } : {}),
    ...(step.action === "changePolicy" && current ? { previousPolicyId: current.policyId } : {}),
  };
}

/** The state an instance is in now; a deleted one's is `SoftDeleted`. */
export async function lifecycleStateNow(
  provider: Pick<Provider, "backup">,
  step: Pick<LifecycleStep, "vaultId" | "backupInstanceName">,
): Promise<string> {
  const current = await currentInstance(provider, step);
  return current ? lifecycleStateOf(current) : DELETED_STATE;
}
