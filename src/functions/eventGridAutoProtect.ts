/**
 * `eventGridAutoProtect`: protects PostgreSQL servers and databases when they are written with the
 * auto-protect tag. Event Grid delivers `Microsoft.Resources.ResourceWriteSuccess` from the
 * subscription's system topic in Azure, and from the local runtime's `resources` topic locally
 * (see `timerLocalResourceEvents`).
 */
import { app, type InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { appDependencies, type AppDependencies } from "../composition.js";
import { isAppError } from "../domain/errors.js";
import {
  autoProtectDecision,
  autoProtectTargetOf,
  readResourceWriteEvent,
  resourceWriteSuccessType,
  type AutoProtectRequest,
  type AutoProtectSettings,
} from "../domain/plans/autoProtect.js";
import { legacyProtectionInstanceId } from "../domain/protection/operationIds.js";
import { findExistingProtection, isForDatasource } from "../http/existingProtection.js";
import { orchestrationNames } from "../orchestrations/names.js";
import {
  protectionInstanceId,
  type ProtectDatasourceInput,
} from "../orchestrations/protectDatasource.js";
import { LOCAL_KEY_VAULT_NAME } from "../providers/local/secretStore.js";
import type { ResourceDirectoryPort } from "../providers/ports.js";

/** Who the protections auto-protection starts are recorded as requested by. */
export const autoProtectRequester = "auto-protection";

/** What auto-protection did for one resource. */
export type AutoProtectOutcome =
  | {
      readonly action: "started";
      readonly instanceId: string;
      readonly request: AutoProtectRequest;
    }
  | { readonly action: "existing"; readonly instanceId: string; readonly status: string }
  | { readonly action: "ignored"; readonly reason: string };

/** The settings auto-protection works with, from the app's configuration. */
export function autoProtectSettingsOf(deps: Pick<AppDependencies, "config">): AutoProtectSettings {
  const keyVaultName =
    deps.config.AUTO_PROTECT_KEY_VAULT ??
    (deps.config.PGPROTECT_PROVIDER === "local" ? LOCAL_KEY_VAULT_NAME : undefined);
  return { tagName: deps.config.AUTO_PROTECT_TAG, ...(keyVaultName ? { keyVaultName } : {}) };
}

/**
 * Starts `protectDatasource` under the same instance id as `POST /api/protections`, unless that
 * instance is running or has protected the datasource; a failed attempt is tried again.
 */
export async function startProtectionOnce(
  client: Pick<df.DurableClient, "getStatus" | "startNew">,
  input: ProtectDatasourceInput & { readonly datasource: { readonly datasourceId: string } },
): Promise<AutoProtectOutcome & { action: "started" | "existing" }> {
  const { datasourceId } = input.datasource;
  const instanceId = protectionInstanceId(datasourceId);
  // The same ids and the same check as POST /api/protections: an operation under an id of an
  // earlier version answers only for the very datasource it protects.
  const existing = await findExistingProtection(
    client,
    [instanceId, legacyProtectionInstanceId(datasourceId)],
    (recorded) => isForDatasource(recorded, datasourceId),
  );
  if (existing)
    return {
      action: "existing",
      instanceId: existing.instanceId,
      status: existing.status.runtimeStatus,
    };
  await client.startNew(orchestrationNames.protectDatasource, { instanceId, input });
  return {
    action: "started",
    instanceId,
    request: {
      datasourceId: input.datasource.datasourceId,
      policyName: input.policyName,
      ...(input.secretUri ? { secretUri: input.secretUri } : {}),
    },
  };
}

/**
 * Handles one resource write: reads the resource's tags (events carry none) and, when the
 * auto-protect tag names a policy, starts its protection.
 *
 * @param vaultId - the vault to protect into.
 */
export async function autoProtectResource(
  resourceId: string,
  client: Pick<df.DurableClient, "getStatus" | "startNew">,
  directory: Pick<ResourceDirectoryPort, "getTags">,
  settings: AutoProtectSettings,
  vaultId: string,
): Promise<AutoProtectOutcome> {
  const target = autoProtectTargetOf(resourceId);
  if (target.kind === "ignored") return { action: "ignored", reason: target.reason };
  let tags: Readonly<Record<string, string>>;
  try {
    tags = await directory.getTags(target.datasourceId);
  } catch (error) {
    // Deleted since the write: nothing to protect.
    if (isAppError(error) && error.httpStatus === 404)
      return { action: "ignored", reason: `${resourceId} no longer exists` };
    throw error;
  }
  const decision = autoProtectDecision(target, tags, settings);
  if (decision.action === "ignore") return { action: "ignored", reason: decision.reason };
  return startProtectionOnce(client, {
    datasource: { datasourceId: decision.request.datasourceId },
    vaultId,
    policyName: decision.request.policyName,
    ...(decision.request.secretUri ? { secretUri: decision.request.secretUri } : {}),
    requestedBy: autoProtectRequester,
  });
}

/**
 * Handles one delivered event, in the Event Grid or the CloudEvents schema.
 *
 * @remarks Events that are not resource writes, or name other resources, are acknowledged and
 * logged; a failure to read tags or to start the orchestration throws, so Event Grid redelivers.
 */
export async function autoProtect(
  event: unknown,
  context: InvocationContext,
  client: Pick<df.DurableClient, "getStatus" | "startNew">,
  deps: Pick<AppDependencies, "config" | "provider" | "vaults">,
): Promise<AutoProtectOutcome> {
  const write = readResourceWriteEvent(event);
  let outcome: AutoProtectOutcome;
  if (!write) {
    outcome = { action: "ignored", reason: "the event has no type or resource" };
  } else if (write.type.toLowerCase() !== resourceWriteSuccessType.toLowerCase()) {
    outcome = { action: "ignored", reason: `${write.type} is not ${resourceWriteSuccessType}` };
  } else {
    outcome = await autoProtectResource(
      write.resourceId,
      client,
      deps.provider.directory,
      autoProtectSettingsOf(deps),
      deps.vaults.resolve(deps.config.AUTO_PROTECT_VAULT),
    );
  }
  const id = (event as { id?: unknown } | null)?.id;
  const label = `Event ${typeof id === "string" ? id : "(no id)"}`;
  if (outcome.action === "ignored") context.log(`${label} ignored: ${outcome.reason}`);
  else if (outcome.action === "existing")
    context.log(`${label}: protection ${outcome.instanceId} is already ${outcome.status}`);
  else
    context.log(
      `${label}: protecting ${outcome.request.datasourceId} with policy ${outcome.request.policyName} (${outcome.instanceId})`,
    );
  return outcome;
}

app.eventGrid<unknown>("eventGridAutoProtect", {
  extraInputs: [df.input.durableClient()],
  handler: async (event, context) => {
    await autoProtect(event, context, df.getClient(context), await appDependencies());
  },
});
