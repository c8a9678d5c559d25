/**
 * `POST /api/backup-instances/{name}/restores[?vault=name]`: restores the latest or a chosen
 * recovery point into a new database or as files (see `application/restore.ts`). Answers 202 with
 * the restore job's id and status URL.
 */
import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { startRestore as restore } from "../application/restore.js";
import { appDependencies } from "../composition.js";
import { parseVaultId } from "../domain/protection/ids.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";
import { checkRestoreNames, startRestoreBody } from "../http/protectionRequests.js";
import { readBody } from "../http/requestBody.js";

/** Answers the request with the app's dependencies. */
export async function startRestore(
  request: HttpRequest,
  _context: InvocationContext,
): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  authorize(request, "Backup.Operator", deps.config.WEBSITE_AUTH_ENABLED);
  const body = await readBody(request, startRestoreBody);
  checkRestoreNames(body);
  const vaultName = request.query.get("vault") ?? body.vaultName;
  const { vaultId, ...started } = await restore(deps, {
    ...body,
    vaultName,
    backupInstanceName: request.params.name ?? "",
  });
  const statusUrl = new URL(`/api/jobs/${started.jobName}`, request.url).toString();
  const answer = { ...started, vaultName: parseVaultId(vaultId).vaultName, status: "InProgress" };
  return json(202, { ...answer, statusUrl }, { location: statusUrl });
}

app.http("startRestore", {
  route: "backup-instances/{name}/restores",
  methods: ["POST"],
  authLevel: "function",
  handler: withProblemDetails(startRestore),
});
