import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { getPolicy as readPolicy } from "../application/policies.js";
import { appDependencies } from "../composition.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";

/** `GET /api/vaults/{vault}/policies/{name}`: a backup policy as the service keeps it. */
export async function getPolicy(
  request: HttpRequest,
  _context: InvocationContext,
): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  authorize(request, "Backup.Reader", deps.config.WEBSITE_AUTH_ENABLED);
  return json(200, await readPolicy(deps, request.params.vault, request.params.name ?? ""));
}

app.http("getPolicy", {
  route: "vaults/{vault}/policies/{name}",
  methods: ["GET"],
  authLevel: "function",
  handler: withProblemDetails(getPolicy),
});
