import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import * as df from "durable-functions";
import { describeBackupInstance, findBackupInstance } from "../application/backupInstances.js";
import { withLastDrills } from "../application/drills.js";
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
  const [view] = await withLastDrills(deps, [
    await describeBackupInstance(deps, located, new Date()),
  ]);
  return json(200, view);
}

app.http("showBackupInstance", {
  route: "backup-instances/{name}",
  methods: ["GET"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: withProblemDetails(showBackupInstance),
});
