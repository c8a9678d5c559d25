/**
 * The local service's recovery points: listed across stores, copied to ArchiveStore by the
 * lifecycle, deleted, and found again for a backup job that committed one before a crash.
 */
import type {
  BackupJob,
  RecoveryPoint,
  RecoveryPointStoreType,
} from "../../../domain/protection/types.js";
import { assertStoredRecoveryPointIntact } from "../recoveryPointIntegrity.js";
import { recoveryPointStores, type VaultFolder } from "../vaultStore.js";
import type { LocalServiceContext } from "./context.js";
import { instanceNameOf, recoveryPointIdOf, type StoredJob } from "./jobRecords.js";

/** The recovery points of an instance, oldest first, each with the stores that hold it. */
export async function listRecoveryPoints(
  context: LocalServiceContext,
  vaultId: string,
  instanceName: string,
): Promise<RecoveryPoint[]> {
  const { vault } = await context.vault(vaultId);
  const byId = new Map<string, RecoveryPoint>();
  for (const store of recoveryPointStores) {
    for (const { storedAt, ...manifest } of await vault.listManifests(store, instanceName)) {
      const existing = byId.get(manifest.recoveryPointId);
      const dataStore = { type: store, creationTime: storedAt };
      byId.set(
        manifest.recoveryPointId,
        existing
          ? { ...existing, dataStores: [...existing.dataStores, dataStore] }
          : { ...manifest, dataStores: [dataStore] },
      );
    }
  }
  return [...byId.values()].sort(
    (a, b) => Date.parse(a.recoveryPointTime) - Date.parse(b.recoveryPointTime),
  );
}

/**
 * Copies a recovery point to another store (the lifecycle's copy to ArchiveStore).
 *
 * @throws NotFoundError `ResourceNotFound` when the source store lacks it.
 */
export async function copyRecoveryPoint(
  context: LocalServiceContext,
  vaultId: string,
  instanceName: string,
  recoveryPointId: string,
  to: RecoveryPointStoreType,
  from: RecoveryPointStoreType,
): Promise<void> {
  const { vault } = await context.vault(vaultId);
  // A copy of a changed or cut file would carry the damage into the other store.
  await assertStoredRecoveryPointIntact(
    vault.recoveryPointFolder(from, instanceName, recoveryPointId),
    `copied to ${to}`,
  );
  if (
    !(await vault.copyRecoveryPoint(
      instanceName,
      recoveryPointId,
      from,
      to,
      context.now().toISOString(),
    ))
  ) {
    throw context.notFound(
      `Recovery point '${recoveryPointId}' of '${instanceName}' is not in ${from}`,
    );
  }
}

/**
 * Deletes a recovery point from one store, or from every store.
 *
 * @returns whether anything was deleted.
 */
export async function deleteRecoveryPoint(
  context: LocalServiceContext,
  vaultId: string,
  instanceName: string,
  recoveryPointId: string,
  store?: RecoveryPointStoreType,
): Promise<boolean> {
  const { vault } = await context.vault(vaultId);
  let deleted = false;
  for (const s of store ? [store] : recoveryPointStores) {
    deleted = (await vault.deleteRecoveryPoint(instanceName, recoveryPointId, s)) || deleted;
  }
  return deleted;
}

/** The recovery point a backup job committed already, as the job's result. */
export async function committedPointOf(
  vault: VaultFolder,
  job: StoredJob,
): Promise<Partial<BackupJob> | undefined> {
  const instanceName = instanceNameOf(job);
  for (const store of recoveryPointStores) {
    const manifest = (await vault.listManifests(store, instanceName)).find(
      (m) => m.jobId === job.id || m.recoveryPointId === recoveryPointIdOf(job),
    );
    if (manifest)
      return {
        recoveryPointId: manifest.recoveryPointId,
        dataTransferredInBytes: manifest.sizeBytes,
      };
  }
  return undefined;
}
