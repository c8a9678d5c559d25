/**
 * `POST /api/protections`: protect a datasource or, with `allDatabases`, every database of a
 * server (see `application/protect.ts`). Answers 202 with a status URL; asking again answers the
 * same operation while it runs or has succeeded; after a failure it runs again.
 */
import { app, type HttpRequest, type InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { logProtectionAnswer, protectDatasource, protectServer } from "../application/protect.js";
import { appDependencies, type AppDependencies } from "../composition.js";
import { durableOrchestrations, type DurableStarter } from "../http/durableStatus.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";
import { protectionAnswer } from "../http/protectionAnswer.js";
import { checkProtectionNames, startProtectionBody } from "../http/protectionRequests.js";
import { readBody } from "../http/requestBody.js";
import { silentEventLogger, startedFrom, type EventLogger } from "../observability/eventLogger.js";
import { invocationLogger } from "../observability/functionsLogger.js";

/** The id of the operation protecting every database of a server (e2e tests read it here). */
export { serverProtectionInstanceId } from "../domain/protection/operationIds.js";

/** Answers `POST /api/protections` with the Durable client and dependencies given (tests pass their own). */
export async function answerStartProtection(
  request: HttpRequest,
  client: DurableStarter,
  deps: AppDependencies,
  log: EventLogger = silentEventLogger,
) {
  const requestedBy = authorize(request, "Backup.Operator", deps.config.WEBSITE_AUTH_ENABLED);
  const body = await readBody(request, startProtectionBody);
  checkProtectionNames(body);
  const orchestrations = durableOrchestrations(client);
  const asked = { ...body, requestedBy, correlation: startedFrom(log) };
  const answer =
    body.allDatabases === true && body.serverName !== undefined
      ? await protectServer(deps, orchestrations, { ...asked, serverName: body.serverName })
      : await protectDatasource(deps, orchestrations, asked);
  logProtectionAnswer(log, answer, requestedBy);
  const { body: answerBody, location } = protectionAnswer(answer, request.url);
  return json(202, answerBody, { location });
}

/** The trigger: the app's Durable client and dependencies. */
export async function startProtection(request: HttpRequest, context: InvocationContext) {
  const log = invocationLogger(context);
  return answerStartProtection(request, df.getClient(context), await appDependencies(), log);
}

app.http("startProtection", {
  route: "protections",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: withProblemDetails(startProtection),
});
