/**
 * `GET /api/restores/{id}`: a restore's status (`Running`, `Completed`, `Failed`), its job, and
 * for a restore to a server the new database with its verification and the time each step took
 * (see `application/restoreToServer.ts`).
 */
import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import * as df from "durable-functions";
import { restoreStatus } from "../application/restoreToServer.js";
import { appConfig } from "../config.js";
import { durableOrchestrations } from "../http/durableStatus.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";

/** Answers the request with the app's Durable client. */
export async function getRestore(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  authorize(request, "Backup.Reader", appConfig().WEBSITE_AUTH_ENABLED);
  const orchestrations = durableOrchestrations(() => df.getClient(context));
  return json(200, await restoreStatus(orchestrations, request.params.id ?? ""));
}

app.http("getRestore", {
  route: "restores/{id}",
  methods: ["GET"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: withProblemDetails(getRestore),
});
