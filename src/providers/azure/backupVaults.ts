/**
 * Backup vaults, as far as pgprotect needs them: region and managed identity, and the security
 * settings their posture is judged on.
 */
import { isAppError } from "../../domain/errors.js";
import type { VaultSecuritySettings } from "../../domain/vault/posture.js";
import type { VaultSettingsPort } from "../ports.js";
import {
  isUnexpected,
  listAll,
  type BackupVaultSecurityPropertiesOutput,
  type ResourceGuardProxyBaseResourceOutput,
} from "./dataProtection/index.js";
import { VAULT_ROUTE, type DataProtectionRequests } from "./dataProtectionRequests.js";

/** What pgprotect needs to know of a Backup vault. */
export interface BackupVaultSummary {
  readonly id: string;
  readonly name: string;
  readonly location: string;
  /** The vault's system-assigned identity, when it has one. */
  readonly principalId?: string;
  readonly provisioningState: string;
}

/**
 * A vault's region and managed identity: the identity needs roles on what it protects, and the
 * vault must be in the datasource's region.
 */
export async function readVault(
  requests: DataProtectionRequests,
  vaultId: string,
): Promise<BackupVaultSummary> {
  const v = requests.vault(vaultId);
  const response = await requests.call("Reading the Backup vault", () =>
    requests.client.path(VAULT_ROUTE, v.subscriptionId, v.resourceGroup, v.vaultName).get(),
  );
  if (isUnexpected(response)) requests.fail(response, "Reading the Backup vault");
  const body = response.body;
  return {
    id: body.id || vaultId,
    name: body.name || v.vaultName,
    location: body.location,
    ...(body.identity?.principalId ? { principalId: body.identity.principalId } : {}),
    provisioningState: body.properties?.provisioningState ?? "",
  };
}

/** The first of `allowed` equal to `value` but for case; `unknown` for an absent or new value. */
function knownValue<T extends string>(value: unknown, allowed: readonly T[]): T | "unknown" {
  if (typeof value !== "string") return "unknown";
  return allowed.find((a) => a.toLowerCase() === value.toLowerCase()) ?? "unknown";
}

/** The VaultStore's redundancy: the datastore PostgreSQL backups are kept in. */
function redundancyOf(
  storage: BackupVaultSecurityPropertiesOutput["storageSettings"],
): VaultSecuritySettings["redundancy"] {
  const settings = storage ?? [];
  const vaultStore =
    settings.find((s) => s.datastoreType?.toLowerCase() === "vaultstore") ??
    (settings.length === 1 && settings[0]?.datastoreType === undefined ? settings[0] : undefined);
  return knownValue(vaultStore?.type, ["LocallyRedundant", "ZoneRedundant", "GeoRedundant"]);
}

/**
 * Soft delete's state. The service's own examples answer `Enabled` and `Disabled` (its earlier
 * values) beside the contract's `Off`, `On` and `AlwaysOn`: those read as `On` and `Off`.
 */
function softDeleteStateOf(state: unknown): VaultSecuritySettings["softDelete"]["state"] {
  const aliases: Record<string, "On" | "Off"> = { enabled: "On", disabled: "Off" };
  if (typeof state === "string" && aliases[state.toLowerCase()])
    return aliases[state.toLowerCase()] ?? "unknown";
  return knownValue(state, ["Off", "On", "AlwaysOn"]);
}

