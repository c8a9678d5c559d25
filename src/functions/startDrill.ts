/**
 * `POST /api/backup-instances/{name}/drills[?vault=name]`: a restore drill now (see
 * `application/drills.ts`). Answers 202 with the drill's status URL.
 */
import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import * as df from "durable-functions";
import { startDrillNow } from "../application/drills.js";
import { appDependencies } from "../composition.js";
import { drillStatusUrl } from "../http/drillRequests.js";
import { durableOrchestrations } from "../http/durableStatus.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";
import { startedFrom } from "../observability/eventLogger.js";
import { invocationLogger } from "../observability/functionsLogger.js";

/** Starts the drill with the app's dependencies and Durable client. */
export async function startDrill(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  const requestedBy = authorize(request, "Backup.Operator", deps.config.WEBSITE_AUTH_ENABLED);
  const orchestrations = durableOrchestrations(() => df.getClient(context));
  const started = await startDrillNow(
    deps,
    orchestrations,
    {
      backupInstanceName: request.params.name ?? "",
      vaultName: request.query.get("vault") ?? undefined,
      requestedBy,
      correlation: startedFrom(invocationLogger(context)),
    },
    new Date(),
  );
  const statusUrl = drillStatusUrl(request.url, started.id);
  // The documented fields (schema DrillAccepted), not whatever else the use case answers.
  const { id, backupInstanceName, vaultName, scratchTarget } = started;
  return json(
    202,
    { id, backupInstanceName, vaultName, scratchTarget, statusUrl },
    { location: statusUrl },
  );
}

app.http("startDrill", {
  route: "backup-instances/{name}/drills",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: withProblemDetails(startDrill),
});
