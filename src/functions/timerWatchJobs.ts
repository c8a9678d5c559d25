import { app, type InvocationContext, type Timer } from "@azure/functions";
import * as df from "durable-functions";
import { appDependencies, type AppDependencies } from "../composition.js";
import { isAppError } from "../domain/errors.js";
import { findInstance, finishedStates } from "../http/durableStatus.js";
import type {
  JobWatcherInput,
  JobWatcherOutput,
  JobWatcherState,
} from "../orchestrations/jobWatcher.js";
import { orchestrationNames } from "../orchestrations/names.js";

/** Every minute, at second 0. */
export const watchJobsSchedule = "0 * * * * *";

/** The one instance id every pass of the job watcher runs under. */
export const jobWatcherInstanceId = "pgprotect-job-watcher";

/** What a tick did. */
export type WatchJobsTick =
  | { readonly action: "started"; readonly input: JobWatcherInput }
  | { readonly action: "skipped"; readonly reason: string };

/** The vaults to watch: the configured ones, or the local provider's default vault. */
export function watchedVaultIds(vaults: AppDependencies["vaults"]): string[] {
  if (vaults.ids.length > 0) return [...vaults.ids];
  try {
    return [vaults.resolve()];
  } catch (error) {
    if (isAppError(error) && error.httpStatus === 404) return [];
    throw error;
  }
}

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
  const previous = await findInstance(client as df.DurableClient, jobWatcherInstanceId);
  if (previous && !finishedStates.includes(previous.runtimeStatus)) {
    return { action: "skipped", reason: `the previous pass is ${previous.runtimeStatus}` };
  }
  const state = previous ? stateAfter(previous) : undefined;
  const input: JobWatcherInput = { vaultIds, ...(state ? { state } : {}) };
  try {
    await client.startNew(orchestrationNames.jobWatcher, {
      instanceId: jobWatcherInstanceId,
      input,
    });
  } catch (error) {
    // Two ticks racing: the other one started this pass.
    if (error instanceof Error && /already exists|HTTP 409/i.test(error.message)) {
      return { action: "skipped", reason: "another tick started the pass" };
    }
    throw error;
  }
  return { action: "started", input };
}

app.timer("timerWatchJobs", {
  schedule: watchJobsSchedule,
  extraInputs: [df.input.durableClient()],
  handler: async (_timer: Timer, context: InvocationContext) => {
    const deps = await appDependencies();
    const tick = await watchJobs(df.getClient(context), watchedVaultIds(deps.vaults));
    if (tick.action === "skipped") context.debug(`Job watcher: ${tick.reason}`);
  },
});
