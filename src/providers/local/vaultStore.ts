/**
 * The on-disk layout of a local Backup vault and the primitives that keep it consistent.
 *
 * ```
 * <stateDir>/vaults/<vault>/
 *   meta/backupPolicies/<name>.json     policies, as the service returns them
 *   meta/backupInstances/<name>.json    backup instances
 *   meta/deletedBackupInstances/<name>.json  soft-deleted instances, until undeleted or purged
 *   meta/backupJobs/<guid>.json         jobs
 *   schedule/<instance>.json            the policy scheduler's watermark and lifecycle plans
 *   VaultStore/<instance>/<rp>/         one folder per recovery point: dumps + manifest.json
 *     01-<db>.dump                      a `pg_dump -Fc` file, or
 *     01-<db>.dir/                      a `pg_dump -Fd` folder (toc.dat and one file per table)
 *   ArchiveStore/<instance>/<rp>/       the same, for points copied to the archive tier
 *   .staging/<job>/                     a recovery point being written; renamed into a store when complete
 *   .trash/                             folders being deleted (renamed out of a store first)
 * ```
 *
 * @remarks A recovery point is in a store exactly when its folder is there, and a folder appears
 * there only by an atomic rename of a complete, synced staging folder. The manifest inside it is
 * the recovery point's metadata, so files and metadata cannot disagree.
 */
import { randomUUID } from "node:crypto";
import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { InvalidInputError } from "../../domain/errors.js";
import { sameAzureName } from "../../domain/protection/names.js";
import type { RecoveryPoint, RecoveryPointStoreType } from "../../domain/protection/types.js";
import {
  fsyncFolder,
  readdirIfExists,
  readJsonFile,
  readJsonFolder,
  writeJsonAtomic,
} from "../atomicFiles.js";
import { copyDumpEntry } from "./dumpEntries.js";

/** The stores of a vault, in the order recovery points move through them. */
export const recoveryPointStores: readonly RecoveryPointStoreType[] = [
  "VaultStore",
  "ArchiveStore",
];

/** The metadata of a recovery point as kept in one store (`manifest.json`). */
export type RecoveryPointManifest = Omit<RecoveryPoint, "dataStores"> & {
  /** When this copy was committed to its store. */
  readonly storedAt: string;
};

/** Kinds of metadata records. */
export type MetadataKind =
  "backupPolicies" | "backupInstances" | "backupJobs" | "deletedBackupInstances";

/** Names that are safe as one path segment. */
export function assertSafeSegment(name: string): string {
  if (
    name === "" ||
    name === "." ||
    name === ".." ||
    /[/\\\0]/.test(name) ||
    name.startsWith(".")
  ) {
    throw new InvalidInputError("INVALID_RESOURCE_NAME", `'${name}' is not a valid resource name`, [
      {
        path: "$.name",
        code: "INVALID_RESOURCE_NAME",
        message: "names must not be empty, start with '.', or contain '/' or '\\'",
      },
    ]);
  }
  return name;
}

/** Names of the vault folders under a state folder. */
export async function listVaultFolderNames(stateDir: string): Promise<string[]> {
  return (await readdirIfExists(path.join(path.resolve(stateDir), "vaults"))).filter(
    (name) => !name.startsWith("."),
  );
}

/** The name spelt exactly as `name`, else one equal to it but for case (Azure names ignore case). */
function nameLike(names: readonly string[], name: string): string | undefined {
  return names.find((n) => n === name) ?? names.find((n) => sameAzureName(n, name));
}

/**
 * The folder name of an existing vault, whatever the case it is asked in: Azure names ignore case,
 * so `PGPROTECT-VAULT` is the folder `pgprotect-vault`, never a second vault.
 */
export async function existingVaultFolderName(
  stateDir: string,
  vaultName: string,
): Promise<string | undefined> {
  return nameLike(await listVaultFolderNames(stateDir), vaultName);
}

/**
 * Creates a vault's folder unless a vault of that name, in any case, exists.
 *
 * @returns the vault's name as its folder spells it, and whether it was created now.
 */
export async function createVaultFolder(
  stateDir: string,
  vaultName: string,
): Promise<{ readonly vaultName: string; readonly created: boolean }> {
  const existing = await existingVaultFolderName(stateDir, vaultName);
  if (existing) return { vaultName: existing, created: false };
  const folder = VaultFolder.of(stateDir, vaultName);
  await mkdir(path.join(folder.root, "meta"), { recursive: true, mode: 0o700 });
  await fsyncFolder(path.dirname(folder.root));
  return { vaultName, created: true };
}

/** One vault's folder. */
export class VaultFolder {
  constructor(readonly root: string) {}

  /** The vault folder of `vaultName` under a state folder. */
  static of(stateDir: string, vaultName: string): VaultFolder {
    return new VaultFolder(
      path.join(path.resolve(stateDir), "vaults", assertSafeSegment(vaultName)),
    );
  }

  /** Folder of a store's recovery points of one instance. */
  storeFolder(store: RecoveryPointStoreType, instanceName: string): string {
    return path.join(this.root, store, assertSafeSegment(instanceName));
  }

  /** Folder of one recovery point in one store. */
  recoveryPointFolder(
    store: RecoveryPointStoreType,
    instanceName: string,
    recoveryPointId: string,
  ): string {
    return path.join(this.storeFolder(store, instanceName), assertSafeSegment(recoveryPointId));
  }

