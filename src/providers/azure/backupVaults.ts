/**
 * Backup vaults, as far as pgprotect needs them: region and managed identity.
 */
import { isUnexpected } from "./dataProtection/index.js";
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
