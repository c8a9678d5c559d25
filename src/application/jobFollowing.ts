/**
 * Starting the orchestration that follows a job the backup service runs already (an on-demand
 * backup, a restore), and naming why it did not start. A use case answers such a failure rather
 * than throwing it: the job runs whatever happens here, and asking again would start a second one.
 */
import type { OrchestrationPort } from "./orchestrationPort.js";

/** The orchestration that follows the job: its id, or why it did not start. */
export type JobFollowing =
  { readonly instanceId: string } | { readonly instanceId: null; readonly notFollowed: unknown };

/** Starts `name` under `instanceId` to follow a job already triggered; a failed start is answered. */
export async function startJobFollowing(
  orchestrations: OrchestrationPort,
  name: string,
  instanceId: string,
  input: unknown,
): Promise<JobFollowing> {
  try {
    await orchestrations.start(name, instanceId, input);
  } catch (error) {
    return { instanceId: null, notFollowed: error };
  }
  return { instanceId };
}

/** Why a job's orchestration did not start, as its log event names it. */
export function notFollowedReason(notFollowed: unknown): string {
  return notFollowed instanceof Error ? notFollowed.message : String(notFollowed);
}
