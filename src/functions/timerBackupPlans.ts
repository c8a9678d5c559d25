/**
 * `timerBackupPlans`: runs the backup plans of `BACKUP_PLANS` (see `domain/plans/plans.ts`).
 *
 * @remarks One timer, every five minutes, evaluates every plan's schedule itself rather than one
 * timer per plan: plans then change with the setting alone (no function appears or disappears),
 * calendar refinements such as "last business day of the month" that NCRONTAB cannot express are
 * applied to exact occurrences, and an occurrence missed while the app was down still runs within
 * the plan's catch-up window. Each occurrence starts `adhocBackup` per selected instance under an
 * id made of plan, instance and occurrence time, so the five-minute ticks that see the same
 * occurrence, or a timer fired again, start it once.
 */
import { app, type InvocationContext, type Timer } from "@azure/functions";
import * as df from "durable-functions";
import { appDependencies, type AppDependencies } from "../composition.js";
import { isAppError } from "../domain/errors.js";
import {
  dueOccurrence,
  parseBackupPlans,
  planRunInstanceId,
  planSelects,
  type BackupPlan,
} from "../domain/plans/plans.js";
import type { BackupInstance } from "../domain/protection/types.js";
import { findInstance } from "../http/durableStatus.js";
import type { AdhocBackupInput } from "../orchestrations/adhocBackup.js";
import { orchestrationNames } from "../orchestrations/names.js";
import type { Provider } from "../providers/ports.js";

/** Every five minutes, at second 0. */
export const backupPlansSchedule = "0 */5 * * * *";

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
  deps: Pick<AppDependencies, "provider" | "vaults">,
  client: Pick<df.DurableClient, "getStatus" | "startNew">,
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
    const instanceId = planRunInstanceId(plan.name, instance.name, occurrence);
    if (await findInstance(client as df.DurableClient, instanceId)) {
      alreadyStarted.push(instanceId);
      continue;
    }
    const [running] = await deps.provider.backup.listJobs(vaultId, {
      backupInstanceName: instance.name,
      operation: ["OnDemandBackup", "ScheduledBackup"],
      status: ["InProgress"],
    });
    if (running) {
      deferred.push({ backupInstanceName: instance.name, runningJob: running.name });
      continue;
    }
    const input: AdhocBackupInput = {
      vaultId,
      backupInstanceName: instance.name,
      ruleName: plan.ruleName,
      ...(plan.retentionTagOverride ? { retentionTagOverride: plan.retentionTagOverride } : {}),
      // A plan must not fail because the service's weekly limit was already used this week.
      whenWeeklyLimitReached: "skip",
      // One that started since the check above ends Skipped, naming the running job.
      whenBackupRunning: "skip",
      requestedBy: `plan:${plan.name}`,
    };
    await client.startNew(orchestrationNames.adhocBackup, { instanceId, input });
    started.push(instanceId);
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
export async function runBackupPlans(
  plans: readonly BackupPlan[],
  now: Date,
  deps: Pick<AppDependencies, "provider" | "vaults">,
  client: Pick<df.DurableClient, "getStatus" | "startNew">,
): Promise<PlanRun[]> {
  const runs: PlanRun[] = [];
  for (const plan of plans) {
    const occurrence = dueOccurrence(plan, now);
    if (!occurrence) {
      runs.push({ plan: plan.name, started: [], alreadyStarted: [] });
      continue;
    }
    try {
      runs.push(await runPlan(plan, occurrence, deps, client));
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

app.timer("timerBackupPlans", {
  schedule: backupPlansSchedule,
  extraInputs: [df.input.durableClient()],
  handler: async (_timer: Timer, context: InvocationContext) => {
    const deps = await appDependencies();
    const plans = deps.config.BACKUP_PLANS ? parseBackupPlans(deps.config.BACKUP_PLANS) : [];
    if (plans.length === 0) return;
    for (const run of await runBackupPlans(plans, new Date(), deps, df.getClient(context))) {
      if (run.error)
        context.error(`Backup plan ${run.plan} (${run.occurrence}) failed: ${run.error}`);
      else if (run.started.length > 0)
        context.log(
          `Backup plan ${run.plan} (${run.occurrence}) started ${run.started.join(", ")}`,
        );
      for (const wait of run.deferred ?? [])
        context.log(
          `Backup plan ${run.plan} (${run.occurrence}) deferred ${wait.backupInstanceName}: its backup job ${wait.runningJob} runs; a later tick within the catch-up window starts it`,
        );
    }
  },
});
