import { app, type InvocationContext, type Timer } from "@azure/functions";
import { runLocalSchedule } from "../application/localSchedule.js";
import { appDependencies } from "../composition.js";
import { appConfig } from "../config.js";
import { invocationLogger } from "../observability/functionsLogger.js";
import { logEvents } from "../observability/logEvents.js";

/**
 * Runs the local provider's policy schedules once a minute. In Azure the service does this
 * itself, so the timer does nothing there.
 */
export async function timerLocalSchedule(_timer: Timer, context: InvocationContext): Promise<void> {
  if (appConfig().PGPROTECT_PROVIDER !== "local") return;
  const report = await runLocalSchedule((await appDependencies()).localSchedule);
  const log = invocationLogger(context);
  for (const line of report?.lines ?? []) log.emit(logEvents.localScheduleRan, { line });
  for (const line of report?.warnings ?? []) log.emit(logEvents.localScheduleWarning, { line });
}

app.timer("timerLocalSchedule", {
  schedule: "0 * * * * *",
  handler: timerLocalSchedule,
});
