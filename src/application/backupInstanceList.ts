/**
 * The backup instances lookup: the protected items of every vault the app covers (or of one), each
 * described as `GET /api/backup-instances/{name}` describes it.
 */
import type { BackupPolicyResource } from "../domain/policy/types.js";
import {
  describeBackupInstance,
  type BackupInstanceView,
  type LookupDependencies,
} from "./backupInstances.js";
import { vaultsToSearch } from "./vaults.js";

/**
 * Every backup instance of the named vault, or of every vault the app covers, sorted by vault and
 * friendly name.
 *
 * @remarks Instances sharing a policy read it once.
 */
export async function listBackupInstanceViews(
  deps: LookupDependencies,
  vault: string | undefined,
  now: Date,
): Promise<BackupInstanceView[]> {
  const vaultIds = await vaultsToSearch(deps, vault);
  const policies = new Map<string, Promise<BackupPolicyResource | undefined>>();
  const perVault = await Promise.all(
    vaultIds.map(async (vaultId) => {
      const instances = await deps.provider.backup.listBackupInstances(vaultId);
      return Promise.all(
        instances.map((instance) =>
          describeBackupInstance(deps, { vaultId, instance }, now, policies),
        ),
      );
    }),
  );
  return perVault
    .flat()
    .sort(
      (a, b) =>
        a.vaultName.localeCompare(b.vaultName) || a.friendlyName.localeCompare(b.friendlyName),
    );
}
