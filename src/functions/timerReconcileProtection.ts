/**
 * `timerReconcileProtection`: protects what is tagged and unprotected, and reports overdue
 * backups (see `application/reconcile.ts`). Runs on `RECONCILE_PROTECTION_SCHEDULE` (hourly by
 * default).
 */
import { app, type InvocationContext, type Timer } from "@azure/functions";
import * as df from "durable-functions";
import {
  logReconcileReport,
  reconcile,
  type ReconcileDependencies,
  type ReconcileReport,
} from "../application/reconcile.js";
import { appDependencies } from "../composition.js";
import { loadConfig } from "../config.js";
import { isAppError } from "../domain/errors.js";
import { durableOrchestrations, type DurableStarter } from "../http/durableStatus.js";
import { invocationLogger } from "../observability/functionsLogger.js";

/** The reconciliation's schedule when the setting is unreadable. */
const defaultReconcileSchedule = "0 30 * * * *";

/** One reconciliation through a trigger's Durable client. */
export function reconcileProtection(
  deps: ReconcileDependencies,
  client: DurableStarter,
  now: Date,
): Promise<ReconcileReport> {
  return reconcile(deps, durableOrchestrations(client), now);
}

function reconcileSchedule(): string {
  try {
    return loadConfig().RECONCILE_PROTECTION_SCHEDULE;
  } catch (error) {
    // Bad settings fail the host at start (index.ts); the schedule falls back meanwhile.
    if (isAppError(error)) return defaultReconcileSchedule;
    throw error;
  }
}

app.timer("timerReconcileProtection", {
  schedule: reconcileSchedule(),
  extraInputs: [df.input.durableClient()],
  handler: async (_timer: Timer, context: InvocationContext) => {
    const report = await reconcileProtection(
      await appDependencies(),
      df.getClient(context),
      new Date(),
    );
    logReconcileReport(invocationLogger(context), report);
  },
});
