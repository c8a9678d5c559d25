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
import { withProblemDetails } from "../http/handler.js";
import { answerLifecycleRequest } from "../http/lifecycleEndpoint.js";

/** Asks for the suspension of the instance the route names. */
export async function suspendBackups(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  return answerLifecycleRequest(request, context, "suspend");
}

app.http("suspendBackups", {
  route: "backup-instances/{name}/suspend",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: withProblemDetails(suspendBackups),
});
