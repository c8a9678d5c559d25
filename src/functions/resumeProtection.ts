/**
 * `POST /api/backup-instances/{name}/resume`: resumes the backups of a suspended or stopped protected item (see `application/lifecycle.ts`). Answers 202 with the
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

/** Asks for the resumption of the instance the route names. */
export async function resumeProtection(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  return answerLifecycleRequest(request, context, "resume");
}

app.http("resumeProtection", {
  route: "backup-instances/{name}/resume",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: withProblemDetails(resumeProtection),
});
