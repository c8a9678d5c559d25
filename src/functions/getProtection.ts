import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import * as df from "durable-functions";
import { appConfig } from "../config.js";
import { NotFoundError } from "../domain/errors.js";
import { json, withProblemDetails } from "../http/handler.js";
import { findInstance } from "../http/durableStatus.js";
import { authorize } from "../http/principal.js";
import type {
  ProtectDatasourceOutput,
  ProtectionProgress,
} from "../orchestrations/protectDatasource.js";

/**
 * `GET /api/protections/{id}`: the steps done, the current one, and on failure the service's
 * error code with a recommended action.
 */
export async function getProtection(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  authorize(request, "Backup.Reader", appConfig().WEBSITE_AUTH_ENABLED);
  const id = request.params.id ?? "";
  const status = id.startsWith("protect-")
    ? await findInstance(df.getClient(context), id)
    : undefined;
  if (!status)
    throw new NotFoundError("PROTECTION_NOT_FOUND", `There is no protection operation '${id}'`);
  const progress = (status.customStatus ?? { steps: [] }) as ProtectionProgress;
  const output = status.output as ProtectDatasourceOutput | null | undefined;
  const error = output?.error ?? progress.error;
  return json(200, {
    id,
    status: status.runtimeStatus,
    outcome: output?.outcome ?? null,
    datasourceId:
      output?.datasourceId ??
      (status.input as { datasource?: { datasourceId?: string } } | undefined)?.datasource
        ?.datasourceId ??
      null,
    backupInstanceName: output?.backupInstanceName ?? null,
    steps: progress.steps ?? [],
    currentStep: progress.current ?? null,
    error: error ?? null,
    createdAt: status.createdTime,
    lastUpdatedAt: status.lastUpdatedTime,
  });
}

app.http("getProtection", {
  route: "protections/{id}",
  methods: ["GET"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: withProblemDetails(getProtection),
});
