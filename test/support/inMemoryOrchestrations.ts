/**
 * An {@link OrchestrationPort} held in memory, with the rule Durable Functions applies: a start
 * under an id whose instance has not finished fails; a finished one is replaced.
 */
import {
  hasFinished,
  type OrchestrationPort,
  type OrchestrationStatus,
} from "../../src/application/orchestrationPort.js";

/** Orchestrations in memory, with what was started, in order. */
export class InMemoryOrchestrations implements OrchestrationPort {
  readonly instances = new Map<string, OrchestrationStatus>();
  readonly started: { name: string; instanceId: string; input: unknown }[] = [];

  constructor(existing: Record<string, Partial<OrchestrationStatus>> = {}) {
    for (const [id, status] of Object.entries(existing)) this.put(id, status);
  }

  /** Records an instance, as if it had run until `status`. */
  put(instanceId: string, status: Partial<OrchestrationStatus>): void {
    const at = new Date(0).toISOString();
    this.instances.set(instanceId, {
      name: "orchestration",
      runtimeStatus: "Running",
      createdTime: at,
      lastUpdatedTime: at,
      ...status,
    });
  }

  async start(name: string, instanceId: string, input: unknown): Promise<void> {
    const current = this.instances.get(instanceId);
    if (current && !hasFinished(current))
      throw new Error(
        `An instance with ID '${instanceId}' already exists and is ${current.runtimeStatus}`,
      );
    this.put(instanceId, { name, runtimeStatus: "Pending", input });
    this.started.push({ name, instanceId, input });
  }

  async status(instanceId: string): Promise<OrchestrationStatus | undefined> {
    return this.instances.get(instanceId);
  }
}
