/**
 * `timerBackupPlans`: runs the backup plans of `BACKUP_PLANS` every five minutes (see
 * `application/backupPlans.ts`).
 */
import { app, type InvocationContext, type Timer } from "@azure/functions";
import * as df from "durable-functions";
import { runPlans, type PlanRun } from "../application/backupPlans.js";
import { appDependencies, type AppDependencies } from "../composition.js";
import { parseBackupPlans, type BackupPlan } from "../domain/plans/plans.js";
import { durableOrchestrations, type DurableStarter } from "../http/durableStatus.js";
import { invocationLogger } from "../observability/functionsLogger.js";
import { logEvents } from "../observability/logEvents.js";

/** Every five minutes, at second 0. */
export const backupPlansSchedule = "0 */5 * * * *";

/** Runs every plan with an occurrence due at `now` through a trigger's Durable client. */
export function runBackupPlans(
  plans: readonly BackupPlan[],
  now: Date,
  deps: Pick<AppDependencies, "provider" | "vaults">,
  client: DurableStarter,
): Promise<PlanRun[]> {
  return runPlans(plans, now, deps, durableOrchestrations(client));
}

app.timer("timerBackupPlans", {
  schedule: backupPlansSchedule,
  extraInputs: [df.input.durableClient()],
  handler: async (_timer: Timer, context: InvocationContext) => {
    const deps = await appDependencies();
    const plans = deps.config.BACKUP_PLANS ? parseBackupPlans(deps.config.BACKUP_PLANS) : [];
    if (plans.length === 0) return;
    const log = invocationLogger(context);
    for (const run of await runBackupPlans(plans, new Date(), deps, df.getClient(context))) {
      const plan = { plan: run.plan, occurrence: run.occurrence };
      if (run.error) log.emit(logEvents.planFailed, { ...plan, errorMessage: run.error });
      else if (run.started.length > 0)
        log.emit(logEvents.planStarted, { ...plan, operationIds: run.started });
      for (const failure of run.failed ?? [])
        log.emit(logEvents.planInstanceFailed, {
          ...plan,
          backupInstanceName: failure.backupInstanceName,
          errorMessage: failure.error,
        });
      for (const wait of run.deferred ?? [])
        log.emit(logEvents.planDeferred, {
          ...plan,
          backupInstanceName: wait.backupInstanceName,
          runningJob: wait.runningJob,
        });
    }
  },
});
