/**
 * Listing the jobs of several vaults through whichever source the provider has: one cross-vault
 * query where it offers one ({@link CrossVaultJobPort}), one list per vault otherwise.
 */
import type { BackupJob } from "../domain/protection/types.js";
import type { JobFilter, Provider } from "../providers/ports.js";

/**
 * The jobs of the vaults matching the filter, oldest start first; jobs starting at the same
 * instant keep the order of `vaultIds`.
 *
 * @remarks With a cross-vault source (Azure: Resource Graph) this is one query for all vaults,
 * spending Resource Graph's quota instead of a Resource Manager read per vault and page. Without
 * one (the local provider), each vault is listed with `listJobs` and the lists merged, which is
 * what the cross-vault source is held to return.
 */
export async function listJobsOfVaults(
  provider: Pick<Provider, "backup" | "jobs">,
  vaultIds: readonly string[],
  filter: JobFilter = {},
): Promise<BackupJob[]> {
  if (vaultIds.length === 0) return [];
  if (provider.jobs) return provider.jobs.listJobsAcrossVaults(vaultIds, filter);
  const lists = await Promise.all(
    vaultIds.map((vaultId) => provider.backup.listJobs(vaultId, filter)),
  );
  // Array.prototype.sort is stable: equal starts stay in vault order.
  return lists.flat().sort((a, b) => Date.parse(a.startTime) - Date.parse(b.startTime));
}
