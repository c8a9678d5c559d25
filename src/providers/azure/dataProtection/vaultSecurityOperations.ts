/**
 * The vault security reads of the Data Protection client: a vault's security settings as
 * `BackupVaults_Get` answers them, and its resource guard proxies (`DppResourceGuardProxy_List`),
 * which say whether multi-user authorization guards it (api-version 2026-06-01).
 */
import type { HttpResponse, StreamableMethod } from "@azure-rest/core-client";
import type { ProxyResourceOutput } from "./outputModels.js";
import type { NoBodyParameters } from "./parameters.js";
import type { DataProtectionDefaultResponse } from "./responses.js";

/**
 * `BackupVault`'s security-related properties. All are optional in the contract, and every enum
 * is `modelAsString`: a reader takes an absent or unfamiliar value for unknown.
 */
export interface BackupVaultSecurityPropertiesOutput {
  storageSettings?: { datastoreType?: string; type?: string }[];
  securitySettings?: {
    softDeleteSettings?: { state?: string; retentionDurationInDays?: number };
    immutabilitySettings?: { state?: string };
  };
  featureSettings?: {
    crossSubscriptionRestoreSettings?: { state?: string };
    crossRegionRestoreSettings?: { state?: string };
  };
  monitoringSettings?: { azureMonitorAlertSettings?: { alertsForAllJobFailures?: string } };
  /** Read-only. */
  isVaultProtectedByResourceGuard?: boolean;
}

/** `ResourceGuardProxyBaseResource`. */
export interface ResourceGuardProxyBaseResourceOutput extends ProxyResourceOutput {
  properties?: {
    resourceGuardResourceId?: string;
    resourceGuardOperationDetails?: {
      vaultCriticalOperation?: string;
      defaultResourceRequest?: string;
    }[];
    lastUpdatedTime?: string;
    description?: string;
  };
}

/** A page of `ResourceGuardProxyBaseResource`. */
export interface ResourceGuardProxyBaseResourceListOutput {
  value?: ResourceGuardProxyBaseResourceOutput[];
  nextLink?: string;
}

/** `DppResourceGuardProxy_List` 200. */
export interface DppResourceGuardProxyList200Response extends HttpResponse {
  status: "200";
  body: ResourceGuardProxyBaseResourceListOutput;
}

/** `{rgp}/backupVaults/{vaultName}/backupResourceGuardProxies`. */
export interface DppResourceGuardProxyList {
  /** The resource guard proxies of a vault: one for each resource guard that guards it. */
  get(
    options?: NoBodyParameters,
  ): StreamableMethod<DppResourceGuardProxyList200Response | DataProtectionDefaultResponse>;
}
