/**
 * `GET /api/lifecycle-operations/{id}`: a lifecycle operation's status (`Running`, `Completed`,
 * `Failed`), the state it left the backup instance in, and on failure the error with a
 * recommended action (see `application/lifecycle.ts`).
 */
import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import * as df from "durable-functions";
import { lifecycleOperationStatus } from "../application/lifecycle.js";
import { appConfig } from "../config.js";
import { durableOrchestrations } from "../http/durableStatus.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";

/** Answers the request with the app's Durable client. */
export async function getLifecycleOperation(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  authorize(request, "Backup.Reader", appConfig().WEBSITE_AUTH_ENABLED);
  const orchestrations = durableOrchestrations(() => df.getClient(context));
  return json(200, await lifecycleOperationStatus(orchestrations, request.params.id ?? ""));
}

app.http("getLifecycleOperation", {
  route: "lifecycle-operations/{id}",
  methods: ["GET"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: withProblemDetails(getLifecycleOperation),
});
