/**
 * The user story "run the backup plans" of `BACKUP_PLANS` (see `domain/plans/plans.ts`).
 *
 * @remarks One tick evaluates every plan's schedule itself rather than one timer per plan: plans
 * then change with the setting alone, calendar refinements that NCRONTAB cannot express are
 * applied to exact occurrences, and an occurrence missed while the app was down still runs within
 * the plan's catch-up window. Each occurrence starts `adhocBackup` per selected instance once,
 * under an id made of plan, instance and occurrence time.
 *
 * Every selected instance's run starts in the same tick; how many databases of one server are
 * then dumped at a time is the provider's bound (locally `LOCAL_BACKUP_CONCURRENCY`, see
 * `domain/protection/concurrency.ts`). An instance whose run cannot start is reported in the
 * plan's `failed` and does not hold up the others.
 */
import { dueOccurrence, planSelects, type BackupPlan } from "../domain/plans/plans.js";
import { planRunInstanceId } from "../domain/protection/operationIds.js";
import type { BackupInstance } from "../domain/protection/types.js";
import type { AdhocBackupInput } from "../orchestrations/adhocBackup.js";
import { orchestrationNames } from "../orchestrations/names.js";
import { backupAdmission } from "./backupAdmission.js";
import { datasourceTags } from "./datasourceTags.js";
import type { ApplicationDependencies } from "./dependencies.js";
import { startOnce, type OrchestrationPort } from "./orchestrationPort.js";

/** A backup of the instance runs: the occurrence waits for a later tick. */
class Deferred extends Error {
  constructor(readonly runningJob: string) {
    super(`backup job ${runningJob} runs`);
  }
}

/** The `adhocBackup` input of one plan run. */
function planRunInput(
  plan: BackupPlan,
  vaultId: string,
  backupInstanceName: string,
): AdhocBackupInput {
  return {
    vaultId,
    backupInstanceName,
    ruleName: plan.ruleName,
    ...(plan.retentionTagOverride ? { retentionTagOverride: plan.retentionTagOverride } : {}),
    // A plan must not fail because the service's weekly limit was already used this week.
    whenWeeklyLimitReached: "skip",
    // One that started since the check ends Skipped, naming the running job.
    whenBackupRunning: "skip",
    requestedBy: `plan:${plan.name}`,
  };
}

/** What one plan did in one tick. */
export interface PlanRun {
  readonly plan: string;
  /** The occurrence run (ISO 8601), absent when none was due. */
  readonly occurrence?: string;
  /** Orchestration instance ids started now. */
  readonly started: readonly string[];
  /** Instance ids that an earlier tick already started. */
  readonly alreadyStarted: readonly string[];
  /**
   * Backup instances left for a later tick because a backup of theirs runs (one at a time per
   * instance): a tick within the plan's catch-up window starts them once it has ended.
   */
  readonly deferred?: readonly {
    readonly backupInstanceName: string;
    readonly runningJob: string;
  }[];
  /**
   * Backup instances whose backup could not be started (the orchestration client or the provider
   * failed for them): the plan's other instances still start, and the next occurrence is the retry.
   */
  readonly failed?: readonly {
    readonly backupInstanceName: string;
    readonly error: string;
  }[];
  /** The plan as a whole could not run (unknown vault, instances not listed). */
  readonly error?: string;
}

async function runPlan(
  plan: BackupPlan,
  occurrence: Date,
  deps: Pick<ApplicationDependencies, "provider" | "vaults">,
  orchestrations: OrchestrationPort,
): Promise<PlanRun> {
  const vaultId = deps.vaults.resolve(plan.vault);
  const needsTags = Object.keys(plan.select.tags ?? {}).length > 0;
  const started: string[] = [];
  const alreadyStarted: string[] = [];
  const deferred: { backupInstanceName: string; runningJob: string }[] = [];
  const failed: { backupInstanceName: string; error: string }[] = [];
  for (const instance of await deps.provider.backup.listBackupInstances(vaultId)) {
    // One instance that cannot be read or started does not hold up the plan's others.
    const outcome = await startPlanRun(
      plan,
      occurrence,
      vaultId,
      instance,
      needsTags,
      deps,
      orchestrations,
    ).catch((error: unknown) => {
      if (error instanceof Deferred) {
        deferred.push({ backupInstanceName: instance.name, runningJob: error.runningJob });
      } else {
        failed.push({ backupInstanceName: instance.name, error: (error as Error).message });
      }
      return undefined;
    });
    if (outcome?.started) started.push(outcome.instanceId);
    else if (outcome) alreadyStarted.push(outcome.instanceId);
  }
  return {
    plan: plan.name,
    occurrence: occurrence.toISOString(),
    started,
    alreadyStarted,
    ...(deferred.length > 0 ? { deferred } : {}),
    ...(failed.length > 0 ? { failed } : {}),
  };
}

/**
 * Starts one plan run of `instance` if the plan selects it; `undefined` when it does not.
 *
 * @throws Deferred when a backup of the instance runs.
 */
async function startPlanRun(
  plan: BackupPlan,
  occurrence: Date,
  vaultId: string,
  instance: BackupInstance,
  needsTags: boolean,
  deps: Pick<ApplicationDependencies, "provider" | "vaults">,
  orchestrations: OrchestrationPort,
): Promise<{ readonly started: boolean; readonly instanceId: string } | undefined> {
  const candidate = {
    name: instance.name,
    friendlyName: instance.friendlyName,
    protectionStatus: instance.protectionStatus,
    tags: needsTags ? await datasourceTags(deps.provider.directory, instance) : {},
  };
  if (!planSelects(plan, candidate)) return undefined;
  return startOnce(orchestrations, {
    name: orchestrationNames.adhocBackup,
    instanceId: planRunInstanceId(plan.name, instance.name, occurrence),
    // Whatever became of it: an occurrence runs once, and the next occurrence is the retry.
    stands: () => true,
    input: async () => {
      // The weekly limit is the orchestration's, which skips it (see planRunInput).
      const admission = await backupAdmission(deps.provider.backup, vaultId, instance, occurrence, {
        weeklyLimit: false,
      });
      if (!admission.admitted && admission.reason === "running")
        throw new Deferred(admission.running.name);
      return planRunInput(plan, vaultId, instance.name);
    },
  });
}

/**
 * Runs every plan with an occurrence due at `now`. A plan that fails (unknown vault, provider
 * down) is reported and the others still run; the next tick tries it again.
 */
export async function runPlans(
  plans: readonly BackupPlan[],
  now: Date,
  deps: Pick<ApplicationDependencies, "provider" | "vaults">,
  orchestrations: OrchestrationPort,
): Promise<PlanRun[]> {
  const runs: PlanRun[] = [];
  for (const plan of plans) {
    const occurrence = dueOccurrence(plan, now);
    if (!occurrence) {
      runs.push({ plan: plan.name, started: [], alreadyStarted: [] });
      continue;
    }
    try {
      runs.push(await runPlan(plan, occurrence, deps, orchestrations));
    } catch (error) {
      runs.push({
        plan: plan.name,
        occurrence: occurrence.toISOString(),
        started: [],
        alreadyStarted: [],
        error: (error as Error).message,
      });
    }
  }
  return runs;
}
