import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import * as df from "durable-functions";
import type { DurableOrchestrationStatus } from "durable-functions";
import { z } from "zod";
import {
  checkDatasourceAccess,
  checkPolicyFits,
  resolveDatasource,
} from "../activities/protectionChecks.js";
import { appDependencies, type AppDependencies } from "../composition.js";
import { AppError, NotFoundError } from "../domain/errors.js";
import { parseVaultId, sameResourceId } from "../domain/protection/ids.js";
import { vaultsToSearch } from "../http/backupLookup.js";
import { json, withProblemDetails } from "../http/handler.js";
import { findInstance, protectionIsLiveOrSucceeded } from "../http/durableStatus.js";
import { authorize } from "../http/principal.js";
import { readBody } from "../http/requestBody.js";
import { orchestrationNames } from "../orchestrations/names.js";
import {
  protectionInstanceId,
  type ProtectDatasourceInput,
} from "../orchestrations/protectDatasource.js";

/** The body of `POST /api/protections`. */
export const startProtectionBody = z
  .object({
    datasourceId: z.string().min(1).optional(),
    serverName: z.string().min(1).optional(),
    databaseName: z.string().min(1).optional(),
    vaultName: z.string().min(1).optional(),
    policyName: z.string().min(1),
    secretUri: z.string().url().optional(),
  })
  .refine((body) => body.datasourceId !== undefined || body.serverName !== undefined, {
    message: "name the datasource by datasourceId, or by serverName (and databaseName)",
    path: ["datasourceId"],
  });

/**
 * The vault a request names (or the default one), when it exists.
 *
 * @remarks A vault exists when it is one the app covers, as the listing endpoints see them: a
 * configured vault, or (local provider, none configured) the default vault and every vault
 * already made, e.g. by `PUT /api/vaults/{vault}/policies/{name}`, which creates vaults on demand.
 * @throws NotFoundError `VaultNotFound`, or `VAULT_NOT_CONFIGURED` for a name outside the
 * configured vaults.
 */
async function existingVault(
  deps: AppDependencies,
  vaultName: string | undefined,
  policyName: string,
): Promise<string> {
  const vaultId = deps.vaults.resolve(vaultName);
  if ((await vaultsToSearch(deps)).some((known) => sameResourceId(known, vaultId))) return vaultId;
  const name = parseVaultId(vaultId).vaultName;
  throw new NotFoundError("VaultNotFound", `There is no vault '${name}'`, {
    recommendedAction: `Create it by storing a policy in it (PUT /api/vaults/${name}/policies/${policyName}), or leave vaultName out to use the default vault`,
  });
}

/**
 * `POST /api/protections`: protect a datasource. Answers 202 with a status URL. The operation's
 * id is derived from the datasource, so asking again answers the same operation while it runs
 * or has succeeded, and never creates a second backup instance; after a failure it runs again.
 *
 * @remarks Facts that are cheap to check are checked before anything starts, with the same
 * functions the orchestration's activities use, so a request that cannot succeed is a 4xx problem
 * and leaves nothing behind: the datasource (`DatasourceNotFound`), the vault (`VaultNotFound`),
 * the policy (`PolicyNotFound`, `PolicyDatasourceTypeMismatch`) and, for a database, its secret
 * (`SecretNotFound`). The orchestration checks them again: it also starts from events and plans,
 * and things change in between.
 */
export async function startProtection(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  const requestedBy = authorize(request, "Backup.Operator", deps.config.WEBSITE_AUTH_ENABLED);
  const body = await readBody(request, startProtectionBody);
  const datasource = await resolveDatasource(deps.provider.directory, body);
  const { datasourceId } = datasource;
  const instanceId = protectionInstanceId(datasourceId);
  const client = df.getClient(context);
  const statusUrl = new URL(`/api/protections/${instanceId}`, request.url).toString();
  const answerExisting = (status: DurableOrchestrationStatus) =>
    json(
      202,
      { id: instanceId, datasourceId, status: status.runtimeStatus, statusUrl, existing: true },
      { location: statusUrl },
    );

  const existing = await findInstance(client, instanceId);
  if (protectionIsLiveOrSucceeded(existing)) return answerExisting(existing);

  const vaultId = await existingVault(deps, body.vaultName, body.policyName);
  await checkPolicyFits(deps.provider.backup, vaultId, body.policyName, datasource.datasourceType);
  await checkDatasourceAccess(deps.provider.secrets, datasource, body.secretUri);

  const input: ProtectDatasourceInput = {
    datasource: { datasourceId },
    vaultId,
    policyName: body.policyName,
    ...(body.secretUri ? { secretUri: body.secretUri } : {}),
    ...(requestedBy ? { requestedBy } : {}),
  };
  try {
    await client.startNew(orchestrationNames.protectDatasource, { instanceId, input });
  } catch (error) {
    // A concurrent request for the same datasource started it first: answer that operation.
    const raced = await findInstance(client, instanceId);
    if (protectionIsLiveOrSucceeded(raced)) return answerExisting(raced);
    throw new AppError(
      "PROTECTION_START_FAILED",
      `The protection of ${datasourceId} could not start: ${(error as Error).message}`,
      {
        httpStatus: 503,
        retryable: true,
        cause: error,
      },
    );
  }
  return json(
    202,
    { id: instanceId, datasourceId, status: "Pending", statusUrl, existing: false },
    { location: statusUrl },
  );
}

app.http("startProtection", {
  route: "protections",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: withProblemDetails(startProtection),
});
