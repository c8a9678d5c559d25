/** `GET /api/drills/{id}`: one restore drill, running or ended (the status URL of a drill). */
import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import * as df from "durable-functions";
import { showDrillState } from "../application/drills.js";
import { appDependencies } from "../composition.js";
import { drillView } from "../http/drillRequests.js";
import { durableOrchestrations } from "../http/durableStatus.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";

/** Answers the drill. */
export async function getDrill(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  authorize(request, "Backup.Reader", deps.config.WEBSITE_AUTH_ENABLED);
  const orchestrations = durableOrchestrations(() => df.getClient(context));
  const { drill, state } = await showDrillState(deps, orchestrations, request.params.id ?? "");
  return json(200, drillView(drill, request.url, state));
}

app.http("getDrill", {
  route: "drills/{id}",
  methods: ["GET"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: withProblemDetails(getDrill),
});
