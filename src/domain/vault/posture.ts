/**
 * A Backup vault's security posture, compared with the recommended baseline: the settings that
 * decide whether backups survive ransomware (soft delete, immutability, multi-user authorization,
 * restores kept in the subscription) and the loss of a region (geo-redundancy, cross-region
 * restore), and whether anyone hears of a failed job (built-in alerts).
 *
 * @remarks Pure: the providers read the settings ({@link VaultSecuritySettings}) and this module
 * alone judges them, so the Azure vault, the local vault, the HTTP API and the CLI agree. A
 * setting the provider could not read is `unknown` and reported as such, never taken for safe;
 * a setting the provider does not have at all (the local vault has no resource guard) is
 * `NotAvailable` and judged only where its absence matters.
 */
import type { ErrorCode } from "../errorCodes.js";

/** A setting the vault's answer did not state (an optional property left out). */
export type Unknown = "unknown";

/** A setting the provider does not have (the local vault's cross-region restore). */
export type NotAvailable = "NotAvailable";

/**
 * Where the vault keeps its backups: the service's `StorageSettingTypes` of the VaultStore, or
 * `LocalDisk` for the local vault (one folder on one machine).
 */
export type VaultRedundancy = "LocallyRedundant" | "ZoneRedundant" | "GeoRedundant" | "LocalDisk";

/** The service's `ImmutabilityState`. */
export type ImmutabilityState = "Disabled" | "Unlocked" | "Locked";

/** The service's `SoftDeleteState`. */
export type SoftDeleteState = "Off" | "On" | "AlwaysOn";

/** The service's `CrossRegionRestoreState`. */
export type CrossRegionRestoreState = "Enabled" | "Disabled";

/** The service's `CrossSubscriptionRestoreState`. */
export type CrossSubscriptionRestoreState = "Enabled" | "Disabled" | "PermanentlyDisabled";

/** The service's `AlertsState` of `alertsForAllJobFailures`. */
export type AlertsState = "Enabled" | "Disabled";

/** Whether multi-user authorization guards the vault. */
export type ResourceGuardState = "Protected" | "NotProtected";

/** A vault's security settings as its provider reads them. */
export interface VaultSecuritySettings {
  readonly redundancy: VaultRedundancy | Unknown;
  readonly immutability: ImmutabilityState | NotAvailable | Unknown;
  readonly softDelete: {
    readonly state: SoftDeleteState | Unknown;
    /** Days a deleted backup is kept for undelete; null when the vault does not say. */
    readonly retentionDays: number | null;
  };
  readonly crossRegionRestore: CrossRegionRestoreState | NotAvailable | Unknown;
  readonly crossSubscriptionRestore: CrossSubscriptionRestoreState | NotAvailable | Unknown;
  readonly resourceGuard: {
    readonly state: ResourceGuardState | NotAvailable | Unknown;
    /** ARM ids of the resource guards the vault's proxies name (none when not protected). */
    readonly resourceGuardIds: readonly string[];
  };
  readonly jobFailureAlerts: AlertsState | NotAvailable | Unknown;
}

/** The setting a warning is about, as {@link VaultSecuritySettings} names it. */
export type PostureSetting =
  | "redundancy"
  | "immutability"
  | "softDelete"
  | "softDelete.retentionDays"
  | "crossRegionRestore"
  | "crossSubscriptionRestore"
  | "resourceGuard"
  | "jobFailureAlerts";

/** How much a warning weakens the vault: `high` risks losing the backups themselves. */
export type WarningSeverity = "high" | "medium" | "low";

/** One way the vault falls short of the baseline, and what to do about it. */
export interface PostureWarning {
  /** Stable code of the catalogue (`VAULT_SOFT_DELETE_OFF`, ...). */
  readonly code: ErrorCode;
  readonly setting: PostureSetting;
  readonly severity: WarningSeverity;
  /** The value found, as the vault states it (`Off`, `LocallyRedundant`, `unknown`, `7 days`). */
  readonly found: string;
  /** The value the baseline recommends. */
  readonly recommended: string;
  /** Why it matters: what it protects against. */
  readonly why: string;
  /** What to change: the `az` command, or the Bicep parameter of this project's template. */
  readonly change: string;
}

