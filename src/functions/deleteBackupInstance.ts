/**
 * `DELETE /api/backup-instances/{name}`: deletes a backup instance with its recovery points (soft-deleted where the vault keeps deleted items) (see `application/lifecycle.ts`). Answers 202 with the
 * operation to follow, or 200 when nothing was left to do.
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

/** Asks for the deletion of the instance the route names. */
export async function deleteBackupInstance(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  return answerLifecycleRequest(request, context, "delete");
}

app.http("deleteBackupInstance", {
  route: "backup-instances/{name}",
  methods: ["DELETE"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: withProblemDetails(deleteBackupInstance),
});
