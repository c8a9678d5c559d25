/**
 * The key vault holding a Single Server database's connection string, and how it lets the Backup
 * vault's identity read secrets: "Key Vault Secrets User" on a key vault using Azure RBAC, or `get`
 * and `list` secret permissions in the access policy of one that does not. A secret URI names the
 * key vault's host, not its ARM id, so the key vault is found through Resource Graph by its URI.
 *
 * @remarks Access policies are checked, never granted: adding one writes the key vault resource
 * itself (its `accessPolicies` property, replaced as a whole), a change to the customer's key vault
 * well beyond a role assignment, so it is left to the key vault's owner (`az keyvault set-policy`).
 * A key vault Resource Graph does not show (another subscription, no read access) is not checked
 * at all: the service's validateForBackup still checks it.
 */
import { parseKeyVaultSecretIdentifier } from "@azure/keyvault-secrets";
import { InvalidInputError } from "../../domain/errors.js";
import { kustoString, type ResourceGraphClient } from "./resourceGraph.js";

/** The secret permissions the vault's identity needs in a key vault's access policy. */
export const requiredSecretPermissions = ["get", "list"] as const;

/** One entry of a key vault's access policy, as Resource Manager records it. */
export interface KeyVaultAccessPolicy {
  readonly tenantId?: string;
  readonly objectId?: string;
  /** Set for a compound identity (an application acting for a user), which is not the vault's. */
  readonly applicationId?: string | null;
  readonly permissions?: { readonly secrets?: readonly string[] | null };
}

/** A key vault as Resource Graph shows it. */
export interface KeyVaultFound {
  /** ARM id of the key vault. */
  readonly id: string;
  /** Its name, as `az keyvault` commands take it. */
  readonly name: string;
  /** The vault URI it was found by: `https://{host}/`. */
  readonly vaultUri: string;
  /** Whether data-plane access goes through Azure RBAC rather than access policies. */
  readonly rbac: boolean;
  /** Its access policy; ignored by Key Vault when `rbac` is set. */
  readonly accessPolicies: readonly KeyVaultAccessPolicy[];
}

/**
 * The vault URI Resource Manager records for the key vault a secret URI names (`https://{host}/`,
 * with the trailing slash).
 *
 * @throws InvalidInputError `INVALID_SECRET_URI` when it is not a Key Vault secret URI.
 */
export function keyVaultUriOf(secretUri: string): string {
  try {
    const url = new URL(secretUri);
    // The parser takes any Key Vault identifier (keys, certificates); only a secret is read.
    if (url.pathname.split("/")[1]?.toLowerCase() !== "secrets") throw new Error("not a secret");
    return `${new URL(parseKeyVaultSecretIdentifier(secretUri).vaultUrl).origin}/`;
  } catch {
    throw new InvalidInputError(
      "INVALID_SECRET_URI",
      `'${secretUri}' is not a Key Vault secret URI`,
      [
        {
          path: "$.secretUri",
          code: "INVALID_SECRET_URI",
          message: "expected https://{vault}.vault.azure.net/secrets/{name}",
        },
      ],
    );
  }
}

/**
 * The secret permissions among {@link requiredSecretPermissions} a key vault's access policy does
 * not give a principal, in that order.
 *
 * @remarks Only entries for the principal itself count: a compound entry (with an
 * `applicationId`) applies to an application acting for the principal, not to the principal.
 */
export function missingSecretPermissions(
  policies: readonly KeyVaultAccessPolicy[],
  principalId: string,
): string[] {
  const granted = new Set(
    policies
      .filter(
        (policy) =>
          (policy.objectId ?? "").toLowerCase() === principalId.toLowerCase() &&
          !policy.applicationId,
      )
      .flatMap((policy) => policy.permissions?.secrets ?? [])
      .map((permission) => permission.toLowerCase()),
  );
  if (granted.has("all")) return [];
  return requiredSecretPermissions.filter((permission) => !granted.has(permission));
}

interface KeyVaultRow {
  readonly id?: string;
  readonly enableRbacAuthorization?: boolean | null;
  readonly accessPolicies?: readonly KeyVaultAccessPolicy[] | null;
}

/** Options of {@link KeyVaultLocator}. */
export interface KeyVaultLocatorOptions {
  /** How long an RBAC key vault's answer is reused; 10 minutes by default. */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

/** Finds key vaults by their URI through Resource Graph. */
export class KeyVaultLocator {
  private readonly known = new Map<
    string,
    { readonly found: Promise<KeyVaultFound | undefined>; readonly at: number }
  >();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly graph: ResourceGraphClient,
    options: KeyVaultLocatorOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 10 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * The key vault holding a secret, or `undefined` when Resource Graph does not show it in the
   * subscriptions.
   *
   * @remarks A fan-out checks many databases whose secrets share a key vault, and Resource Graph's
   * per-user quota is small: concurrent look-ups of one key vault share one query, and an RBAC key
   * vault's answer is reused for a while (its id and model rarely change). An access-policy key
   * vault, or one not found, is read again each time, so that a fix is seen by the next attempt.
   * @throws InvalidInputError `INVALID_SECRET_URI` when `secretUri` is not a Key Vault secret URI.
   */
  find(secretUri: string, subscriptions: readonly string[]): Promise<KeyVaultFound | undefined> {
    const vaultUri = keyVaultUriOf(secretUri);
    const key = [vaultUri, ...subscriptions].join("|").toLowerCase();
    const known = this.known.get(key);
    if (known && this.now() - known.at < this.ttlMs) return known.found;
    const entry = { found: this.lookUp(vaultUri, subscriptions), at: this.now() };
    this.known.set(key, entry);
    const forget = () => {
      if (this.known.get(key) === entry) this.known.delete(key);
    };
    entry.found.then((found) => {
      if (!found?.rbac) forget();
    }, forget);
    return entry.found;
  }

  private async lookUp(
    vaultUri: string,
    subscriptions: readonly string[],
  ): Promise<KeyVaultFound | undefined> {
    const [row] = await this.graph.query<KeyVaultRow>(
      subscriptions,
      "resources | where type =~ 'microsoft.keyvault/vaults'" +
        ` and properties.vaultUri =~ ${kustoString(vaultUri)}` +
        " | project id, enableRbacAuthorization = properties.enableRbacAuthorization," +
        " accessPolicies = properties.accessPolicies",
      `Finding the key vault ${vaultUri}`,
    );
    if (!row?.id) return undefined;
    return {
      id: row.id,
      name: row.id.split("/").at(-1) ?? row.id,
      vaultUri,
      rbac: row.enableRbacAuthorization === true,
      accessPolicies: row.accessPolicies ?? [],
    };
  }
}
