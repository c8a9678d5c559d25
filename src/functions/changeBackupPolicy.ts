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
import { withProblemDetails } from "../http/handler.js";
import { answerLifecycleRequest } from "../http/lifecycleEndpoint.js";
import { changePolicyBody } from "../http/lifecycleRequests.js";
import { readBody } from "../http/requestBody.js";

/** Asks for the instance the route names to move to the policy the body names. */
export async function changeBackupPolicy(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  return answerLifecycleRequest(request, context, async () => ({
    action: "changePolicy",
    body: await readBody(request, changePolicyBody),
  }));
}

app.http("changeBackupPolicy", {
  route: "backup-instances/{name}/policy",
  methods: ["PUT"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: withProblemDetails(changeBackupPolicy),
});
