import { app, type InvocationContext, type Timer } from "@azure/functions";
import * as df from "durable-functions";
import { appDependencies } from "../composition.js";
import { jobWatcherInstanceId } from "../domain/protection/operationIds.js";
import { hasFinished, startOnce } from "../application/orchestrationPort.js";
import { configuredVaultIds, coveredVaultIds } from "../application/vaults.js";
import { durableOrchestrations, findInstance } from "../http/durableStatus.js";
import type {
  JobWatcherInput,
  JobWatcherOutput,
  JobWatcherState,
} from "../orchestrations/jobWatcher.js";
import { orchestrationNames } from "../orchestrations/names.js";

/** Every minute, at second 0. */
export const watchJobsSchedule = "0 * * * * *";

/** The one instance id every pass of the job watcher runs under. */
export { jobWatcherInstanceId };

/** What a tick did. */
export type WatchJobsTick =
  | { readonly action: "started"; readonly input: JobWatcherInput }
  | { readonly action: "skipped"; readonly reason: string };

/** The vaults to watch from the settings alone (see `application/vaults.ts`). */
export const watchedVaultIds = configuredVaultIds;

/** The state a finished pass leaves for the next: its output, or, after a failed pass, the state it was given. */
function stateAfter(status: df.DurableOrchestrationStatus): JobWatcherState | undefined {
  if (status.runtimeStatus === "Completed") {
    const output = status.output as JobWatcherOutput | null | undefined;
    if (output?.watermark) return { watermark: output.watermark, seen: output.seen ?? [] };
  }
  return (status.input as JobWatcherInput | null | undefined)?.state;
}

/**
 * Starts the next pass of the job watcher unless one is still running. Each pass gets the
 * previous pass's state (watermark and recently published job states) from the task hub.
 */
export async function watchJobs(
  client: Pick<df.DurableClient, "getStatus" | "startNew">,
  vaultIds: readonly string[],
): Promise<WatchJobsTick> {
  if (vaultIds.length === 0)
    return { action: "skipped", reason: "no vault is configured (BACKUP_VAULT_IDS)" };
  let input: JobWatcherInput | undefined;
  // One pass at a time: a running one, or one a concurrent tick started, is left alone.
  const outcome = await startOnce(durableOrchestrations(client), {
    name: orchestrationNames.jobWatcher,
    instanceId: jobWatcherInstanceId,
    stands: (status) => !hasFinished(status),
    input: async () => {
      const previous = await findInstance(client, jobWatcherInstanceId);
      const state = previous ? stateAfter(previous) : undefined;
      input = { vaultIds, ...(state ? { state } : {}) };
      return input;
    },
  });
  if (!outcome.started)
    return { action: "skipped", reason: `the previous pass is ${outcome.status.runtimeStatus}` };
  return { action: "started", input: input ?? { vaultIds } };
}

app.timer("timerWatchJobs", {
  schedule: watchJobsSchedule,
  extraInputs: [df.input.durableClient()],
  handler: async (_timer: Timer, context: InvocationContext) => {
    const deps = await appDependencies();
    const tick = await watchJobs(df.getClient(context), await coveredVaultIds(deps));
    if (tick.action === "skipped") context.debug(`Job watcher: ${tick.reason}`);
  },
});
