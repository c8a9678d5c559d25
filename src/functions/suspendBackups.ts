/**
 * `POST /api/backup-instances/{name}/suspend`: suspends the backup schedule of a protected item; retention runs on (see `application/lifecycle.ts`). Answers 202 with the
 * operation to follow, or 200 when nothing was left to do.
 */
import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import * as df from "durable-functions";
import { logLifecycleRequest, startLifecycleAction } from "../application/lifecycle.js";
import { appDependencies } from "../composition.js";
import { durableOrchestrations } from "../http/durableStatus.js";
import { discardUnreadBody, withProblemDetails } from "../http/handler.js";
import { lifecycleRequestOf, lifecycleResponse } from "../http/lifecycleRequests.js";
import { authorize } from "../http/principal.js";
import { invocationLogger } from "../observability/functionsLogger.js";

/** Answers the request with the app's dependencies and Durable client. */
export async function suspendBackups(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  const requestedBy = authorize(request, "Backup.Operator", deps.config.WEBSITE_AUTH_ENABLED);
  await discardUnreadBody(request);
  const log = invocationLogger(context);
  const asked = lifecycleRequestOf(request, "suspend", log, requestedBy);
  const orchestrations = durableOrchestrations(() => df.getClient(context));
  const answer = await startLifecycleAction(deps, orchestrations, asked, new Date());
  logLifecycleRequest(log, answer, requestedBy);
  return lifecycleResponse(request, answer);
}

app.http("suspendBackups", {
  route: "backup-instances/{name}/suspend",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: withProblemDetails(suspendBackups),
});
