/**
 * Auto-protection: a PostgreSQL resource tagged with the auto-protect tag (by default
 * `pgprotect-policy`, its value naming the policy) is put under backup.
 *
 * Events (`Microsoft.Resources.ResourceWriteSuccess`) carry no tags, so the handler reads them
 * from the resource directory; this module reads the event and turns tags into a request.
 *
 * A database needs a secret with its connection string. Its name comes from the tag
 * `pgprotect-secret` (a secret name or a full secret URI), or by convention is
 * `<server>-<database>`; a bare name lives in the configured Key Vault (locally, the local secret
 * store).
 */
import { datasourceTargetOf, DATABASE_DATASOURCE_TYPE } from "../protection/naming.js";
import { tagValue } from "./plans.js";

/** The event type auto-protection listens to. */
export const resourceWriteSuccessType = "Microsoft.Resources.ResourceWriteSuccess";
/** The tag naming the secret of a database datasource. */
export const secretTagName = "pgprotect-secret";
/** The tag auto-protection looks for when none is configured. */
export const defaultAutoProtectTag = "pgprotect-policy";

/** What the handler needs of a delivered event, in either Event Grid or CloudEvents schema. */
export interface ResourceWriteEvent {
  readonly id: string;
  readonly type: string;
  /** ARM id of the resource written (a tags write names the resource, not its tags scope). */
  readonly resourceId: string;
  readonly operationName?: string;
}

const tagsScope = /\/providers\/Microsoft\.Resources\/tags\/default$/i;

/** Reads an event delivered in the Event Grid schema (`eventType`) or as a CloudEvent (`type`). */
export function readResourceWriteEvent(event: unknown): ResourceWriteEvent | undefined {
  if (typeof event !== "object" || event === null) return undefined;
  const record = event as Record<string, unknown>;
  const type = typeof record["type"] === "string" ? record["type"] : record["eventType"];
  const data = (
    typeof record["data"] === "object" && record["data"] !== null ? record["data"] : {}
  ) as Record<string, unknown>;
  const resource =
    typeof data["resourceUri"] === "string" ? data["resourceUri"] : record["subject"];
  if (typeof type !== "string" || typeof resource !== "string") return undefined;
  return {
    id: typeof record["id"] === "string" ? record["id"] : "",
    type,
    resourceId: resource.replace(tagsScope, ""),
    ...(typeof data["operationName"] === "string" ? { operationName: data["operationName"] } : {}),
  };
}

/** What a written resource is to auto-protection. */
export type AutoProtectTarget =
  | {
      readonly kind: "database";
      readonly datasourceId: string;
      readonly serverName: string;
      readonly databaseName: string;
    }
  | { readonly kind: "flexibleServer"; readonly datasourceId: string; readonly serverName: string }
  | { readonly kind: "ignored"; readonly reason: string };

/** Classifies a written resource: a database, a Flexible Server, or something auto-protection ignores. */
export function autoProtectTargetOf(resourceId: string): AutoProtectTarget {
  if (!/\/providers\/Microsoft\.DBforPostgreSQL\//i.test(resourceId)) {
    return { kind: "ignored", reason: `${resourceId} is not a PostgreSQL resource` };
  }
  try {
    const target = datasourceTargetOf(resourceId);
    if (
      target.datasourceType === DATABASE_DATASOURCE_TYPE &&
      target.database.kind === "flexibleServers"
    ) {
      // The service protects a Flexible Server whole, never one of its databases.
      return {
        kind: "ignored",
        reason: `${resourceId} is a database of a Flexible Server; tag the server to protect it whole`,
      };
    }
    return target.datasourceType === DATABASE_DATASOURCE_TYPE
      ? {
          kind: "database",
          datasourceId: resourceId,
          serverName: target.database.serverName,
          databaseName: target.database.databaseName,
        }
      : { kind: "flexibleServer", datasourceId: resourceId, serverName: target.server.serverName };
  } catch (error) {
    return {
      kind: "ignored",
      reason: `${resourceId} cannot be protected as it is: ${(error as Error).message}`,
    };
  }
}

/** A protection to start, as `POST /api/protections` would. */
export interface AutoProtectRequest {
  readonly datasourceId: string;
  readonly policyName: string;
  readonly secretUri?: string;
}

/** Settings auto-protection reads. */
export interface AutoProtectSettings {
  /** The tag whose value names the policy. */
  readonly tagName: string;
  /** Key Vault name for bare secret names; without one only a full secret URI in the tag works. */
  readonly keyVaultName?: string;
}

/** The decision for one resource: protect it, or why not. */
export type AutoProtectDecision =
  | { readonly action: "protect"; readonly request: AutoProtectRequest }
  | { readonly action: "ignore"; readonly reason: string };

/**
 * Decides what to do for a written resource, given its current tags.
 *
 * @param tags - the resource's tags as the directory reports them (events carry none).
 */
export function autoProtectDecision(
  target: AutoProtectTarget,
  tags: Readonly<Record<string, string>>,
  settings: AutoProtectSettings,
): AutoProtectDecision {
  if (target.kind === "ignored") return { action: "ignore", reason: target.reason };
  const policyName = tagValue(tags, settings.tagName)?.trim();
  if (!policyName)
    return { action: "ignore", reason: `${target.datasourceId} has no '${settings.tagName}' tag` };
  if (target.kind === "flexibleServer")
    return { action: "protect", request: { datasourceId: target.datasourceId, policyName } };
  const secret =
    tagValue(tags, secretTagName)?.trim() || `${target.serverName}-${target.databaseName}`;
  const secretUri = /^https:\/\//i.test(secret)
    ? secret
    : settings.keyVaultName
      ? `https://${settings.keyVaultName.toLowerCase()}.vault.azure.net/secrets/${secret}`
      : undefined;
  // Without a secret the protection fails at its access check, which names what is missing.
  return {
    action: "protect",
    request: { datasourceId: target.datasourceId, policyName, ...(secretUri ? { secretUri } : {}) },
  };
}
