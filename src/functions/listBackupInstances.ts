import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { listBackupInstanceViews } from "../application/backupInstanceList.js";
import { appDependencies } from "../composition.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";

/**
 * `GET /api/backup-instances[?vault=name]`: the protected items of every vault the app covers (or
 * of one), each with its protection state, policy, last successful backup and next scheduled one.
 */
export async function listBackupInstances(
  request: HttpRequest,
  _context: InvocationContext,
): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  authorize(request, "Backup.Reader", deps.config.WEBSITE_AUTH_ENABLED);
  const vault = request.query.get("vault") ?? undefined;
  const value = await listBackupInstanceViews(deps, vault, new Date());
  return json(200, { value });
}

app.http("listBackupInstances", {
  route: "backup-instances",
  methods: ["GET"],
  authLevel: "function",
  handler: withProblemDetails(listBackupInstances),
});
