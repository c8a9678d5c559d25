/** Reading orchestration state through the Durable client, with "not found" as a value. */
import type { DurableClient, DurableOrchestrationStatus } from "durable-functions";
import type { ProtectDatasourceOutput } from "../orchestrations/protectDatasource.js";
import type { ProtectServerOutput } from "../orchestrations/protectServer.js";

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

/**
 * Whether a `protectDatasource` instance is running or ended with the datasource protected (a
 * `protectServer` instance: with every database protected), so a new request answers it instead
 * of starting again; after a failure it may run again.
 */
export function protectionIsLiveOrSucceeded(
  status: DurableOrchestrationStatus | undefined,
): status is DurableOrchestrationStatus {
  if (!status || status.runtimeStatus === "Failed" || status.runtimeStatus === "Terminated") {
    return false;
  }
  // Expected failures end the orchestration normally, with the failure as its output.
  if (status.runtimeStatus !== "Completed") return true;
  const output = status.output as
    (Partial<ProtectDatasourceOutput> & Partial<ProtectServerOutput>) | null | undefined;
  // A server's run that left databases unprotected runs again: those already protected answer so.
  return (
    output?.outcome !== "Failed" &&
    !(output?.failed && output.failed.length > 0) &&
    !(output?.stuck && output.stuck.length > 0)
  );
}
