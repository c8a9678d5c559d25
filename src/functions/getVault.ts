import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { getVaultPosture } from "../application/vaultPosture.js";
import { appDependencies } from "../composition.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";

/** `GET /api/vaults/{name}`: one vault's security posture and its warnings. */
export async function getVault(
  request: HttpRequest,
  _context: InvocationContext,
): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  authorize(request, "Backup.Reader", deps.config.WEBSITE_AUTH_ENABLED);
  return json(200, await getVaultPosture(deps, request.params.name ?? ""));
}

app.http("getVault", {
  route: "vaults/{name}",
  methods: ["GET"],
  authLevel: "function",
  handler: withProblemDetails(getVault),
});
