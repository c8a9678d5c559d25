import { app, type InvocationContext, type Timer } from "@azure/functions";
import { runLocalSchedule } from "../application/localSchedule.js";
import { appDependencies } from "../composition.js";
import { appConfig } from "../config.js";

/**
 * Runs the local provider's policy schedules once a minute. In Azure the service does this
 * itself, so the timer does nothing there.
 */
export async function timerLocalSchedule(_timer: Timer, context: InvocationContext): Promise<void> {
  if (appConfig().PGPROTECT_PROVIDER !== "local") return;
  const report = await runLocalSchedule((await appDependencies()).provider);
  for (const line of report?.lines ?? []) context.log(line);
  for (const warning of report?.warnings ?? []) context.warn(warning);
}

app.timer("timerLocalSchedule", {
  schedule: "0 * * * * *",
  handler: timerLocalSchedule,
});
