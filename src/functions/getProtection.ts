/**
 * `GET /api/protections/{id}`: the steps done, the current one, and on failure the service's
 * error code with a recommended action; for a server's databases, the progress and the summary
 * (see `application/protectionStatus.ts`).
 */
import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import * as df from "durable-functions";
import { protectionStatus } from "../application/protectionStatus.js";
import { appConfig } from "../config.js";
import { durableOrchestrations } from "../http/durableStatus.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";

/** Answers the request with the app's Durable client. */
export async function getProtection(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  authorize(request, "Backup.Reader", appConfig().WEBSITE_AUTH_ENABLED);
  const orchestrations = durableOrchestrations(() => df.getClient(context));
  return json(200, await protectionStatus(orchestrations, request.params.id ?? ""));
}

app.http("getProtection", {
  route: "protections/{id}",
  methods: ["GET"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: withProblemDetails(getProtection),
});
