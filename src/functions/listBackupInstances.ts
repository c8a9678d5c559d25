import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import * as df from "durable-functions";
import { listBackupInstanceViews } from "../application/backupInstanceList.js";
import { appDependencies } from "../composition.js";
import { durableOrchestrations } from "../http/durableStatus.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";

/**
 * `GET /api/backup-instances[?vault=name]`: the protected items of every vault the app covers (or
 * of one), each with its protection state, policy, last successful backup and next scheduled one.
 */
export async function listBackupInstances(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  // The protection operations date an overdue backup when the service gives no creation time.
  const deps = {
    ...(await appDependencies()),
    orchestrations: durableOrchestrations(() => df.getClient(context)),
  };
  authorize(request, "Backup.Reader", deps.config.WEBSITE_AUTH_ENABLED);
  const vault = request.query.get("vault") ?? undefined;
  const value = await listBackupInstanceViews(deps, vault, new Date());
  return json(200, { value });
}

app.http("listBackupInstances", {
  route: "backup-instances",
  methods: ["GET"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: withProblemDetails(listBackupInstances),
});