/** A vault's settings judged against the baseline. */
export interface VaultPosture {
  readonly settings: VaultSecuritySettings;
  /** True when no warning stands (nothing unknown either). */
  readonly meetsBaseline: boolean;
  /** The warnings, the most severe first. */
  readonly warnings: readonly PostureWarning[];
}

/** The recommended baseline; the one home of its thresholds. */
export interface PostureBaseline {
  /** Fewest days soft-deleted backups are kept (the service allows 14 to 180). */
  readonly minimumSoftDeleteRetentionDays: number;
}

/** The baseline this project recommends and its Bicep template provisions. */
export const recommendedBaseline: PostureBaseline = { minimumSoftDeleteRetentionDays: 14 };

/** Where a vault is, for the commands a warning names. */
export interface VaultAddress {
  readonly vaultName: string;
  readonly resourceGroup: string;
  /** The local provider's vault: its remedies are the local provider's. */
  readonly local?: boolean;
}

const severityOrder: Record<WarningSeverity, number> = { high: 0, medium: 1, low: 2 };

/** `az dataprotection backup-vault update` of the vault with `flags`. */
function azUpdate(vault: VaultAddress, flags: string): string {
  return `az dataprotection backup-vault update --resource-group ${vault.resourceGroup} --vault-name ${vault.vaultName} ${flags}`;
}

function unknownWarning(
  setting: PostureSetting,
  recommended: string,
  severity: WarningSeverity,
  why: string,
  vault: VaultAddress,
): PostureWarning {
  return {
    code: "VAULT_SETTING_UNKNOWN",
    setting,
    severity,
    found: "unknown",
    recommended,
    why: `The vault's answer does not state this setting, so it cannot be told safe. ${why}`,
    change: `Read the vault with az dataprotection backup-vault show --resource-group ${vault.resourceGroup} --vault-name ${vault.vaultName}, and set it explicitly`,
  };
}

function redundancyWarnings(s: VaultSecuritySettings, vault: VaultAddress): PostureWarning[] {
  const why =
    "Backups kept in one region are lost with that region (a regional outage or disaster); geo-redundant storage keeps a copy in the paired region.";
  const recommended = "GeoRedundant";
  if (s.redundancy === "unknown")
    return [unknownWarning("redundancy", recommended, "high", why, vault)];
  if (s.redundancy === "GeoRedundant") return [];
  return [
    {
      code: "VAULT_NOT_GEO_REDUNDANT",
      setting: "redundancy",
      severity: s.redundancy === "ZoneRedundant" ? "medium" : "high",
      found: s.redundancy,
      recommended,
      why:
        s.redundancy === "LocalDisk"
          ? "The local vault is one folder on one disk: losing the disk or the machine loses every backup. Keep production backups in an Azure Backup vault."
          : s.redundancy === "ZoneRedundant"
            ? `Zone-redundant storage survives the loss of a zone, not of the region. ${why}`
            : why,
      change: vault.local
        ? "Use the Azure provider with a geo-redundant vault for data that must survive this machine"
        : `A vault's redundancy cannot change once it protects data: create a new vault with az dataprotection backup-vault create --storage-setting "[{type:'GeoRedundant',datastore-type:'VaultStore'}]" (Bicep: backupVaultRedundancy = 'GeoRedundant') and move protection to it`,
    },
  ];
}

