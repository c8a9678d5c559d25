import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { describeBackupInstance, findBackupInstance } from "../application/backupInstances.js";
import { appDependencies } from "../composition.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";

/**
 * `GET /api/backup-instances/{name}[?vault=name]`: one protected item with its protection state,
 * policy, last successful backup and next scheduled one.
 */
export async function showBackupInstance(
  request: HttpRequest,
  _context: InvocationContext,
): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  authorize(request, "Backup.Reader", deps.config.WEBSITE_AUTH_ENABLED);
  const located = await findBackupInstance(
    deps,
    request.params.name ?? "",
    request.query.get("vault") ?? undefined,
  );
  return json(200, await describeBackupInstance(deps, located, new Date()));
}

app.http("showBackupInstance", {
  route: "backup-instances/{name}",
  methods: ["GET"],
  authLevel: "function",
  handler: withProblemDetails(showBackupInstance),
});
