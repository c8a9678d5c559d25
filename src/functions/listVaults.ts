import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { listVaultPostures } from "../application/vaultPosture.js";
import { appDependencies } from "../composition.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";
import { invocationLogger } from "../observability/functionsLogger.js";
import { logEvents } from "../observability/logEvents.js";

/**
 * `GET /api/vaults`: every vault the app covers, with its security posture (redundancy,
 * immutability, soft delete, restores across regions and subscriptions, resource guard, alerts)
 * and the warnings where it falls short of the recommended baseline.
 */
export async function listVaults(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  authorize(request, "Backup.Reader", deps.config.WEBSITE_AUTH_ENABLED);
  const value = await listVaultPostures(deps);
  const log = invocationLogger(context);
  for (const vault of value) {
    if (vault.error)
      log.emit(logEvents.vaultPostureUnreadable, {
        vaultName: vault.name,
        errorCode: vault.error.code,
        errorMessage: vault.error.message,
      });
  }
  return json(200, { value });
}

app.http("listVaults", {
  route: "vaults",
  methods: ["GET"],
  authLevel: "function",
  handler: withProblemDetails(listVaults),
});
