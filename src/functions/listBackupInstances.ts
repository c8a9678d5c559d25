import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { appDependencies } from "../composition.js";
import type { BackupPolicyResource } from "../domain/policy/types.js";
import { describeBackupInstance, vaultsToSearch } from "../http/backupLookup.js";
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
  const vaultIds = await vaultsToSearch(deps, request.query.get("vault") ?? undefined);
  const now = new Date();
  const policies = new Map<string, Promise<BackupPolicyResource | undefined>>();
  const perVault = await Promise.all(
    vaultIds.map(async (vaultId) => {
      const instances = await deps.provider.backup.listBackupInstances(vaultId);
      return Promise.all(
        instances.map((instance) =>
          describeBackupInstance(deps, { vaultId, instance }, now, policies),
        ),
      );
    }),
  );
  const value = perVault
    .flat()
    .sort(
      (a, b) =>
        a.vaultName.localeCompare(b.vaultName) || a.friendlyName.localeCompare(b.friendlyName),
    );
  return json(200, { value });
}

app.http("listBackupInstances", {
  route: "backup-instances",
  methods: ["GET"],
  authLevel: "function",
  handler: withProblemDetails(listBackupInstances),
});
