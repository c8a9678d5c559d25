import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { appConfig } from "../config.js";
import { defaultPolicyTemplate } from "../domain/policy/template.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";

/** `GET /api/policies/template?datasourceType=...`: the service's default policy for a datasource kind. */
export async function getPolicyTemplate(
  request: HttpRequest,
  _context: InvocationContext,
): Promise<HttpResponseInit> {
  authorize(request, "Backup.Reader", appConfig().WEBSITE_AUTH_ENABLED);
  const kind = request.query.get("datasourceType") ?? "AzureDatabaseForPostgreSQLFlexibleServer";
  return json(200, defaultPolicyTemplate(kind));
}

app.http("getPolicyTemplate", {
  route: "policies/template",
  methods: ["GET"],
  authLevel: "function",
  handler: withProblemDetails(getPolicyTemplate),
});
