/**
 * `POST /api/backup-instances/{name}/stop` `{deleteData}`: stops protection of a protected item,
 * keeping every recovery point (`deleteData: false`) or deleting the instance with them
 * (`deleteData: true`; see `application/lifecycle.ts`). Answers 202 with the operation to follow,
 * or 200 when nothing was left to do.
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
import { withProblemDetails } from "../http/handler.js";
import {
  lifecycleRequestOf,
  lifecycleResponse,
  stopProtectionBody,
} from "../http/lifecycleRequests.js";
import { authorize } from "../http/principal.js";
import { readBody } from "../http/requestBody.js";
import { invocationLogger } from "../observability/functionsLogger.js";

/** Answers the request with the app's dependencies and Durable client. */
export async function stopProtection(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  const requestedBy = authorize(request, "Backup.Operator", deps.config.WEBSITE_AUTH_ENABLED);
  const body = await readBody(request, stopProtectionBody);
  const log = invocationLogger(context);
  const action = body.deleteData ? "delete" : "stop";
  const asked = lifecycleRequestOf(request, action, log, requestedBy, body);
  const orchestrations = durableOrchestrations(() => df.getClient(context));
  const answer = await startLifecycleAction(deps, orchestrations, asked, new Date());
  logLifecycleRequest(log, answer, requestedBy);
  return lifecycleResponse(request, answer);
}

app.http("stopProtection", {
  route: "backup-instances/{name}/stop",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: withProblemDetails(stopProtection),
});
