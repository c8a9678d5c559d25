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
import { startAdhocBackup } from "../application/adhocBackup.js";
import { appDependencies } from "../composition.js";
import { parseVaultId } from "../domain/protection/ids.js";
import { durableOrchestrations } from "../http/durableStatus.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";
import { startBackupBody } from "../http/protectionRequests.js";
import { readBody } from "../http/requestBody.js";

/** Answers the request with the app's dependencies and Durable client. */
export async function startBackup(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  const requestedBy = authorize(request, "Backup.Operator", deps.config.WEBSITE_AUTH_ENABLED);
  const body = await readBody(request, startBackupBody);
  const vaultName = request.query.get("vault") ?? body.vaultName;
  const asked = { ...body, vaultName, backupInstanceName: request.params.name ?? "", requestedBy };
  const orchestrations = durableOrchestrations(() => df.getClient(context));
  const { vaultId, notFollowed, ...started } = await startAdhocBackup(
    deps,
    orchestrations,
    asked,
    new Date(),
  );
  if (notFollowed !== undefined)
    context.warn(
      `The ad-hoc backup job ${started.jobName} runs, but the orchestration following it did not start`,
      notFollowed,
    );
  const statusUrl = new URL(`/api/jobs/${started.jobName}`, request.url).toString();
  const answer = {
    ...started,
    vaultName: parseVaultId(vaultId).vaultName,
    status: "InProgress",
    statusUrl,
  };
  return json(202, answer, { location: statusUrl });
}

app.http("startBackup", {
  route: "backup-instances/{name}/backups",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: withProblemDetails(startBackup),
});
