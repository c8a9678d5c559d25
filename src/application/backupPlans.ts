/**
 * The user story "run the backup plans" of `BACKUP_PLANS` (see `domain/plans/plans.ts`).
 *
 * @remarks One tick evaluates every plan's schedule itself rather than one timer per plan: plans
 * then change with the setting alone, calendar refinements that NCRONTAB cannot express are
 * applied to exact occurrences, and an occurrence missed while the app was down still runs within
 * the plan's catch-up window. Each occurrence starts `adhocBackup` per selected instance once,
 * under an id made of plan, instance and occurrence time.
 */
import { isAppError } from "../domain/errors.js";
import { dueOccurrence, planSelects, type BackupPlan } from "../domain/plans/plans.js";
import { planRunInstanceId } from "../domain/protection/operationIds.js";
import type { BackupInstance } from "../domain/protection/types.js";
import type { AdhocBackupInput } from "../orchestrations/adhocBackup.js";
import { orchestrationNames } from "../orchestrations/names.js";
import type { Provider } from "../providers/ports.js";
import { backupAdmission } from "./backupAdmission.js";
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
  readonly error?: string;
}

async function tagsOf(
  directory: Provider["directory"],
  instance: BackupInstance,
): Promise<Readonly<Record<string, string>>> {
  try {
    return await directory.getTags(instance.dataSourceInfo.resourceId);
  } catch (error) {
    // A datasource that is gone has no tags to select it by.
    if (isAppError(error) && error.httpStatus === 404) return {};
    throw error;
  }
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
  for (const instance of await deps.provider.backup.listBackupInstances(vaultId)) {
    const candidate = {
      name: instance.name,
      friendlyName: instance.friendlyName,
      protectionStatus: instance.protectionStatus,
      tags: needsTags ? await tagsOf(deps.provider.directory, instance) : {},
    };
    if (!planSelects(plan, candidate)) continue;
    const outcome = await startOnce(orchestrations, {
      name: orchestrationNames.adhocBackup,
      instanceId: planRunInstanceId(plan.name, instance.name, occurrence),
      // Whatever became of it: an occurrence runs once, and the next occurrence is the retry.
      stands: () => true,
      input: async () => {
        // The weekly limit is the orchestration's, which skips it (see planRunInput).
        const admission = await backupAdmission(
          deps.provider.backup,
          vaultId,
          instance,
          occurrence,
          {
            weeklyLimit: false,
          },
        );
        if (!admission.admitted && admission.reason === "running")
          throw new Deferred(admission.running.name);
        return planRunInput(plan, vaultId, instance.name);
      },
    }).catch((error: unknown) => {
      if (!(error instanceof Deferred)) throw error;
      deferred.push({ backupInstanceName: instance.name, runningJob: error.runningJob });
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
  };
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
