import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { appConfig } from "../config.js";
import { whatIf } from "../domain/policy/simulation.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";
import { simulatePolicyBody } from "../http/policyRequests.js";
import { readBody } from "../http/requestBody.js";

/**
 * `POST /api/policies/simulate`: what-if for a policy over a window: every scheduled backup with
 * its tag, retention rule, archive and deletion times, a storage estimate, and optionally the
 * recovery points that exist at an instant.
 */
export async function simulatePolicy(
  request: HttpRequest,
  _context: InvocationContext,
): Promise<HttpResponseInit> {
  authorize(request, "Backup.Reader", appConfig().WEBSITE_AUTH_ENABLED);
  const body = await readBody(request, simulatePolicyBody);
  const answer = whatIf({
    policy: body.policy,
    from: body.from,
    to: body.to,
    ...(body.sizeGb !== undefined ? { sizeGb: body.sizeGb } : {}),
    ...(body.monthlyGrowth !== undefined ? { monthlyGrowth: body.monthlyGrowth } : {}),
    ...(body.at !== undefined ? { at: body.at } : {}),
  });
  return json(200, answer.json);
}

app.http("simulatePolicy", {
  route: "policies/simulate",
  methods: ["POST"],
  authLevel: "function",
  handler: withProblemDetails(simulatePolicy),
});
