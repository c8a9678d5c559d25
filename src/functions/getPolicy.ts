import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { appDependencies } from "../composition.js";
import { isAppError, NotFoundError } from "../domain/errors.js";
import { parseVaultId } from "../domain/protection/ids.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";

/** `GET /api/vaults/{vault}/policies/{name}`: a backup policy as the service keeps it. */
export async function getPolicy(
  request: HttpRequest,
  _context: InvocationContext,
): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  authorize(request, "Backup.Reader", deps.config.WEBSITE_AUTH_ENABLED);
  const name = request.params.name ?? "";
  const vaultId = deps.vaults.resolve(request.params.vault);
  try {
    return json(200, await deps.provider.backup.getPolicy(vaultId, name));
  } catch (error) {
    if (isAppError(error) && error.httpStatus === 404) {
      const vaultName = parseVaultId(vaultId).vaultName;
      throw new NotFoundError(
        "POLICY_NOT_FOUND",
        `The vault '${vaultName}' has no policy '${name}'`,
        {
          recommendedAction: `List the vault's policies with GET /api/vaults/${vaultName}/policies, or create it with PUT`,
        },
      );
    }
    throw error;
  }
}

app.http("getPolicy", {
  route: "vaults/{vault}/policies/{name}",
  methods: ["GET"],
  authLevel: "function",
  handler: withProblemDetails(getPolicy),
});
