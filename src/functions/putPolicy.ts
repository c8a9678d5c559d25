import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { createPolicy } from "../application/policies.js";
import { appDependencies } from "../composition.js";
import { json, withProblemDetails } from "../http/handler.js";
import { policyFromBody } from "../http/policyRequests.js";
import { authorize } from "../http/principal.js";
import { readJson } from "../http/requestBody.js";

/**
 * `PUT /api/vaults/{vault}/policies/{name}`: creates a backup policy from its JSON or from a short
 * spec (`{ "spec": ... }`) in an existing vault (an unknown vault is a 404: a policy never creates
 * one). 201 when created; 200 when the same policy exists already. Names ignore case, as in Azure:
 * `WEEKLY` is the policy `weekly`. Policies cannot be modified in place: a different policy under
 * an existing name is a 409 that says to create a new policy and reassign the backup instances.
 */
export async function putPolicy(
  request: HttpRequest,
  _context: InvocationContext,
): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  authorize(request, "Backup.Operator", deps.config.WEBSITE_AUTH_ENABLED);
  const outcome = await createPolicy(
    deps,
    request.params.vault ?? "",
    request.params.name ?? "",
    async () => policyFromBody(await readJson(request)),
  );
  if (!outcome.created) return json(200, outcome.policy);
  const location = new URL(
    `/api/vaults/${encodeURIComponent(outcome.vaultName)}/policies/${encodeURIComponent(outcome.name)}`,
    request.url,
  ).toString();
  return json(201, outcome.policy, { location });
}

app.http("putPolicy", {
  route: "vaults/{vault}/policies/{name}",
  methods: ["PUT"],
  authLevel: "function",
  handler: withProblemDetails(putPolicy),
});
