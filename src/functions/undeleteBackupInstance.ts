/**
 * `POST /api/backup-instances/{name}/undelete`: brings a soft-deleted backup instance back, stopped, within its soft-delete retention (see `application/lifecycle.ts`). Answers 202 with the
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

/** Asks for the undeletion of the instance the route names. */
export async function undeleteBackupInstance(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  return answerLifecycleRequest(request, context, "undelete");
}

app.http("undeleteBackupInstance", {
  route: "backup-instances/{name}/undelete",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: withProblemDetails(undeleteBackupInstance),
});
