import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import * as df from "durable-functions";
import { describeBackupInstance, findBackupInstance } from "../application/backupInstances.js";
import { appDependencies } from "../composition.js";
import { durableOrchestrations } from "../http/durableStatus.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";

/**
 * `GET /api/backup-instances/{name}[?vault=name]`: one protected item with its protection state,
 * policy, last successful backup and next scheduled one.
 */
export async function showBackupInstance(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  // The protection operations date an overdue backup when the service gives no creation time.
  const deps = {
    ...(await appDependencies()),
    orchestrations: durableOrchestrations(() => df.getClient(context)),
  };
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
  extraInputs: [df.input.durableClient()],
  handler: withProblemDetails(showBackupInstance),
});
