import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { appConfig } from "../config.js";
import { compilePolicySpec } from "../domain/policy/spec.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";
import { readJson } from "../http/requestBody.js";

/** `POST /api/policies/compile`: a short policy spec in, the full policy JSON out (400 with paths when invalid). */
export async function compilePolicy(
  request: HttpRequest,
  _context: InvocationContext,
): Promise<HttpResponseInit> {
  authorize(request, "Backup.Reader", appConfig().WEBSITE_AUTH_ENABLED);
  return json(200, compilePolicySpec(await readJson(request)));
}

app.http("compilePolicy", {
  route: "policies/compile",
  methods: ["POST"],
  authLevel: "function",
  handler: withProblemDetails(compilePolicy),
});
