/**
 * `GET /api/deleted-backup-instances[?vault=name]`: the soft-deleted backup instances, newest
 * deletion first, each with when it will be purged and whether it can still be undeleted (see
 * `application/lifecycle.ts`).
 */
import { app, type HttpRequest, type HttpResponseInit } from "@azure/functions";
import { deletedBackupInstanceViews } from "../application/lifecycle.js";
import { appDependencies } from "../composition.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";

/** Answers the request with the app's dependencies. */
export async function listDeletedBackupInstances(request: HttpRequest): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  authorize(request, "Backup.Reader", deps.config.WEBSITE_AUTH_ENABLED);
  const vaultName = request.query.get("vault") ?? undefined;
  return json(200, { value: await deletedBackupInstanceViews(deps, vaultName, new Date()) });
}

app.http("listDeletedBackupInstances", {
  route: "deleted-backup-instances",
  methods: ["GET"],
  authLevel: "function",
  handler: withProblemDetails(listDeletedBackupInstances),
});