  /** The staging folder of a job. */
  stagingFolder(jobName: string): string {
    return path.join(this.root, ".staging", assertSafeSegment(jobName));
  }

  async readRecord<T>(kind: MetadataKind, name: string): Promise<T | undefined> {
    return readJsonFile<T>(path.join(this.root, "meta", kind, `${assertSafeSegment(name)}.json`));
  }

  /** The stored name of a record, whatever the case it is asked in (Azure names ignore case). */
  async recordNameLike(kind: MetadataKind, name: string): Promise<string | undefined> {
    const files = await readdirIfExists(path.join(this.root, "meta", kind));
    const names = files.filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -".json".length));
    return nameLike(names, name);
  }

  async writeRecord(kind: MetadataKind, name: string, value: unknown): Promise<void> {
    await writeJsonAtomic(
      path.join(this.root, "meta", kind, `${assertSafeSegment(name)}.json`),
      value,
    );
  }

  /** Removes a record; one already gone is no error. */
  async removeRecord(kind: MetadataKind, name: string): Promise<void> {
    const folder = path.join(this.root, "meta", kind);
    await rm(path.join(folder, `${assertSafeSegment(name)}.json`), { force: true });
    await fsyncFolder(folder);
  }

  async listRecords<T>(kind: MetadataKind): Promise<T[]> {
    return readJsonFolder<T>(path.join(this.root, "meta", kind));
  }

  /** Manifests of the recovery points of one instance in one store. */
  async listManifests(
    store: RecoveryPointStoreType,
    instanceName: string,
  ): Promise<RecoveryPointManifest[]> {
    const folder = this.storeFolder(store, instanceName);
    const manifests: RecoveryPointManifest[] = [];
    for (const name of await readdirIfExists(folder)) {
      const manifest = await readJsonFile<RecoveryPointManifest>(
        path.join(folder, name, "manifest.json"),
      );
      if (manifest) manifests.push(manifest);
    }
    return manifests;
  }

  /** Instance names with at least one folder in any store. */
  async instancesWithRecoveryPoints(): Promise<string[]> {
    const names = new Set<string>();
    for (const store of recoveryPointStores) {
      for (const name of await readdirIfExists(path.join(this.root, store))) names.add(name);
    }
    return [...names];
  }

  /**
   * Makes a staged recovery point visible in a store: writes its manifest, syncs the folder and
   * renames it into place.
   */
  async commitStaged(
    staging: string,
    store: RecoveryPointStoreType,
    manifest: RecoveryPointManifest,
  ): Promise<void> {
    // Its rename's folder sync covers the dumps' entries too: the staging folder is synced once.
    await writeJsonAtomic(path.join(staging, "manifest.json"), manifest, 0o600);
    const target = this.recoveryPointFolder(
      store,
      manifest.backupInstanceName,
      manifest.recoveryPointId,
    );
    await mkdir(path.dirname(target), { recursive: true });
    await rename(staging, target);
    await fsyncFolder(path.dirname(target));
  }

  /**
   * Copies a recovery point from one store to another (ArchiveStore tiering), through staging.
   *
   * @returns false when the source copy does not exist; true when the target holds it afterwards.
   */
  async copyRecoveryPoint(
    instanceName: string,
    recoveryPointId: string,
    from: RecoveryPointStoreType,
    to: RecoveryPointStoreType,
    storedAt: string,
  ): Promise<boolean> {
    const source = this.recoveryPointFolder(from, instanceName, recoveryPointId);
    const manifest = await readJsonFile<RecoveryPointManifest>(path.join(source, "manifest.json"));
    if (!manifest) return false;
    const target = this.recoveryPointFolder(to, instanceName, recoveryPointId);
    if (await readJsonFile(path.join(target, "manifest.json"))) return true;
    const staging = this.stagingFolder(`copy-${randomUUID()}`);
    await mkdir(staging, { recursive: true, mode: 0o700 });
    try {
      for (const file of manifest.files)
        await copyDumpEntry(
          path.join(source, file.fileName),
          path.join(staging, file.fileName),
          file,
        );
      await this.commitStaged(staging, to, { ...manifest, storedAt });
      return true;
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * Removes a recovery point from a store: renamed out first, so the store never shows a
   * half-deleted folder.
   *
   * @returns whether it was there.
   */
  async deleteRecoveryPoint(
    instanceName: string,
    recoveryPointId: string,
    store: RecoveryPointStoreType,
  ): Promise<boolean> {
    const folder = this.recoveryPointFolder(store, instanceName, recoveryPointId);
    const trash = path.join(this.root, ".trash", `${recoveryPointId}-${randomUUID()}`);
    await mkdir(path.dirname(trash), { recursive: true });
    try {
      await rename(folder, trash);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw error;
    }
    await fsyncFolder(path.dirname(folder));
    await rm(trash, { recursive: true, force: true });
    return true;
  }

  /**
   * Removes leftovers of interrupted work: every staging folder (an archive copy's too) but those
   * of the jobs in `keep`, and the trash.
   */
  async removeLeftovers(keep: readonly string[]): Promise<void> {
    const kept = new Set(keep);
    for (const name of await readdirIfExists(path.join(this.root, ".staging"))) {
      if (!kept.has(name))
        await rm(path.join(this.root, ".staging", name), { recursive: true, force: true });
    }
    await rm(path.join(this.root, ".trash"), { recursive: true, force: true });
  }
}
