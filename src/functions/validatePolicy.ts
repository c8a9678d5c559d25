import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { appConfig } from "../config.js";
import { reportValidation, validatePolicy as validate } from "../domain/policy/validation.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";
import { readJson } from "../http/requestBody.js";

/**
 * `POST /api/policies/validate`: checks a policy (bare or a policy resource) against the
 * service's rules. Always 200 with `{valid, problems, problemCount}`: an invalid policy is an
 * answer, not an error. `problems` lists the first 100 (`problemsTruncated` says when there are more).
 */
export async function validatePolicy(
  request: HttpRequest,
  _context: InvocationContext,
): Promise<HttpResponseInit> {
  authorize(request, "Backup.Reader", appConfig().WEBSITE_AUTH_ENABLED);
  return json(200, reportValidation(validate(await readJson(request))));
}

app.http("validatePolicy", {
  route: "policies/validate",
  methods: ["POST"],
  authLevel: "function",
  handler: withProblemDetails(validatePolicy),
});
