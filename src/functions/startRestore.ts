/**
 * `POST /api/backup-instances/{name}/restores[?vault=name]`: a restore into a new database, as
 * files, or to a server (see `application/restore.ts`); 202 with the job's and (Azure) the
 * restore's status URLs.
 */
import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import * as df from "durable-functions";
import { logRestoreStart, startFollowedRestore } from "../application/restoreToServer.js";
import { appDependencies } from "../composition.js";
import { durableOrchestrations } from "../http/durableStatus.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";
import { checkRestoreNames, startRestoreBody } from "../http/protectionRequests.js";
import { readBody } from "../http/requestBody.js";
import { restoreAnswer } from "../http/restoreAnswer.js";
import { startedFrom } from "../observability/eventLogger.js";
import { invocationLogger } from "../observability/functionsLogger.js";

/** Answers the request with the app's dependencies and Durable client. */
export async function startRestore(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  const requestedBy = authorize(request, "Backup.Operator", deps.config.WEBSITE_AUTH_ENABLED);
  const body = await readBody(request, startRestoreBody);
  checkRestoreNames(body);
  const log = invocationLogger(context);
  const started = await startFollowedRestore(
    deps,
    durableOrchestrations(() => df.getClient(context)),
    {
      ...body,
      vaultName: request.query.get("vault") ?? body.vaultName,
      backupInstanceName: request.params.name ?? "",
      requestedBy,
      correlation: startedFrom(log),
    },
    { autoGrantRoleAssignments: deps.config.AUTO_GRANT_ROLE_ASSIGNMENTS, requestedAt: new Date() },
  );
  logRestoreStart(log, started, requestedBy);
  const { body: answer, location } = restoreAnswer(started, request.url);
  return json(202, answer, { location });
}

app.http("startRestore", {
  route: "backup-instances/{name}/restores",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: withProblemDetails(startRestore),
});
