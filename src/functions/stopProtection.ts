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
import { withProblemDetails } from "../http/handler.js";
import { answerLifecycleRequest } from "../http/lifecycleEndpoint.js";
import { stopProtectionBody } from "../http/lifecycleRequests.js";
import { readBody } from "../http/requestBody.js";

/** Asks for the stop (or the deletion) of the instance the route names. */
export async function stopProtection(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  return answerLifecycleRequest(request, context, async () => {
    const body = await readBody(request, stopProtectionBody);
    return { action: body.deleteData ? "delete" : "stop", body };
  });
}

app.http("stopProtection", {
  route: "backup-instances/{name}/stop",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: withProblemDetails(stopProtection),
});
