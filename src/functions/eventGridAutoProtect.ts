/**
 * `eventGridAutoProtect`: protects PostgreSQL servers and databases when they are written with the
 * auto-protect tag (see `application/autoProtect.ts`). Event Grid delivers
 * `Microsoft.Resources.ResourceWriteSuccess` from the subscription's system topic in Azure, and
 * from the local runtime's `resources` topic locally (see `timerLocalResourceEvents`).
 */
import { app, type InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import {
  autoProtectEvent,
  type AutoProtectDependencies,
  type AutoProtectOutcome,
} from "../application/autoProtect.js";
import { appDependencies } from "../composition.js";
import { durableOrchestrations, type DurableStarter } from "../http/durableStatus.js";
import { invocationLogger } from "../observability/functionsLogger.js";
import { logEvents } from "../observability/logEvents.js";

/** Handles one delivered event and logs what was done; a failure throws, so Event Grid redelivers. */
export async function autoProtect(
  event: unknown,
  context: InvocationContext,
  client: DurableStarter,
  deps: AutoProtectDependencies,
): Promise<AutoProtectOutcome> {
  const outcome = await autoProtectEvent(event, deps, durableOrchestrations(client));
  const id = (event as { id?: unknown } | null)?.id;
  const cloudEventId = typeof id === "string" ? id : "(no id)";
  const log = invocationLogger(context);
  if (outcome.action === "ignored")
    log.emit(logEvents.autoProtectIgnored, { cloudEventId, reason: outcome.reason });
  else if (outcome.action === "existing")
    log
      .with({ operationId: outcome.instanceId })
      .emit(logEvents.autoProtectExisting, { cloudEventId, status: outcome.status });
  else
    log.with({ operationId: outcome.instanceId }).emit(logEvents.autoProtectStarted, {
      cloudEventId,
      datasourceId: outcome.request.datasourceId,
      policyName: outcome.request.policyName,
    });
  return outcome;
}

app.eventGrid<unknown>("eventGridAutoProtect", {
  extraInputs: [df.input.durableClient()],
  handler: async (event, context) => {
    await autoProtect(event, context, df.getClient(context), await appDependencies());
  },
});
