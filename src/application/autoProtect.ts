/**
 * The user story "auto-protect": a PostgreSQL server or database written with the auto-protect
 * tag is protected under the policy the tag names, through the same start-once rule as
 * `POST /api/protections`.
 */
import { isAppError } from "../domain/errors.js";
import {
  autoProtectDecision,
  autoProtectTargetOf,
  readResourceWriteEvent,
  resourceWriteSuccessType,
  type AutoProtectRequest,
  type AutoProtectSettings,
} from "../domain/plans/autoProtect.js";
import type { ProtectDatasourceInput } from "../orchestrations/protectDatasource.js";
import type { ResourceDirectoryPort } from "../providers/ports.js";
import { defaultKeyVaultName, type ApplicationDependencies } from "./dependencies.js";
import type { OrchestrationPort } from "./orchestrationPort.js";
import type { ResolvedDatasource } from "../domain/protection/datasource.js";
import { DATABASE_DATASOURCE_TYPE, datasourceTargetOf } from "../domain/protection/naming.js";
import { checkServiceLimits } from "./protectionChecks.js";
import { datasourceProtection, startProtectionOnce } from "./protectionOperations.js";

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

/** What auto-protection reads. */
export type AutoProtectDependencies = Pick<
  ApplicationDependencies,
  "config" | "provider" | "vaults"
>;

/** The settings auto-protection works with, from the app's configuration. */
export function autoProtectSettingsOf(
  deps: Pick<ApplicationDependencies, "config">,
): AutoProtectSettings {
  const keyVaultName = defaultKeyVaultName(deps.config);
  return { tagName: deps.config.AUTO_PROTECT_TAG, ...(keyVaultName ? { keyVaultName } : {}) };
}

/**
 * Starts `protectDatasource` for a tagged resource under the same instance id as
 * `POST /api/protections`, unless an operation is running or has protected the datasource; a
 * failed attempt is tried again.
 */
export async function protectTagged(
  orchestrations: OrchestrationPort,
  input: ProtectDatasourceInput & { readonly datasource: { readonly datasourceId: string } },
): Promise<AutoProtectOutcome & { action: "started" | "existing" }> {
  const { datasourceId } = input.datasource;
  const outcome = await startProtectionOnce(orchestrations, {
    ...datasourceProtection(datasourceId),
    input: async () => input,
  });
  if (!outcome.started)
    return {
      action: "existing",
      instanceId: outcome.instanceId,
      status: outcome.status.runtimeStatus,
    };
  return {
    action: "started",
    instanceId: outcome.instanceId,
    request: {
      datasourceId,
      policyName: input.policyName,
      ...(input.secretUri ? { secretUri: input.secretUri } : {}),
    },
  };
}

/**
 * Why a datasource breaks the service's limits (`undefined` when it does not), so that a tagged
 * resource the service cannot protect is ignored with the documented reason instead of starting
 * a protection bound to fail.
 */
export type ServiceLimitRefusalOf = (
  datasourceId: string,
  secretUri: string | undefined,
) => Promise<string | undefined>;

/**
 * The datasource an id names, without a directory lookup: the resource was just read for its
 * tags, and Resource Graph's quota is better spent on the protection itself.
 */
function datasourceNamedBy(datasourceId: string): ResolvedDatasource {
  const target = datasourceTargetOf(datasourceId);
  if (target.datasourceType === DATABASE_DATASOURCE_TYPE && "database" in target) {
    const { serverName, databaseName } = target.database;
    return {
      datasourceId,
      kind: "database",
      datasourceType: target.datasourceType,
      serverName,
      databaseName,
      friendlyName: `${serverName}/${databaseName}`,
      location: "",
      tags: {},
    };
  }
  const serverName = "server" in target ? target.server.serverName : "";
  return {
    datasourceId,
    kind: "server",
    datasourceType: target.datasourceType,
    serverName,
    friendlyName: serverName,
    location: "",
    tags: {},
  };
}

/** The limit check of auto-protection: the same as `POST /api/protections`, a refusal as a reason. */
export function serviceLimitRefusalOf(
  provider: AutoProtectDependencies["provider"],
): ServiceLimitRefusalOf | undefined {
  const { limits } = provider;
  if (!limits) return undefined;
  return async (datasourceId, secretUri) => {
    try {
      await checkServiceLimits(limits, datasourceNamedBy(datasourceId), secretUri);
      return undefined;
    } catch (error) {
      // A broken limit holds however often the event is delivered: say so, do not fail the delivery.
      if (isAppError(error) && error.httpStatus === 422) return error.message;
      throw error;
    }
  };
}

/**
 * Handles one resource write: reads the resource's tags (events carry none) and, when the
 * auto-protect tag names a policy, starts its protection.
 *
 * @param vaultId - the vault to protect into.
 * @param refusalOf - the service's limits, checked before anything starts (none when absent).
 */
export async function autoProtectResource(
  resourceId: string,
  orchestrations: OrchestrationPort,
  directory: Pick<ResourceDirectoryPort, "getTags">,
  settings: AutoProtectSettings,
  vaultId: string,
  refusalOf?: ServiceLimitRefusalOf,
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
  const refusal = await refusalOf?.(decision.request.datasourceId, decision.request.secretUri);
  if (refusal !== undefined) return { action: "ignored", reason: refusal };
  return protectTagged(orchestrations, {
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
 * @remarks Events that are not resource writes, or name other resources, are ignored with the
 * reason; a failure to read tags or to start the orchestration throws, so Event Grid redelivers.
 */
export async function autoProtectEvent(
  event: unknown,
  deps: AutoProtectDependencies,
  orchestrations: OrchestrationPort,
): Promise<AutoProtectOutcome> {
  const write = readResourceWriteEvent(event);
  if (!write) return { action: "ignored", reason: "the event has no type or resource" };
  if (write.type.toLowerCase() !== resourceWriteSuccessType.toLowerCase())
    return { action: "ignored", reason: `${write.type} is not ${resourceWriteSuccessType}` };
  return autoProtectResource(
    write.resourceId,
    orchestrations,
    deps.provider.directory,
    autoProtectSettingsOf(deps),
    deps.vaults.resolve(deps.config.AUTO_PROTECT_VAULT),
    serviceLimitRefusalOf(deps.provider),
  );
}
