/**
 * The fake Resource Manager's vault security: each vault's security settings, as
 * `BackupVaults_Get` answers them, and its resource guard proxies (`DppResourceGuardProxy_List`).
 * A vault nobody configured answers as the fake always has (locally redundant, nothing else
 * stated); {@link FakeVaultPosture.configure} gives it settings, or makes its answer hold only
 * what the OpenAPI document requires, as a service omitting every optional property would.
 */
import { RequiredOnlyPruner } from "./requiredOnly.js";

type Json = Record<string, unknown>;

/** A vault's security settings, in the service's own values (unknown values are allowed). */
export interface FakeVaultSecurity {
  /** The VaultStore's `StorageSettingTypes`. */
  readonly redundancy?: string;
  readonly softDelete?: { readonly state: string; readonly retentionDurationInDays?: number };
  readonly immutability?: string;
  readonly crossRegionRestore?: string;
  readonly crossSubscriptionRestore?: string;
  readonly alertsForAllJobFailures?: string;
  /** Resource guards mapped to the vault: one proxy each. */
  readonly resourceGuardIds?: readonly string[];
  /** Answer the vault with the properties the document requires, and nothing else. */
  readonly requiredOnly?: boolean;
}

/** A vault that meets pgprotect's recommended baseline. */
export const baselineVaultSecurity: FakeVaultSecurity = {
  redundancy: "GeoRedundant",
  softDelete: { state: "On", retentionDurationInDays: 14 },
  immutability: "Unlocked",
  crossRegionRestore: "Enabled",
  crossSubscriptionRestore: "Disabled",
  alertsForAllJobFailures: "Enabled",
  resourceGuardIds: [
    "/subscriptions/0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9/resourceGroups/rg-security/providers/Microsoft.DataProtection/resourceGuards/guard-pg",
  ],
};

/** Security settings and resource guard proxies of the fake's vaults, by vault id. */
export class FakeVaultPosture {
  private readonly settings = new Map<string, FakeVaultSecurity>();
  private pruner: RequiredOnlyPruner | undefined;

  /** Gives a vault its security settings (replacing earlier ones). */
  configure(vaultId: string, security: FakeVaultSecurity): void {
    this.settings.set(vaultId.toLowerCase(), security);
  }

  /** The vault's answer to `BackupVaults_Get`, from the fake's own body of it. */
  answer(vaultId: string, body: Json): Json {
    const security = this.settings.get(vaultId.toLowerCase());
    if (!security) return body;
    if (security.requiredOnly) {
      this.pruner ??= new RequiredOnlyPruner();
      const url = new URL(`https://management.azure.com${vaultId}?api-version=2026-06-01`);
      return this.pruner.prune("GET", url, 200, body) as Json;
    }
    const properties = { ...(body["properties"] as Json) };
    if (security.redundancy)
      properties["storageSettings"] = [{ datastoreType: "VaultStore", type: security.redundancy }];
    const securitySettings: Json = {};
    if (security.softDelete) securitySettings["softDeleteSettings"] = { ...security.softDelete };
    if (security.immutability)
      securitySettings["immutabilitySettings"] = { state: security.immutability };
    if (Object.keys(securitySettings).length > 0) properties["securitySettings"] = securitySettings;
    const featureSettings: Json = {};
    if (security.crossRegionRestore)
      featureSettings["crossRegionRestoreSettings"] = { state: security.crossRegionRestore };
    if (security.crossSubscriptionRestore)
      featureSettings["crossSubscriptionRestoreSettings"] = {
        state: security.crossSubscriptionRestore,
      };
    if (Object.keys(featureSettings).length > 0) properties["featureSettings"] = featureSettings;
    if (security.alertsForAllJobFailures)
      properties["monitoringSettings"] = {
        azureMonitorAlertSettings: { alertsForAllJobFailures: security.alertsForAllJobFailures },
      };
    properties["isVaultProtectedByResourceGuard"] = (security.resourceGuardIds ?? []).length > 0;
    return { ...body, properties };
  }

  /** The vault's resource guard proxies, as `DppResourceGuardProxy_List` lists them. */
  resourceGuardProxies(vaultId: string): Json[] {
    const guards = this.settings.get(vaultId.toLowerCase())?.resourceGuardIds ?? [];
    // The service names the one proxy a vault may have `DppResourceGuardProxy`.
    return guards.map((guardId, index) => {
      const name = index === 0 ? "DppResourceGuardProxy" : `DppResourceGuardProxy${index}`;
      return {
        id: `${vaultId}/backupResourceGuardProxies/${name}`,
        name,
        type: "Microsoft.DataProtection/vaults/backupResourceGuardProxies",
        properties: {
          resourceGuardResourceId: guardId,
          resourceGuardOperationDetails: [
            {
              vaultCriticalOperation:
                "Microsoft.DataProtection/backupVaults/backupResourceGuardProxies/delete",
              defaultResourceRequest: `${guardId}/deleteResourceGuardProxyRequests/default`,
            },
          ],
          lastUpdatedTime: "2026-11-02T09:14:07.1234567Z",
          description: "Multi-user authorization for the PostgreSQL backup vault",
        },
      };
    });
  }
}
