/**
 * What every part of the local Backup vault service shares: its options, the scope of its ids,
 * its clock, and the resolution of a vault id to the vault's folder.
 */
import { randomUUID } from "node:crypto";
import { availableParallelism } from "node:os";
import path from "node:path";
import { NotFoundError } from "../../../domain/errors.js";
import {
  formatVaultId,
  LOCAL_SCOPE,
  parseVaultId,
  sameResourceId,
  type ResourceScope,
  type VaultRef,
} from "../../../domain/protection/ids.js";
import { followsRule, vaultNameRule } from "../../../domain/protection/names.js";
import { ProviderErrorCodes } from "../../ports.js";
import type { LocalResourceDirectory } from "../resourceDirectory.js";
import type { LocalSecretStore } from "../secretStore.js";
import { existingVaultFolderName, VaultFolder } from "../vaultStore.js";
import { ServerSlots } from "./serverSlots.js";

/** Options of the local Backup vault service. */
export interface LocalBackupServiceOptions {
  readonly stateDir: string;
  readonly secrets: LocalSecretStore;
  readonly directory: LocalResourceDirectory;
  /** Folder of `pg_dump`, `pg_restore`, `psql`. */
  readonly binDir: string;
  readonly scope?: ResourceScope;
  readonly now?: () => Date;
  /** Bytes all recovery points of one vault may take; unlimited when absent. */
  readonly vaultCapacityBytes?: number;
  /**
   * Most parallel jobs of one database's dump or restore (`LOCAL_BACKUP_PARALLEL_JOBS`), bounded
   * by the cores too; as many as the cores when absent.
   */
  readonly parallelJobs?: number;
  /** `pg_dump -Z` level, 0-9 (`LOCAL_BACKUP_COMPRESSION`); pg_dump's default when absent. */
  readonly compressionLevel?: number;
  /** Bytes from which a table counts towards a parallel dump; 16 MiB when absent. */
  readonly parallelTableMinBytes?: number;
  /** The cores that bound parallel jobs; the machine's when absent. */
  readonly cpuCount?: number;
  /**
   * Most databases of one server dumped at a time, across all jobs (`LOCAL_BACKUP_CONCURRENCY`);
   * two per core when absent, and bounded by the server's free connections either way.
   */
  readonly databasesAtOnce?: number;
  /** Called with the pid of each `pg_dump` started (lets tests interrupt a dump). */
  readonly onDumpStarted?: (jobId: string, pid: number) => void;
  /**
   * Folders a restore as files may write under (`LOCAL_RESTORE_FOLDERS`); `<stateDir>/restores`
   * when absent, so that an Operator's request cannot write wherever the worker's user can.
   */
  readonly restoreFolders?: readonly string[];
}

/** A vault's folder and its parsed id, under the folder's own spelling of the name. */
export interface ResolvedVault {
  readonly vault: VaultFolder;
  readonly ref: VaultRef;
}

/** The options, the clock and the vault resolution the service's parts share. */
export class LocalServiceContext {
  readonly options: LocalBackupServiceOptions;
  readonly scope: ResourceScope;
  readonly now: () => Date;
  /** Identifies this service object among others of the same process. */
  readonly instance = randomUUID();
  /** The databases of each server dumped at a time, shared by every job of this service. */
  readonly serverSlots: ServerSlots;
  readonly #recoverVault: (vaultName: string) => Promise<void>;

  /**
   * @param recoverVault - settles a vault's jobs orphaned by an earlier process; every vault
   * resolution waits for it, so no request sees a job a dead process left `InProgress`.
   */
  constructor(
    options: LocalBackupServiceOptions,
    recoverVault: (vaultName: string) => Promise<void>,
  ) {
    this.options = options;
    this.scope = options.scope ?? LOCAL_SCOPE;
    this.now = options.now ?? (() => new Date());
    this.serverSlots = new ServerSlots({
      configured: options.databasesAtOnce,
      cores: options.cpuCount ?? availableParallelism(),
    });
    this.#recoverVault = recoverVault;
  }

  /** The folders a restore as files may write under, absolute. */
  get restoreFolders(): readonly string[] {
    const folders = this.options.restoreFolders ?? [];
    return folders.length > 0
      ? folders.map((folder) => path.resolve(folder))
      : [path.join(this.stateDir, "restores")];
  }

  /** The state folder the vaults live under. */
  get stateDir(): string {
    return path.resolve(this.options.stateDir);
  }

  /** The ARM id of a local vault. */
  vaultId(vaultName: string): string {
    return formatVaultId({ ...this.scope, vaultName });
  }

  /** The folder of a vault by its name as stored. */
  vaultFolder(vaultName: string): VaultFolder {
    return VaultFolder.of(this.options.stateDir, vaultName);
  }

  /** Parses and checks a vault id, and settles jobs orphaned by an earlier process (once). */
  async vault(vaultId: string): Promise<ResolvedVault> {
    const ref = parseVaultId(vaultId);
    if (
      !sameResourceId(formatVaultId(ref), this.vaultId(ref.vaultName)) ||
      !followsRule(vaultNameRule, ref.vaultName)
    ) {
      throw this.notFound(
        `'${vaultId}' is not a vault of this local provider (subscription ${this.scope.subscriptionId}, resource group ${this.scope.resourceGroup})`,
      );
    }
    // Azure names ignore case: `PGPROTECT-VAULT` is the folder `pgprotect-vault`.
    const vaultName =
      (await existingVaultFolderName(this.options.stateDir, ref.vaultName)) ?? ref.vaultName;
    const vault = this.vaultFolder(vaultName);
    await this.#recoverVault(vaultName);
    return { vault, ref: { ...ref, vaultName } };
  }

  /** The service's answer for something that is not there. */
  notFound(message: string): NotFoundError {
    return new NotFoundError(ProviderErrorCodes.resourceNotFound, message);
  }
}
