/**
 * `POST /api/backup-instances/{name}/backups[?vault=name]`: an ad-hoc backup under a backup rule
 * and, optionally, a retention tag (see `application/adhocBackup.ts`). Answers 202 with the job's
 * id; an `adhocBackup` orchestration follows the job and publishes its states.
 */
import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import * as df from "durable-functions";
import { logBackupStart, startAdhocBackup } from "../application/adhocBackup.js";
import { appDependencies } from "../composition.js";
import { parseVaultId } from "../domain/protection/ids.js";
import { durableOrchestrations } from "../http/durableStatus.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";
import { startBackupBody } from "../http/protectionRequests.js";
import { readBody } from "../http/requestBody.js";
import { startedFrom } from "../observability/eventLogger.js";
import { invocationLogger } from "../observability/functionsLogger.js";

/** Answers the request with the app's dependencies and Durable client. */
export async function startBackup(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  const requestedBy = authorize(request, "Backup.Operator", deps.config.WEBSITE_AUTH_ENABLED);
  const body = await readBody(request, startBackupBody);
  const log = invocationLogger(context);
  const asked = {
    ...body,
    vaultName: request.query.get("vault") ?? body.vaultName,
    backupInstanceName: request.params.name ?? "",
    requestedBy,
    correlation: startedFrom(log),
  };
  const orchestrations = durableOrchestrations(() => df.getClient(context));
  const backup = await startAdhocBackup(deps, orchestrations, asked, new Date());
  logBackupStart(log, backup, requestedBy);
  const { vaultId, notFollowed: _notFollowed, ...started } = backup;
  const statusUrl = new URL(`/api/jobs/${started.jobName}`, request.url).toString();
  const answer = { ...started, vaultName: parseVaultId(vaultId).vaultName, status: "InProgress" };
  return json(202, { ...answer, statusUrl }, { location: statusUrl });
}

app.http("startBackup", {
  route: "backup-instances/{name}/backups",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: withProblemDetails(startBackup),
});
