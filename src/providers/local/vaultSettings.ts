/**
 * The local vault's security settings, stated honestly: one folder on one disk, with soft delete
 * as the local lifecycle keeps it (deleted instances kept for undelete for the service's default
 * retention) and none of Azure Backup's other defences (immutability, resource guard, restores
 * across regions or subscriptions, built-in alerts), which the local provider does not have.
 */
import { DEFAULT_SOFT_DELETE_RETENTION_DAYS } from "../../domain/protection/lifecycle.js";
import type { VaultSecuritySettings } from "../../domain/vault/posture.js";
import type { VaultSettingsPort } from "../ports.js";

/** What every local vault is: the settings do not vary from vault to vault. */
export const localVaultSecuritySettings: VaultSecuritySettings = {
  redundancy: "LocalDisk",
  immutability: "NotAvailable",
  softDelete: { state: "On", retentionDays: DEFAULT_SOFT_DELETE_RETENTION_DAYS },
  crossRegionRestore: "NotAvailable",
  crossSubscriptionRestore: "NotAvailable",
  resourceGuard: { state: "NotAvailable", resourceGuardIds: [] },
  // Failed jobs reach people through the app's own notifications, not a vault's alerts.
  jobFailureAlerts: "NotAvailable",
};

/** The local provider's vault settings port. */
export const localVaultSettings: VaultSettingsPort = {
  readVaultSettings: () => Promise.resolve(localVaultSecuritySettings),
};
