/**
 * `PUT /api/backup-instances/{name}/policy` `{policyName}`: moves a protected item to another
 * policy of its vault, validated by the service before it is written (see
 * `application/lifecycle.ts`), so that no one edits a policy in use. Answers 202 with the
 * operation to follow, or 200 when the item already has that policy.
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
  changePolicyBody,
  lifecycleRequestOf,
  lifecycleResponse,
} from "../http/lifecycleRequests.js";
import { authorize } from "../http/principal.js";
import { readBody } from "../http/requestBody.js";
import { invocationLogger } from "../observability/functionsLogger.js";

/** Answers the request with the app's dependencies and Durable client. */
export async function changeBackupPolicy(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  const requestedBy = authorize(request, "Backup.Operator", deps.config.WEBSITE_AUTH_ENABLED);
  const body = await readBody(request, changePolicyBody);
  const log = invocationLogger(context);
  const asked = lifecycleRequestOf(request, "changePolicy", log, requestedBy, body);
  const orchestrations = durableOrchestrations(() => df.getClient(context));
  const answer = await startLifecycleAction(deps, orchestrations, asked, new Date());
  logLifecycleRequest(log, answer, requestedBy);
  return lifecycleResponse(request, answer);
}

app.http("changeBackupPolicy", {
  route: "backup-instances/{name}/policy",
  methods: ["PUT"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: withProblemDetails(changeBackupPolicy),
});
