/** `GET /api/drills/{id}`: one restore drill, running or ended (the status URL of a drill). */
import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { showDrill } from "../application/drills.js";
import { appDependencies } from "../composition.js";
import { drillView } from "../http/drillRequests.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";

/** Answers the drill. */
export async function getDrill(
  request: HttpRequest,
  _context: InvocationContext,
): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  authorize(request, "Backup.Reader", deps.config.WEBSITE_AUTH_ENABLED);
  const drill = await showDrill(deps, request.params.id ?? "");
  return json(200, drillView(drill, request.url));
}

app.http("getDrill", {
  route: "drills/{id}",
  methods: ["GET"],
  authLevel: "function",
  handler: withProblemDetails(getDrill),
});
