import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { listPolicies as policiesOf } from "../application/policies.js";
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
  return json(200, { value: await policiesOf(deps, request.params.vault) });
}

app.http("listPolicies", {
  route: "vaults/{vault}/policies",
  methods: ["GET"],
  authLevel: "function",
  handler: withProblemDetails(listPolicies),
});
