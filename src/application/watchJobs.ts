/**
 * Watching jobs: one pass of the job watcher orchestration at a time, each given the state the
 * previous pass left (its watermark and the job states it published).
 */
import { jobWatcherInstanceId } from "../domain/protection/operationIds.js";
import type {
  JobWatcherInput,
  JobWatcherOutput,
  JobWatcherState,
} from "../orchestrations/jobWatcher.js";
import { orchestrationNames } from "../orchestrations/names.js";
import {
  hasFinished,
  startOnce,
  type OrchestrationPort,
  type OrchestrationStatus,
} from "./orchestrationPort.js";

/** Every minute, at second 0. */
export const watchJobsSchedule = "0 * * * * *";

/** What a tick did. */
export type WatchJobsTick =
  | { readonly action: "started"; readonly input: JobWatcherInput }
  | { readonly action: "skipped"; readonly reason: string };

/** The state a finished pass leaves for the next: its output, or, after a failed pass, the state it was given. */
function stateAfter(status: OrchestrationStatus): JobWatcherState | undefined {
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
  orchestrations: OrchestrationPort,
  vaultIds: readonly string[],
): Promise<WatchJobsTick> {
  if (vaultIds.length === 0)
    return { action: "skipped", reason: "no vault is configured (BACKUP_VAULT_IDS)" };
  let input: JobWatcherInput | undefined;
  // One pass at a time: a running one, or one a concurrent tick started, is left alone.
  const outcome = await startOnce(orchestrations, {
    name: orchestrationNames.jobWatcher,
    instanceId: jobWatcherInstanceId,
    stands: (status) => !hasFinished(status),
    input: async () => {
      const previous = await orchestrations.status(jobWatcherInstanceId);
      const state = previous ? stateAfter(previous) : undefined;
      input = { vaultIds, ...(state ? { state } : {}) };
      return input;
    },
  });
  if (!outcome.started)
    return { action: "skipped", reason: `the previous pass is ${outcome.status.runtimeStatus}` };
  return { action: "started", input: input ?? { vaultIds } };
}