function crossRegionRestoreWarnings(
  s: VaultSecuritySettings,
  vault: VaultAddress,
): PostureWarning[] {
  // Cross-region restore needs a geo-redundant vault; elsewhere the redundancy warning says it.
  if (s.redundancy !== "GeoRedundant") return [];
  const why =
    "Without cross-region restore the copy in the paired region can be restored only after Microsoft declares a regional disaster.";
  if (s.crossRegionRestore === "unknown")
    return [unknownWarning("crossRegionRestore", "Enabled", "medium", why, vault)];
  if (s.crossRegionRestore !== "Disabled") return [];
  return [
    {
      code: "VAULT_CROSS_REGION_RESTORE_DISABLED",
      setting: "crossRegionRestore",
      severity: "medium",
      found: s.crossRegionRestore,
      recommended: "Enabled",
      why,
      change: `${azUpdate(vault, "--cross-region-restore-state Enabled")} (Bicep: enabled with backupVaultRedundancy = 'GeoRedundant'); it cannot be disabled again`,
    },
  ];
}

function softDeleteWarnings(
  s: VaultSecuritySettings,
  vault: VaultAddress,
  baseline: PostureBaseline,
): PostureWarning[] {
  const days = baseline.minimumSoftDeleteRetentionDays;
  const recommended = `On or AlwaysOn, kept ${days} days or more`;
  const why =
    "Soft delete keeps deleted backups for undelete: an attacker (ransomware) or a mistake that deletes the backups does not destroy them.";
  const { state, retentionDays } = s.softDelete;
  if (state === "unknown") return [unknownWarning("softDelete", recommended, "high", why, vault)];
  if (state === "Off")
    return [
      {
        code: "VAULT_SOFT_DELETE_OFF",
        setting: "softDelete",
        severity: "high",
        found: state,
        recommended,
        why,
        change: `${azUpdate(vault, `--soft-delete-state On --retention-duration-in-days ${days}`)} (Bicep: backupVaultSoftDeleteState = 'On' or 'AlwaysOn', backupVaultSoftDeleteRetentionDays = ${days})`,
      },
    ];
  if (retentionDays === null)
    return [
      unknownWarning(
        "softDelete.retentionDays",
        `${days} days or more`,
        "low",
        "Soft delete is on, but for how long deleted backups are kept is not stated.",
        vault,
      ),
    ];
  if (retentionDays >= days) return [];
  return [
    {
      code: "VAULT_SOFT_DELETE_RETENTION_SHORT",
      setting: "softDelete.retentionDays",
      severity: "medium",
      found: `${retentionDays} days`,
      recommended: `${days} days or more`,
      why: "A deletion noticed late is noticed after the purge: the retention is the time there is to notice.",
      change: vault.local
        ? "The local vault keeps deleted instances for the service's default, 14 days"
        : `${azUpdate(vault, `--retention-duration-in-days ${days}`)} (Bicep: backupVaultSoftDeleteRetentionDays)`,
    },
  ];
}

function immutabilityWarnings(s: VaultSecuritySettings, vault: VaultAddress): PostureWarning[] {
  const recommended = "Unlocked, then Locked once retention is settled";
  const why =
    "Immutability stops anyone, an administrator or ransomware with their credentials, from deleting or shortening recovery points before they expire.";
  if (s.immutability === "unknown")
    return [unknownWarning("immutability", recommended, "high", why, vault)];
  if (s.immutability === "Unlocked" || s.immutability === "Locked") return [];
  return [
    {
      code: "VAULT_IMMUTABILITY_DISABLED",
      setting: "immutability",
      severity: "high",
      found: s.immutability,
      recommended,
      why:
        s.immutability === "NotAvailable"
          ? `The local vault has no immutability: whoever can write its folder can delete its recovery points. ${why}`
          : why,
      change: vault.local
        ? "Keep backups that must survive an attack in an Azure Backup vault with immutability enabled"
        : `${azUpdate(vault, "--immutability-state Unlocked")} (Bicep: backupVaultImmutabilityState = 'Unlocked'; 'Locked' cannot be undone)`,
    },
  ];
}

