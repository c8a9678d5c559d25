/**
 * The {@link OrchestrationPort} over the Durable Functions client, and reading an instance with
 * "not found" as a value.
 */
import type { DurableClient, DurableOrchestrationStatus } from "durable-functions";
import type { OrchestrationPort, OrchestrationStatus } from "../application/orchestrationPort.js";

/**
 * The status of an orchestration instance, or undefined when there is none.
 *
 * @remarks The client reports a missing instance by throwing on the extension's 404.
 */
export async function findInstance(
  client: Pick<DurableClient, "getStatus">,
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

/** The Durable client calls the {@link OrchestrationPort} makes. */
export type DurableStarter = Pick<DurableClient, "getStatus" | "startNew">;

/**
 * The orchestrations a use case starts and reads, through a trigger's Durable client.
 *
 * @param client - the client, or how to get it: a trigger passes `() => df.getClient(context)` so
 * a request refused before any orchestration is touched never needs the binding.
 */
export function durableOrchestrations(
  client: DurableStarter | (() => DurableStarter),
): OrchestrationPort {
  const durable = typeof client === "function" ? client : () => client;
  return {
    async start(name: string, instanceId: string, input: unknown): Promise<void> {
      await durable().startNew(name, { instanceId, input });
    },
    status: (instanceId: string): Promise<OrchestrationStatus | undefined> =>
      findInstance(durable(), instanceId),
  };
}
