import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { z } from "zod";
import { appDependencies } from "../composition.js";
import { AppError } from "../domain/errors.js";
import { json, withProblemDetails } from "../http/handler.js";
import { findInstance } from "../http/durableStatus.js";
import { authorize } from "../http/principal.js";
import { readBody } from "../http/requestBody.js";
import { orchestrationNames } from "../orchestrations/names.js";
import { protectionInstanceId, type ProtectDatasourceInput } from "../orchestrations/protectDatasource.js";

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
 * `POST /api/protections`: protect a datasource. Answers 202 with a status URL. The operation's
 * id is derived from the datasource, so asking again answers the same operation while it runs
 * or has succeeded, and never creates a second backup instance; after a failure it runs again.
 */
export async function startProtection(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  const requestedBy = authorize(request, "Backup.Operator", deps.config.WEBSITE_AUTH_ENABLED);
  const body = await readBody(request, startProtectionBody);
  const directory = deps.provider.directory;
  const datasourceId =
    body.datasourceId ??
    (body.databaseName
      ? (await directory.resolveDatabase(body.serverName ?? "", body.databaseName)).id
      : (await directory.resolveServer(body.serverName ?? "")).id);
  const instanceId = protectionInstanceId(datasourceId);
  const client = df.getClient(context);
  const statusUrl = new URL(`/api/protections/${instanceId}`, request.url).toString();

  const existing = await findInstance(client, instanceId);
  if (existing && existing.runtimeStatus !== "Failed" && existing.runtimeStatus !== "Terminated") {
    return json(202, { id: instanceId, datasourceId, status: existing.runtimeStatus, statusUrl, existing: true }, { location: statusUrl });
  }
  const input: ProtectDatasourceInput = {
    datasource: { datasourceId },
    vaultId: deps.vaults.resolve(body.vaultName),
    policyName: body.policyName,
    ...(body.secretUri ? { secretUri: body.secretUri } : {}),
    ...(requestedBy ? { requestedBy } : {}),
  };
  try {
    await client.startNew(orchestrationNames.protectDatasource, { instanceId, input });
  } catch (error) {
    // A concurrent request for the same datasource started it first: answer that operation.
    const raced = await findInstance(client, instanceId);
    if (raced && raced.runtimeStatus !== "Failed" && raced.runtimeStatus !== "Terminated") {
      return json(202, { id: instanceId, datasourceId, status: raced.runtimeStatus, statusUrl, existing: true }, { location: statusUrl });
    }
    throw new AppError("PROTECTION_START_FAILED", `The protection of ${datasourceId} could not start: ${(error as Error).message}`, {
      httpStatus: 503,
      retryable: true,
      cause: error,
    });
  }
  return json(202, { id: instanceId, datasourceId, status: "Pending", statusUrl, existing: false }, { location: statusUrl });
}

app.http("startProtection", {
  route: "protections",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: withProblemDetails(startProtection),
});