function crossSubscriptionRestoreWarnings(
  s: VaultSecuritySettings,
  vault: VaultAddress,
): PostureWarning[] {
  const recommended = "Disabled (or PermanentlyDisabled)";
  const why =
    "Restores into other subscriptions let backups leave the subscription's controls: a way out for stolen data.";
  if (s.crossSubscriptionRestore === "unknown")
    return [unknownWarning("crossSubscriptionRestore", recommended, "low", why, vault)];
  if (s.crossSubscriptionRestore !== "Enabled") return [];
  return [
    {
      code: "VAULT_CROSS_SUBSCRIPTION_RESTORE_ENABLED",
      setting: "crossSubscriptionRestore",
      severity: "low",
      found: s.crossSubscriptionRestore,
      recommended,
      why: `${why} Leave it on only where restores to another subscription are planned.`,
      change: `${azUpdate(vault, "--cross-subscription-restore-state Disabled")} (Bicep: backupVaultCrossSubscriptionRestoreState = 'Disabled')`,
    },
  ];
}

function resourceGuardWarnings(s: VaultSecuritySettings, vault: VaultAddress): PostureWarning[] {
  const recommended = "Protected by a resource guard in another subscription or tenant";
  const why =
    "Multi-user authorization makes critical operations (disabling soft delete, deleting backup data, lowering retention) need a second person's approval, so one stolen administrator account is not enough.";
  if (s.resourceGuard.state === "unknown")
    return [unknownWarning("resourceGuard", recommended, "medium", why, vault)];
  if (s.resourceGuard.state !== "NotProtected") return [];
  return [
    {
      code: "VAULT_RESOURCE_GUARD_MISSING",
      setting: "resourceGuard",
      severity: "medium",
      found: s.resourceGuard.state,
      recommended,
      why,
      change: `Create a resource guard that another team owns (az dataprotection resource-guard create), then az dataprotection backup-vault resource-guard-mapping create --resource-group ${vault.resourceGroup} --vault-name ${vault.vaultName} --resource-guard-id <guard id>`,
    },
  ];
}

function alertWarnings(s: VaultSecuritySettings, vault: VaultAddress): PostureWarning[] {
  const why =
    "Built-in Azure Monitor alerts for job failures tell someone that backups stopped working, through action groups.";
  if (s.jobFailureAlerts === "unknown")
    return [unknownWarning("jobFailureAlerts", "Enabled", "low", why, vault)];
  if (s.jobFailureAlerts !== "Disabled") return [];
  return [
    {
      code: "VAULT_JOB_FAILURE_ALERTS_DISABLED",
      setting: "jobFailureAlerts",
      severity: "low",
      found: s.jobFailureAlerts,
      recommended: "Enabled",
      why,
      change: `${azUpdate(vault, "--azure-monitor-alerts-for-job-failures Enabled")} (Bicep: enabled by the template)`,
    },
  ];
}

/**
 * Judges a vault's settings against the baseline: one warning per setting that falls short or is
 * unknown, each with its stable code, what was found, what is recommended, why, and what to change.
 *
 * @param vault - the vault's name and resource group, for the commands the warnings name.
 */
export function assessVaultPosture(
  settings: VaultSecuritySettings,
  vault: VaultAddress,
  baseline: PostureBaseline = recommendedBaseline,
): VaultPosture {
  const warnings = [
    ...redundancyWarnings(settings, vault),
    ...crossRegionRestoreWarnings(settings, vault),
    ...softDeleteWarnings(settings, vault, baseline),
    ...immutabilityWarnings(settings, vault),
    ...resourceGuardWarnings(settings, vault),
    ...crossSubscriptionRestoreWarnings(settings, vault),
    ...alertWarnings(settings, vault),
  ];
  // A stable sort: within a severity, the order above (the most consequential first).
  const sorted = [...warnings].sort(
    (a, b) => severityOrder[a.severity] - severityOrder[b.severity],
  );
  return { settings, meetsBaseline: sorted.length === 0, warnings: sorted };
}
