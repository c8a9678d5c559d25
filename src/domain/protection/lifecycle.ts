/**
 * The protection lifecycle of a backup instance: what a user does with a protected item after
 * onboarding (stop, suspend, resume, move to another policy, delete, undelete), the states the
 * service allows each action from, and the state each leaves the instance in.
 *
 * @remarks The states are the service's `currentProtectionState` values. Stop keeps every
 * recovery point for good (`ProtectionStopped`); suspend stops the schedule and lets retention
 * run on (`BackupSchedulesSuspended`); resume undoes either; delete soft-deletes the instance,
 * which can be undeleted (back as `ProtectionStopped`) until its scheduled purge.
 */
import { AppError } from "../errors.js";
import type { BackupInstance } from "./types.js";

/** The lifecycle actions, as the HTTP API and the events name them. */
export const lifecycleActions = [
  "stop",
  "suspend",
  "resume",
  "changePolicy",
  "delete",
  "undelete",
] as const;

/** One lifecycle action. */
export type LifecycleAction = (typeof lifecycleActions)[number];

/** How long the service keeps a deleted instance for undelete when the vault does not say: 14 days. */
export const DEFAULT_SOFT_DELETE_RETENTION_DAYS = 14;

/** When and why an instance was deleted (`DeletionInfo`). */
export interface DeletionInfo {
  /** When it was deleted (ISO 8601). */
  readonly deletionTime: string;
  /** When it will be purged with its recovery points; undelete is possible until then. */
  readonly scheduledPurgeTime?: string;
  /** The service's delete activity, for support. */
  readonly deleteActivityId?: string;
}

/** A soft-deleted backup instance (`DeletedBackupInstanceResource`, flattened). */
export interface DeletedBackupInstance extends BackupInstance {
  readonly deletionInfo: DeletionInfo;
}

/** The states each action may start from, and the states in which it has nothing left to do. */
const rules: Readonly<
  Record<LifecycleAction, { readonly from: readonly string[]; readonly done: readonly string[] }>
> = {
  stop: {
    from: ["ProtectionConfigured", "BackupSchedulesSuspended", "ProtectionError"],
    done: ["ProtectionStopped"],
  },
  suspend: { from: ["ProtectionConfigured"], done: ["BackupSchedulesSuspended"] },
  resume: {
    from: ["BackupSchedulesSuspended", "ProtectionStopped"],
    done: ["ProtectionConfigured"],
  },
  changePolicy: { from: ["ProtectionConfigured", "BackupSchedulesSuspended"], done: [] },
  delete: {
    from: [
      "ProtectionConfigured",
      "BackupSchedulesSuspended",
      "RetentionSchedulesSuspended",
      "ProtectionStopped",
      "ProtectionError",
      "ConfiguringProtectionFailed",
      "NotProtected",
    ],
    done: ["SoftDeleted", "SoftDeleting"],
  },
  undelete: { from: ["SoftDeleted"], done: [] },
};

/**
 * An instance's lifecycle state: the service's `currentProtectionState` where it reports one (it
 * tells a suspended schedule from stopped protection), else its protection status.
 */
export function lifecycleStateOf(
  instance: Pick<BackupInstance, "protectionStatus" | "currentProtectionState">,
): string {
  return instance.currentProtectionState || instance.protectionStatus;
}

/** What to do with an action on an instance in a state. */
export type LifecycleDecision = "apply" | "alreadyDone";

/**
 * Whether an action applies to an instance in `state`, or has nothing left to do.
 *
 * @throws AppError `PROTECTION_STATE_CONFLICT` (409) naming the state and the states it needs.
 */
export function decideLifecycleAction(
  action: LifecycleAction,
  state: string,
  instanceName: string,
): LifecycleDecision {
  const rule = rules[action];
  if (rule.done.includes(state)) return "alreadyDone";
  if (rule.from.includes(state)) return "apply";
  throw new AppError(
    "PROTECTION_STATE_CONFLICT",
    `Backup instance '${instanceName}' is ${state}; ${action} needs ${rule.from.join(" or ")}`,
    {
      httpStatus: 409,
      recommendedAction:
        state === "ConfiguringProtection" || state === "UpdatingProtection"
          ? "Wait until the instance's current operation ends, then ask again"
          : `Read the instance with GET /api/backup-instances/${instanceName} and choose an action its state allows`,
    },
  );
}

/** The state an action leaves an instance in; a change of policy keeps the state it found. */
export function lifecycleTargetState(action: LifecycleAction, state: string): string {
  switch (action) {
    case "stop":
      return "ProtectionStopped";
    case "suspend":
      return "BackupSchedulesSuspended";
    case "resume":
      return "ProtectionConfigured";
    case "changePolicy":
      return state;
    case "delete":
      return "SoftDeleted";
    case "undelete":
      return "ProtectionStopped";
  }
}

/**
 * Which of the service's two resume operations an instance needs: `resumeBackups` after a
 * suspend, `resumeProtection` after a stop.
 */
export function resumeOperationFor(state: string): "resumeBackups" | "resumeProtection" {
  return state === "BackupSchedulesSuspended" ? "resumeBackups" : "resumeProtection";
}

/**
 * Checks that a deleted instance can still be undeleted at `now`.
 *
 * @throws AppError `UNDELETE_RETENTION_EXPIRED` (409) once its scheduled purge has passed.
 */
export function assertUndeletable(deleted: DeletedBackupInstance, now: Date): void {
  const purge = deleted.deletionInfo.scheduledPurgeTime;
  if (purge === undefined || Number.isNaN(Date.parse(purge)) || Date.parse(purge) > now.getTime())
    return;
  throw new AppError(
    "UNDELETE_RETENTION_EXPIRED",
    `Backup instance '${deleted.name}' was deleted at ${deleted.deletionInfo.deletionTime} and its soft-delete retention ended at ${purge}`,
    {
      httpStatus: 409,
      recommendedAction: "Protect the datasource again with POST /api/protections",
    },
  );
}

/** The purge time of an instance deleted at `deletedAt`, kept `retentionDays` for undelete. */
export function scheduledPurgeTime(deletedAt: Date, retentionDays: number): string {
  return new Date(deletedAt.getTime() + retentionDays * 86_400_000).toISOString();
}