/** A vault's security settings as `BackupVaults_Get` states them (resource guard aside). */
export function vaultSecuritySettingsOf(
  properties: BackupVaultSecurityPropertiesOutput | undefined,
): Omit<VaultSecuritySettings, "resourceGuard"> {
  const p = properties ?? {};
  const retention = p.securitySettings?.softDeleteSettings?.retentionDurationInDays;
  return {
    redundancy: redundancyOf(p.storageSettings),
    immutability: knownValue(p.securitySettings?.immutabilitySettings?.state, [
      "Disabled",
      "Unlocked",
      "Locked",
    ]),
    softDelete: {
      state: softDeleteStateOf(p.securitySettings?.softDeleteSettings?.state),
      retentionDays: typeof retention === "number" && Number.isFinite(retention) ? retention : null,
    },
    crossRegionRestore: knownValue(p.featureSettings?.crossRegionRestoreSettings?.state, [
      "Enabled",
      "Disabled",
    ]),
    crossSubscriptionRestore: knownValue(
      p.featureSettings?.crossSubscriptionRestoreSettings?.state,
      ["Enabled", "Disabled", "PermanentlyDisabled"],
    ),
    jobFailureAlerts: knownValue(
      p.monitoringSettings?.azureMonitorAlertSettings?.alertsForAllJobFailures,
      ["Enabled", "Disabled"],
    ),
  };
}

/**
 * Whether multi-user authorization guards a vault: its resource guard proxies say so (one per
 * guard), else the vault's read-only `isVaultProtectedByResourceGuard`.
 *
 * @param proxies - the proxies listed, or undefined when the caller may not list them.
 */
export function resourceGuardOf(
  proxies: readonly ResourceGuardProxyBaseResourceOutput[] | undefined,
  protectedFlag: boolean | undefined,
): VaultSecuritySettings["resourceGuard"] {
  const resourceGuardIds = (proxies ?? [])
    .map((proxy) => proxy.properties?.resourceGuardResourceId)
    .filter((id): id is string => typeof id === "string" && id !== "");
  if ((proxies?.length ?? 0) > 0 || protectedFlag === true)
    return { state: "Protected", resourceGuardIds };
  // A list answered empty is the service saying no guard is mapped.
  if (proxies !== undefined || protectedFlag === false)
    return { state: "NotProtected", resourceGuardIds };
  return { state: "unknown", resourceGuardIds };
}

/** Vault security settings over Azure Backup (`BackupVaults_Get`, `DppResourceGuardProxy_List`). */
export class AzureVaultSettings implements VaultSettingsPort {
  constructor(private readonly requests: DataProtectionRequests) {}

  /** @throws AppError `RESOURCE_NOT_FOUND` for a vault that does not exist. */
  async readVaultSettings(vaultId: string): Promise<VaultSecuritySettings> {
    const v = this.requests.vault(vaultId);
    const operation = "Reading the Backup vault's security settings";
    const response = await this.requests.call(operation, () =>
      this.requests.client.path(VAULT_ROUTE, v.subscriptionId, v.resourceGroup, v.vaultName).get(),
    );
    if (isUnexpected(response)) this.requests.fail(response, operation);
    const properties = response.body.properties as BackupVaultSecurityPropertiesOutput | undefined;
    const proxies = await this.resourceGuardProxies(vaultId);
    return {
      ...vaultSecuritySettingsOf(properties),
      resourceGuard: resourceGuardOf(proxies, properties?.isVaultProtectedByResourceGuard),
    };
  }

  /** The vault's resource guard proxies; undefined when the app may not read them (403). */
  private async resourceGuardProxies(
    vaultId: string,
  ): Promise<ResourceGuardProxyBaseResourceOutput[] | undefined> {
    const v = this.requests.vault(vaultId);
    const operation = "Listing the Backup vault's resource guard proxies";
    try {
      const first = await this.requests.call(operation, () =>
        this.requests.client
          .path(
            `${VAULT_ROUTE}/backupResourceGuardProxies`,
            v.subscriptionId,
            v.resourceGroup,
            v.vaultName,
          )
          .get(),
      );
      return await listAll<ResourceGuardProxyBaseResourceOutput>(
        this.requests.client,
        first,
        operation,
      );
    } catch (error) {
      // A reader role without the proxies' read permission: the vault's own flag still says.
      if (isAppError(error) && error.httpStatus === 403) return undefined;
      throw error;
    }
  }
}
