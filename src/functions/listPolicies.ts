import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { appDependencies } from "../composition.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";

/** `GET /api/vaults/{vault}/policies`: the vault's backup policies. */
export async function listPolicies(
  request: HttpRequest,
  _context: InvocationContext,
): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  authorize(request, "Backup.Reader", deps.config.WEBSITE_AUTH_ENABLED);
  const vaultId = deps.vaults.resolve(request.params.vault);
  const policies = await deps.provider.backup.listPolicies(vaultId);
  return json(200, {
    value: [...policies].sort((a, b) => (a.name ?? "").localeCompare(b.name ?? "")),
  });
}

app.http("listPolicies", {
  route: "vaults/{vault}/policies",
  methods: ["GET"],
  authLevel: "function",
  handler: withProblemDetails(listPolicies),
});
