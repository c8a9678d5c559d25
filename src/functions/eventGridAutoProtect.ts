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

/** Handles one delivered event and logs what was done; a failure throws, so Event Grid redelivers. */
export async function autoProtect(
  event: unknown,
  context: InvocationContext,
  client: DurableStarter,
  deps: AutoProtectDependencies,
): Promise<AutoProtectOutcome> {
  const outcome = await autoProtectEvent(event, deps, durableOrchestrations(client));
  const id = (event as { id?: unknown } | null)?.id;
  const label = `Event ${typeof id === "string" ? id : "(no id)"}`;
  if (outcome.action === "ignored") context.log(`${label} ignored: ${outcome.reason}`);
  else if (outcome.action === "existing")
    context.log(`${label}: protection ${outcome.instanceId} is already ${outcome.status}`);
  else
    context.log(
      `${label}: protecting ${outcome.request.datasourceId} with policy ${outcome.request.policyName} (${outcome.instanceId})`,
    );
  return outcome;
}

app.eventGrid<unknown>("eventGridAutoProtect", {
  extraInputs: [df.input.durableClient()],
  handler: async (event, context) => {
    await autoProtect(event, context, df.getClient(context), await appDependencies());
  },
});
