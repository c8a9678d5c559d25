/**
 * `timerRestoreDrills`: every five minutes, drops scratch targets that drills cut off by a crash
 * left behind (when the drill history shows a drill that may have left one), and starts the
 * restore drills of `DRILL_SCHEDULES` that are due (see `application/drills.ts`); the schedules
 * are parsed once per process.
 */
import { app, type InvocationContext, type Timer } from "@azure/functions";
import * as df from "durable-functions";
import { drillScheduleSettings, runDrillTick } from "../application/drills.js";
import { appDependencies } from "../composition.js";
import { durableOrchestrations } from "../http/durableStatus.js";
import { invocationLogger } from "../observability/functionsLogger.js";
import { logEvents } from "../observability/logEvents.js";

/** Every five minutes, at second 30 (the backup plans run at second 0). */
export const restoreDrillsSchedule = "30 */5 * * * *";

app.timer("timerRestoreDrills", {
  schedule: restoreDrillsSchedule,
  extraInputs: [df.input.durableClient()],
  handler: async (_timer: Timer, context: InvocationContext) => {
    const deps = await appDependencies();
    if (!deps.provider.drills) return;
    const { schedules, plans } = drillScheduleSettings(deps.config);
    const log = invocationLogger(context);
    const orchestrations = durableOrchestrations(() => df.getClient(context));
    const tick = await runDrillTick(schedules, plans, new Date(), deps, orchestrations);
    for (const { drill, runtimeStatus } of tick.abandoned) {
      const { id: drillId, backupInstanceName } = drill;
      log.emit(logEvents.drillAbandoned, { drillId, backupInstanceName, runtimeStatus });
    }
    for (const scratchTarget of tick.leftoversRemoved)
      log.emit(logEvents.drillLeftoverRemoved, { scratchTarget });
    if (tick.sweepError) log.emit(logEvents.drillSweepFailed, { errorMessage: tick.sweepError });
    for (const run of tick.runs) {
      const at = { schedule: run.schedule, occurrence: run.occurrence };
      if (run.error) log.emit(logEvents.drillScheduleFailed, { ...at, errorMessage: run.error });
      else if (run.started.length > 0)
        log.emit(logEvents.drillScheduleStarted, { ...at, drillIds: run.started });
    }
  },
});
