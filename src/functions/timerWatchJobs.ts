import { app, type InvocationContext, type Timer } from "@azure/functions";
import * as df from "durable-functions";
import { configuredVaultIds, coveredVaultIds } from "../application/vaults.js";
import { watchJobs as watchJobsWith, watchJobsSchedule } from "../application/watchJobs.js";
import { appDependencies } from "../composition.js";
import { jobWatcherInstanceId } from "../domain/protection/operationIds.js";
import { durableOrchestrations, type DurableStarter } from "../http/durableStatus.js";
import { invocationLogger } from "../observability/functionsLogger.js";
import { logEvents } from "../observability/logEvents.js";

/** The one instance id every pass of the job watcher runs under. */
export { jobWatcherInstanceId, watchJobsSchedule };

/** The vaults to watch from the settings alone (see `application/vaults.ts`). */
export const watchedVaultIds = configuredVaultIds;

/** Starts the next pass of the job watcher through a Durable client (see `application/watchJobs.ts`). */
export const watchJobs = (client: DurableStarter, vaultIds: readonly string[]) =>
  watchJobsWith(durableOrchestrations(client), vaultIds);

app.timer("timerWatchJobs", {
  schedule: watchJobsSchedule,
  extraInputs: [df.input.durableClient()],
  handler: async (_timer: Timer, context: InvocationContext) => {
    const deps = await appDependencies();
    const tick = await watchJobs(df.getClient(context), await coveredVaultIds(deps));
    if (tick.action === "skipped")
      invocationLogger(context).emit(logEvents.jobWatcherSkipped, { reason: tick.reason });
  },
});
