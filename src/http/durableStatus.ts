/** Reading orchestration state through the Durable client, with "not found" as a value. */
import type { DurableClient, DurableOrchestrationStatus } from "durable-functions";

/**
 * The status of an orchestration instance, or undefined when there is none.
 *
 * @remarks The client reports a missing instance by throwing on the extension's 404.
 */
export async function findInstance(
  client: DurableClient,
  instanceId: string,
  options: { showHistory?: boolean } = {},
): Promise<DurableOrchestrationStatus | undefined> {
  try {
    return await client.getStatus(instanceId, { showInput: true, ...options });
  } catch (error) {
    if (error instanceof Error && /HTTP 404/.test(error.message)) return undefined;
    throw error;
  }
}

/** Runtime states after which a new run of the same instance id may start. */
export const finishedStates: readonly string[] = ["Completed", "Failed", "Terminated", "Canceled"];
