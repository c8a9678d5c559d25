/**
 * The local Backup vault service: policies, backup instances, jobs and recovery points kept under
 * the state folder, backups made with `pg_dump -Fc`, restores with `pg_restore`.
 *
 * @remarks Operations answer like the service's long-running operations: `triggerBackup` and
 * `triggerRestore` return a job id at once and the job runs on in this process; `getJob` shows
 * its progress. A job left `InProgress` by a process that is gone is marked `Failed`
 * (`UserErrorJobInterrupted`) the next time the vault is used, and its staging folder removed.
 */
import { randomUUID } from "node:crypto";
import { copyFile, mkdir, open, readdir, realpath, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { BackupPolicy, BackupPolicyResource } from "../../domain/policy/types.js";
import { isBackupRule, isRetentionRule } from "../../domain/policy/types.js";
import { assertValidPolicy } from "../../domain/policy/validation.js";
import { AppError, InvalidInputError, NotFoundError, toAppError } from "../../domain/errors.js";
import {
  libpqEnvironment,
  type PostgresConnectionParams,
} from "../../domain/protection/connectionString.js";
import {
  formatRecoveryPointId,
  formatVaultChildId,
  formatVaultId,
  LOCAL_SCOPE,
  parseDatabaseId,
  parseVaultChildId,
  parseVaultId,
  sameResourceId,
  type ResourceScope,
  type VaultRef,
} from "../../domain/protection/ids.js";
import {
  DATABASE_DATASOURCE_TYPE,
  datasourceTargetOf,
  FLEXIBLE_SERVER_DATASOURCE_TYPE,
} from "../../domain/protection/naming.js";
import { weeklyBackupLimitViolation } from "../../domain/protection/rules.js";
import type {
  BackupInstance,
  BackupInstanceSpec,
  BackupJob,
  JobOperation,
  RecoveryPoint,
  RecoveryPointFile,
  RecoveryPointStoreType,
  ServiceErrorDetail,
} from "../../domain/protection/types.js";
import type {
  AdhocBackupRequest,
  BackupServicePort,
  BackupValidation,
  JobFilter,
  JobReference,
  RestoreRequest,
} from "../ports.js";
import { ProviderErrorCodes } from "../ports.js";
import { writeFileAtomic } from "./atomicFiles.js";
import { dumpDatabaseToFile } from "./dumpFile.js";
import { clientConfig, quoteIdent, withClient } from "./pgConnection.js";
import { runTool, ToolFailedError } from "./processes.js";
import type { LocalResourceDirectory } from "./resourceDirectory.js";
import {
  verificationFailure,
  verifyRestoredDatabase,
  type RestoreVerificationReport,
} from "./restoreVerification.js";
import type { LocalSecretStore } from "./secretStore.js";
import { recoveryPointStores, VaultFolder, type RecoveryPointManifest } from "./vaultStore.js";

/** Options of {@link LocalBackupService}. */
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
  /** Called with the pid of each `pg_dump` started (lets tests interrupt a dump). */
  readonly onDumpStarted?: (jobId: string, pid: number) => void;
  /**
   * Folders a restore as files may write under (`LOCAL_RESTORE_FOLDERS`); `<stateDir>/restores`
   * when absent, so that an Operator's request cannot write wherever the worker's user can.
   */
  readonly restoreFolders?: readonly string[];
}

/** Who runs a job, so that a later process can tell a live job from an orphan. */
interface JobRunner {
  readonly pid: number;
  readonly instance: string;
}

/** A job as stored: the service's fields plus its runner. */
type StoredJob = BackupJob & { readonly runner?: JobRunner };

/** A backup to run: the rule and the retention tag, and who asked. */
export interface BackupRunRequest {
  readonly ruleName: string;
  readonly retentionTag: string;
  readonly trigger: "OnDemand" | "Scheduled";
}

/** ISO 8601 duration between two instants, e.g. `PT12.345S`. */
function isoDuration(start: Date, end: Date): string {
  return `PT${Math.max(0, (end.getTime() - start.getTime()) / 1000).toFixed(3)}S`;
}

/** Service-style error detail of an AppError. */
function errorDetail(error: AppError): ServiceErrorDetail {
  return {
    code: error.code,
    message: error.message,
    ...(error.recommendedAction ? { recommendedAction: [error.recommendedAction] } : {}),
    isRetryable: error.retryable,
    isUserError: error.code.startsWith("UserError"),
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A file name for one database's dump, unique within a recovery point. */
function dumpFileName(database: string, index: number): string {
  return `${String(index + 1).padStart(2, "0")}-${database.replace(/[^A-Za-z0-9_.-]/g, "_")}.dump`;
}

/** The embedded Backup vault service. */
export class LocalBackupService implements BackupServicePort {
  readonly #options: LocalBackupServiceOptions;
  readonly #scope: ResourceScope;
  readonly #now: () => Date;
  /** Identifies this service object among others of the same process. */
  readonly #instance = randomUUID();
  readonly #running = new Map<string, Promise<BackupJob>>();
  readonly #recovered = new Set<string>();

  constructor(options: LocalBackupServiceOptions) {
    this.#options = options;
    this.#scope = options.scope ?? LOCAL_SCOPE;
    this.#now = options.now ?? (() => new Date());
  }

  /** The folders a restore as files may write under, absolute. */
  get restoreFolders(): readonly string[] {
    const folders = this.#options.restoreFolders ?? [];
    return folders.length > 0
      ? folders.map((folder) => path.resolve(folder))
      : [path.join(this.stateDir, "restores")];
  }

  /** The state folder the vaults live under; the policy scheduler keeps its watermarks there. */
  get stateDir(): string {
    return path.resolve(this.#options.stateDir);
  }

  /** The ARM id of a local vault. */
  vaultId(vaultName: string): string {
    return formatVaultId({ ...this.#scope, vaultName });
  }

  // ---------------------------------------------------------------------------------------------
  // Policies

  async createPolicy(
    vaultId: string,
    policyName: string,
    policy: BackupPolicy,
  ): Promise<BackupPolicyResource> {
    const { vault, ref } = await this.#vault(vaultId);
    // The service validates a policy on PUT; the domain knows its rules.
    assertValidPolicy(policy);
    // The service echoes each tag's id as `<tagName>_`.
    const properties: BackupPolicy = {
      ...policy,
      policyRules: policy.policyRules.map((rule) =>
        isBackupRule(rule)
          ? {
              ...rule,
              trigger: {
                ...rule.trigger,
                taggingCriteria: rule.trigger.taggingCriteria.map((c) => ({
                  ...c,
                  tagInfo: { ...c.tagInfo, id: `${c.tagInfo.tagName}_` },
                })),
              },
            }
          : rule,
      ),
    };
    const resource: BackupPolicyResource = {
      id: formatVaultChildId({ ...ref, childType: "backupPolicies", childName: policyName }),
      name: policyName,
      type: "Microsoft.DataProtection/backupVaults/backupPolicies",
      properties,
    };
    const existing = await vault.readRecord<BackupPolicyResource>("backupPolicies", policyName);
    if (existing) {
      if (JSON.stringify(existing.properties) === JSON.stringify(properties)) return existing;
      throw new AppError(
        ProviderErrorCodes.policyUpdateNotSupported,
        `Policy '${policyName}' exists with other settings; policies cannot be modified in place`,
        {
          httpStatus: 409,
          recommendedAction:
            "Create a policy under a new name and assign it to the backup instances",
        },
      );
    }
    await vault.writeRecord("backupPolicies", policyName, resource);
    return resource;
  }

  async getPolicy(vaultId: string, policyName: string): Promise<BackupPolicyResource> {
    const { vault } = await this.#vault(vaultId);
    const policy = await vault.readRecord<BackupPolicyResource>("backupPolicies", policyName);
    if (!policy) throw this.#notFound(`Policy '${policyName}' was not found in the vault`);
    return policy;
  }

  async listPolicies(vaultId: string): Promise<BackupPolicyResource[]> {
    const { vault } = await this.#vault(vaultId);
    return vault.listRecords<BackupPolicyResource>("backupPolicies");
  }

  // ---------------------------------------------------------------------------------------------
  // Backup instances

  async validateForBackup(vaultId: string, spec: BackupInstanceSpec): Promise<BackupValidation> {
    const { ref } = await this.#vault(vaultId);
    const checks: string[] = [];
    const target = datasourceTargetOf(spec.dataSourceInfo.resourceId);
    if (spec.dataSourceInfo.datasourceType.toLowerCase() !== target.datasourceType.toLowerCase()) {
      throw new InvalidInputError(
        "UserErrorDatasourceTypeMismatch",
        `The datasource id is a ${target.datasourceType}, not a ${spec.dataSourceInfo.datasourceType}`,
        [
          {
            path: "$.dataSourceInfo.datasourceType",
            code: "UserErrorDatasourceTypeMismatch",
            message: `expected ${target.datasourceType}`,
          },
        ],
      );
    }

    const protectedBy = (
      await this.listBackupInstancesForDatasource(spec.dataSourceInfo.resourceId)
    ).find((bi) => bi.protectionStatus !== "ProtectionStopped");
    if (protectedBy) {
      throw new AppError(
        ProviderErrorCodes.datasourceAlreadyProtected,
        `Datasource is already protected under the Backup vault ${this.vaultId(protectedBy.vaultName)}`,
        {
          httpStatus: 400,
          recommendedAction: `Use the existing backup instance ${protectedBy.name}`,
        },
      );
    }
    checks.push("datasource not yet protected");

    const policyRef = parseVaultChildId(spec.policyId, "backupPolicies");
    if (!sameResourceId(formatVaultId(policyRef), formatVaultId(ref))) {
      throw new InvalidInputError(
        "UserErrorPolicyNotInVault",
        "The policy must belong to the vault of the backup instance",
        [
          {
            path: "$.policyInfo.policyId",
            code: "UserErrorPolicyNotInVault",
            message: "use a policy of this vault",
          },
        ],
      );
    }
    const policy = await this.getPolicy(vaultId, policyRef.childName);
    if (
      !policy.properties.datasourceTypes.some(
        (t) => t.toLowerCase() === target.datasourceType.toLowerCase(),
      )
    ) {
      throw new InvalidInputError(
        "UserErrorPolicyDatasourceTypeMismatch",
        `Policy '${policyRef.childName}' does not protect ${target.datasourceType}`,
        [
          {
            path: "$.policyInfo.policyId",
            code: "UserErrorPolicyDatasourceTypeMismatch",
            message: `the policy's datasourceTypes lack ${target.datasourceType}`,
          },
        ],
      );
    }
    checks.push("policy fits the datasource");

    if (target.datasourceType === DATABASE_DATASOURCE_TYPE) {
      await this.#options.directory.resolveDatabase(
        target.database.serverName,
        target.database.databaseName,
      );
      checks.push("database exists");
    } else {
      await this.#options.directory.resolveServer(target.server.serverName);
      checks.push("server exists");
    }
    const { params, databases } = await this.#credentialsFor(spec);
    checks.push("credentials readable");
    await withClient(
      clientConfig(params, databases[0]),
      `Connecting to ${spec.friendlyName}`,
      async (client) => {
        await client.query("SELECT 1");
      },
    );
    checks.push("datasource reachable with the credentials");
    return { checks };
  }

  async createBackupInstance(
    vaultId: string,
    instanceName: string,
    spec: BackupInstanceSpec,
  ): Promise<BackupInstance> {
    const { vault, ref } = await this.#vault(vaultId);
    const existing = await vault.readRecord<BackupInstance>("backupInstances", instanceName);
    if (existing) {
      // A repeated PUT of the same datasource answers the instance; another datasource under the name is a conflict.
      if (sameResourceId(existing.dataSourceInfo.resourceId, spec.dataSourceInfo.resourceId))
        return existing;
      throw new AppError(
        "UserErrorBackupInstanceNameInUse",
        `Backup instance '${instanceName}' protects another datasource`,
        { httpStatus: 409 },
      );
    }
    await this.validateForBackup(vaultId, spec);
    const instance: BackupInstance = {
      ...spec,
      id: formatVaultChildId({ ...ref, childType: "backupInstances", childName: instanceName }),
      name: instanceName,
      vaultName: ref.vaultName,
      protectionStatus: "ProtectionConfigured",
      provisioningState: "Succeeded",
      createdAt: this.#now().toISOString(),
    };
    await vault.writeRecord("backupInstances", instanceName, instance);
    return instance;
  }

  async getBackupInstance(vaultId: string, instanceName: string): Promise<BackupInstance> {
    const { vault } = await this.#vault(vaultId);
    const instance = await vault.readRecord<BackupInstance>("backupInstances", instanceName);
    if (!instance)
      throw this.#notFound(`Backup instance '${instanceName}' was not found in the vault`);
    return instance;
  }

  async listBackupInstances(vaultId: string): Promise<BackupInstance[]> {
    const { vault } = await this.#vault(vaultId);
    return vault.listRecords<BackupInstance>("backupInstances");
  }

  async listBackupInstancesForDatasource(datasourceId: string): Promise<BackupInstance[]> {
    const found: BackupInstance[] = [];
    for (const vaultName of await this.listVaultNames()) {
      for (const instance of await VaultFolder.of(
        this.#options.stateDir,
        vaultName,
      ).listRecords<BackupInstance>("backupInstances")) {
        if (sameResourceId(instance.dataSourceInfo.resourceId, datasourceId)) found.push(instance);
      }
    }
    return found;
  }

  async stopProtection(vaultId: string, instanceName: string): Promise<BackupInstance> {
    const { vault } = await this.#vault(vaultId);
    const instance = await this.getBackupInstance(vaultId, instanceName);
    const stopped: BackupInstance = { ...instance, protectionStatus: "ProtectionStopped" };
    await vault.writeRecord("backupInstances", instanceName, stopped);
    return stopped;
  }

  /** Names of the vaults that exist under the state folder. */
  async listVaultNames(): Promise<string[]> {
    try {
      return (await readdir(path.join(path.resolve(this.#options.stateDir), "vaults"))).filter(
        (n) => !n.startsWith("."),
      );
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Backups

  async triggerBackup(
    vaultId: string,
    instanceName: string,
    request: AdhocBackupRequest,
  ): Promise<JobReference> {
    return this.runBackup(vaultId, instanceName, {
      ruleName: request.ruleName,
      retentionTag: request.retentionTagOverride ?? "Default",
      trigger: "OnDemand",
    });
  }

  /**
   * Starts a backup of an instance under one backup rule with one retention tag; the policy's
   * scheduler calls it with `trigger: "Scheduled"`.
   *
   * @throws AppError `UserErrorBackupRuleNotFound`, `UserErrorRetentionTagNotFound`,
   * `UserErrorProtectionNotConfigured`, `ResourceNotFound`.
   */
  async runBackup(
    vaultId: string,
    instanceName: string,
    request: BackupRunRequest,
  ): Promise<JobReference> {
    const { vault, ref } = await this.#vault(vaultId);
    const instance = await this.getBackupInstance(vaultId, instanceName);
    if (instance.protectionStatus !== "ProtectionConfigured") {
      throw new AppError(
        ProviderErrorCodes.protectionNotConfigured,
        `Backup instance '${instanceName}' is ${instance.protectionStatus}`,
        {
          httpStatus: 400,
          recommendedAction: "Resume protection or protect the datasource again",
        },
      );
    }
    const policyName = parseVaultChildId(instance.policyId, "backupPolicies").childName;
    const policy = await this.getPolicy(vaultId, policyName);
    const rules = policy.properties.policyRules;
    const rule = rules
      .filter(isBackupRule)
      .find((r) => r.name.toLowerCase() === request.ruleName.toLowerCase());
    if (!rule) {
      const backupRules = rules.filter(isBackupRule).map((r) => r.name);
      const isTag = rules
        .filter(isRetentionRule)
        .some((r) => r.name.toLowerCase() === request.ruleName.toLowerCase());
      throw new InvalidInputError(
        ProviderErrorCodes.backupRuleNotFound,
        `'${request.ruleName}' is not a backup rule of policy '${policyName}' (backup rules: ${backupRules.join(", ")})` +
          (isTag
            ? `; '${request.ruleName}' is a retention rule: pass it as retentionTagOverride and ruleName ${backupRules[0] ?? "BackupWeekly"}`
            : ""),
        [
          {
            path: "$.backupRuleOptions.ruleName",
            code: ProviderErrorCodes.backupRuleNotFound,
            message: `use one of: ${backupRules.join(", ")}`,
          },
        ],
      );
    }
    const retention = rules
      .filter(isRetentionRule)
      .find((r) => r.name.toLowerCase() === request.retentionTag.toLowerCase());
    if (!retention) {
      const tags = rules.filter(isRetentionRule).map((r) => r.name);
      throw new InvalidInputError(
        ProviderErrorCodes.retentionTagNotFound,
        `Policy '${policyName}' has no retention rule '${request.retentionTag}' (retention rules: ${tags.join(", ")})`,
        [
          {
            path: "$.backupRuleOptions.triggerOption.retentionTagOverride",
            code: ProviderErrorCodes.retentionTagNotFound,
            message: `use one of: ${tags.join(", ")}`,
          },
        ],
      );
    }
    const operation: JobOperation =
      request.trigger === "OnDemand" ? "OnDemandBackup" : "ScheduledBackup";
    const job = await this.#startJob(vault, ref, instance, operation, {
      policyId: instance.policyId,
      policyName,
      ruleName: rule.name,
      retentionTag: retention.name,
    });
    const dataStore = (
      rule.dataStore.dataStoreType === "ArchiveStore" ? "ArchiveStore" : "VaultStore"
    ) satisfies RecoveryPointStoreType;
    this.#track(job, () => this.#executeBackup(vault, job, instance, dataStore));
    return { jobId: job.id };
  }

  async #executeBackup(
    vault: VaultFolder,
    job: StoredJob,
    instance: BackupInstance,
    dataStore: RecoveryPointStoreType,
  ): Promise<Partial<BackupJob>> {
    const startedAt = new Date(job.startTime);
    const earlier = (await vault.listRecords<StoredJob>("backupJobs"))
      .filter(
        (j) =>
          j.name !== job.name &&
          j.operationCategory === "Backup" &&
          sameResourceId(j.backupInstanceId, instance.id) &&
          (j.status === "Completed" || j.status === "InProgress"),
      )
      .map((j) => new Date(j.startTime));
    const limit = weeklyBackupLimitViolation(
      instance.dataSourceInfo.datasourceType,
      earlier,
      startedAt,
    );
    if (limit) throw limit;

    const { params, databases } = await this.#credentialsFor(instance);
    const serverVersion = await withClient(
      clientConfig(params, databases[0]),
      `Connecting to ${instance.friendlyName}`,
      async (client) =>
        String(
          (await client.query<{ server_version: string }>("SHOW server_version")).rows[0]
            ?.server_version ?? "",
        ).split(" ")[0] ?? "",
    );

    const staging = vault.stagingFolder(job.name);
    await mkdir(staging, { recursive: true, mode: 0o700 });
    try {
      const capacity = this.#options.vaultCapacityBytes;
      let remaining =
        capacity === undefined
          ? Number.POSITIVE_INFINITY
          : capacity - (await this.#usedBytes(vault));
      const files: RecoveryPointFile[] = [];
      for (const [index, database] of databases.entries()) {
        const fileName = dumpFileName(database, index);
        const result = await dumpDatabaseToFile({
          binDir: this.#options.binDir,
          params,
          database,
          file: path.join(staging, fileName),
          maxBytes: Math.max(0, remaining),
          onSpawn: (pid) => this.#options.onDumpStarted?.(job.id, pid),
        });
        remaining -= result.sizeBytes;
        files.push({
          databaseName: database,
          fileName,
          sizeBytes: result.sizeBytes,
          sha256: result.sha256,
        });
      }
      const endedAt = this.#now();
      const recoveryPointId = randomUUID().replaceAll("-", "");
      const ref = parseVaultId(this.vaultId(job.vaultName));
      const manifest: RecoveryPointManifest = {
        id: formatRecoveryPointId({ ...ref, backupInstanceName: instance.name, recoveryPointId }),
        recoveryPointId,
        backupInstanceName: instance.name,
        recoveryPointTime: job.startTime,
        recoveryPointType: "Full",
        policyName: job.policyName ?? "",
        ruleName: job.ruleName ?? "",
        retentionTagName: job.retentionTag ?? "Default",
        startTime: job.startTime,
        endTime: endedAt.toISOString(),
        sizeBytes: files.reduce((sum, f) => sum + f.sizeBytes, 0),
        files,
        serverVersion,
        jobId: job.id,
        storedAt: endedAt.toISOString(),
      };
      await vault.commitStaged(staging, dataStore, manifest);
      return { recoveryPointId, dataTransferredInBytes: manifest.sizeBytes };
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
  }

  /** Bytes taken by every recovery point copy of a vault. */
  async #usedBytes(vault: VaultFolder): Promise<number> {
    let used = 0;
    for (const instanceName of await vault.instancesWithRecoveryPoints()) {
      for (const store of recoveryPointStores) {
        for (const manifest of await vault.listManifests(store, instanceName))
          used += manifest.sizeBytes;
      }
    }
    return used;
  }

  /**
   * The connection and database list of an instance: a database instance reads its secret; a
   * Flexible Server instance uses the server's configured connection (the vault's identity in
   * Azure) and covers every database.
   */
  async #credentialsFor(
    spec: BackupInstanceSpec,
  ): Promise<{ params: PostgresConnectionParams; databases: string[] }> {
    const target = datasourceTargetOf(spec.dataSourceInfo.resourceId);
    if (target.datasourceType === DATABASE_DATASOURCE_TYPE) {
      if (!spec.secretStore) {
        throw new AppError(
          ProviderErrorCodes.missingRequiredPermissions,
          "A database backup instance needs datasourceAuthCredentials (a secret with a connection string)",
          {
            httpStatus: 400,
            recommendedAction:
              "Store a connection string with 'pgprotect local secret set NAME' and pass its URI",
          },
        );
      }
      const params = await this.#options.secrets.getConnectionParams(spec.secretStore.uri);
      return { params, databases: [target.database.databaseName] };
    }
    const params = this.#options.directory.serverConnection(target.server.serverName);
    const databases = (
      await this.#options.directory.listDatabases(spec.dataSourceInfo.resourceId)
    ).map((d) => d.name);
    return { params, databases };
  }

  // ---------------------------------------------------------------------------------------------
  // Restores

  async triggerRestore(
    vaultId: string,
    instanceName: string,
    request: RestoreRequest,
  ): Promise<JobReference> {
    const { vault, ref } = await this.#vault(vaultId);
    const instance = await this.getBackupInstance(vaultId, instanceName);
    const recoveryPointId = request.recoveryPointId.split("/").pop() ?? "";
    const points = await this.listRecoveryPoints(vaultId, instanceName);
    const point = points.find((p) => p.recoveryPointId === recoveryPointId);
    if (!point)
      throw this.#notFound(
        `Recovery point '${recoveryPointId}' of '${instanceName}' was not found`,
      );
    const store = request.sourceDataStoreType ?? point.dataStores[0]?.type ?? "VaultStore";
    if (!point.dataStores.some((d) => d.type === store)) {
      throw this.#notFound(`Recovery point '${recoveryPointId}' is not in ${store}`);
    }
    if (
      request.target.kind === "database" &&
      instance.dataSourceInfo.datasourceType === FLEXIBLE_SERVER_DATASOURCE_TYPE
    ) {
      throw new AppError(
        ProviderErrorCodes.invalidRestoreTarget,
        "A Flexible Server recovery point can only be restored as files",
        {
          httpStatus: 400,
          recommendedAction: "Restore as files, then load them with pg_restore",
        },
      );
    }
    const destination =
      request.target.kind === "database"
        ? request.target.targetDatabaseId
        : this.#filesFolder(request.target.url);
    const job = await this.#startJob(vault, ref, instance, "Restore", {
      recoveryPointId,
      recoveryDestination: destination,
      policyId: instance.policyId,
    });
    const folder = vault.recoveryPointFolder(store, instanceName, recoveryPointId);
    const target = request.target;
    this.#track(job, () =>
      target.kind === "database"
        ? this.#restoreToDatabase(
            instance,
            point,
            folder,
            target.targetDatabaseId,
            target.secretUri,
          )
        : this.#restoreAsFiles(point, folder, destination, target.filePrefix ?? ""),
    );
    return { jobId: job.id };
  }

  #filesFolder(url: string): string {
    const folder = url.startsWith("file:") ? fileURLToPath(url) : url;
    if (!path.isAbsolute(folder)) {
      throw new InvalidInputError(
        ProviderErrorCodes.invalidRestoreTarget,
        "Restore-as-files needs an absolute folder path or file:// URL",
        [
          {
            path: "$.restoreTargetInfo.targetDetails.url",
            code: ProviderErrorCodes.invalidRestoreTarget,
            message: "use an absolute path",
          },
        ],
      );
    }
    const resolved = path.resolve(folder);
    if (!this.restoreFolders.some((root) => isWithin(root, resolved))) {
      throw new InvalidInputError(
        ProviderErrorCodes.invalidRestoreTarget,
        `Restore-as-files writes only under ${this.restoreFolders.join(", ")} (LOCAL_RESTORE_FOLDERS)`,
        [
          {
            path: "$.restoreTargetInfo.targetDetails.url",
            code: ProviderErrorCodes.invalidRestoreTarget,
            message: `use a folder under ${this.restoreFolders.join(" or ")}`,
          },
        ],
      );
    }
    return resolved;
  }

  #linkOut(destination: string): AppError {
    return new AppError(
      ProviderErrorCodes.invalidRestoreTarget,
      `${destination} leads outside ${this.restoreFolders.join(", ")} through a link`,
      { httpStatus: 400, recommendedAction: "Restore into a folder that is not behind a link" },
    );
  }

  async #restoreAsFiles(
    point: RecoveryPoint,
    folder: string,
    destination: string,
    prefix: string,
  ): Promise<Partial<BackupJob>> {
    // A link inside an allowed folder must not lead the files, or the folders made for them, out
    // of it: the nearest folder that exists is checked before anything is made, the result after.
    const root = this.restoreFolders.find((folder) => isWithin(folder, destination)) ?? destination;
    await mkdir(root, { recursive: true });
    const realRoot = await realpath(root);
    const leadsOut = async (folder: string) => !isWithin(realRoot, await realpath(folder));
    let existing = destination;
    while (!(await exists(existing))) existing = path.dirname(existing);
    if (await leadsOut(existing)) throw this.#linkOut(destination);
    await mkdir(destination, { recursive: true });
    if (await leadsOut(destination)) throw this.#linkOut(destination);
    const targets = point.files.map((f) => path.join(destination, `${prefix}${f.fileName}`));
    for (const target of targets) {
      if (
        await stat(target).then(
          () => true,
          () => false,
        )
      ) {
        throw new AppError(
          ProviderErrorCodes.invalidRestoreTarget,
          `${target} exists already (FailIfExists)`,
          { httpStatus: 409 },
        );
      }
    }
    let bytes = 0;
    for (const [index, file] of point.files.entries()) {
      const target = targets[index] as string;
      const temp = `${target}.partial-${randomUUID()}`;
      await copyFile(path.join(folder, file.fileName), temp);
      const handle = await open(temp, "r");
      await handle.sync();
      await handle.close();
      await rename(temp, target);
      bytes += file.sizeBytes;
    }
    await writeFileAtomic(
      path.join(destination, `${prefix}recovery-point.json`),
      `${JSON.stringify({ ...point, files: point.files.map((f) => ({ ...f, fileName: `${prefix}${f.fileName}` })) }, null, 2)}\n`,
    );
    return { dataTransferredInBytes: bytes };
  }

  async #restoreToDatabase(
    instance: BackupInstance,
    point: RecoveryPoint,
    folder: string,
    targetDatabaseId: string,
    secretUri: string | undefined,
  ): Promise<Partial<BackupJob>> {
    const target = parseDatabaseId(targetDatabaseId);
    const file = point.files[0];
    if (!file)
      throw new AppError("LOCAL_RECOVERY_POINT_EMPTY", "The recovery point holds no dump file", {
        httpStatus: 500,
      });
    const uri = secretUri ?? instance.secretStore?.uri;
    const params = uri
      ? await this.#options.secrets.getConnectionParams(uri)
      : this.#options.directory.serverConnection(target.serverName);
    const server = await this.#options.directory.resolveServer(target.serverName);
    const exists = await this.#options.directory
      .listDatabases(server.id)
      .then((dbs) => dbs.some((d) => d.name === target.databaseName));
    if (exists) {
      throw new AppError(
        ProviderErrorCodes.invalidRestoreTarget,
        `Database '${target.databaseName}' exists already on '${target.serverName}' (FailIfExists)`,
        {
          httpStatus: 409,
          recommendedAction: "Restore under a new database name",
        },
      );
    }
    const admin = clientConfig(params, "postgres");
    await withClient(admin, `Creating database '${target.databaseName}'`, (client) =>
      client.query(`CREATE DATABASE ${quoteIdent(target.databaseName)}`),
    );
    let report: RestoreVerificationReport;
    try {
      await runTool(
        path.join(this.#options.binDir, "pg_restore"),
        [
          "--no-owner",
          "--no-acl",
          "--exit-on-error",
          "--no-password",
          "-d",
          target.databaseName,
          path.join(folder, file.fileName),
        ],
        { env: libpqEnvironment(params, target.databaseName) },
      );
      report = await verifyRestoredDatabase(
        this.#options.binDir,
        path.join(folder, file.fileName),
        params,
        target.databaseName,
      );
    } catch (error) {
      // Nothing half-restored stays behind.
      await withClient(admin, `Dropping database '${target.databaseName}'`, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${quoteIdent(target.databaseName)} WITH (FORCE)`),
      ).catch(() => undefined);
      if (error instanceof ToolFailedError) {
        const refused = /password authentication failed|permission denied/i.test(error.stderr);
        throw new AppError(
          refused ? ProviderErrorCodes.missingDbPermissions : ProviderErrorCodes.restoreFailed,
          `pg_restore into '${target.databaseName}' failed: ${error.message}`,
          {
            httpStatus: refused ? 400 : 500,
            cause: error,
          },
        );
      }
      throw error;
    }
    const restored = {
      dataTransferredInBytes: file.sizeBytes,
      restoreVerification: summary(report),
    };
    if (!report.verified) {
      throw Object.assign(
        verificationFailure(report, ProviderErrorCodes.restoreVerificationFailed),
        { jobUpdate: restored },
      );
    }
    return restored;
  }

  // ---------------------------------------------------------------------------------------------
  // Jobs

  async getJob(vaultId: string, jobId: string): Promise<BackupJob> {
    const { vault } = await this.#vault(vaultId);
    const name = jobId.split("/").pop() ?? "";
    const job = /^[0-9a-f-]{36}$/i.test(name)
      ? await vault.readRecord<StoredJob>("backupJobs", name.toLowerCase())
      : undefined;
    if (!job) throw this.#notFound(`Job '${name}' was not found in the vault`);
    return publicJob(job);
  }

  async listJobs(vaultId: string, filter: JobFilter = {}): Promise<BackupJob[]> {
    const { vault } = await this.#vault(vaultId);
    const since = filter.since === undefined ? undefined : Date.parse(filter.since);
    if (since !== undefined && Number.isNaN(since)) {
      throw new InvalidInputError(
        "INVALID_WATERMARK",
        `'${filter.since}' is not an ISO 8601 instant`,
        [{ path: "$.since", code: "INVALID_WATERMARK", message: "use an ISO 8601 instant" }],
      );
    }
    return (await vault.listRecords<StoredJob>("backupJobs"))
      .filter(
        (job) =>
          (!filter.status || filter.status.includes(job.status)) &&
          (!filter.operation || filter.operation.includes(job.operation)) &&
          (!filter.datasourceId || sameResourceId(job.dataSourceId, filter.datasourceId)) &&
          (!filter.backupInstanceName ||
            job.backupInstanceId.split("/").pop() === filter.backupInstanceName) &&
          (since === undefined ||
            Date.parse(job.startTime) >= since ||
            (job.endTime !== undefined && Date.parse(job.endTime) >= since)),
      )
      .sort(
        (a, b) => Date.parse(a.startTime) - Date.parse(b.startTime) || a.name.localeCompare(b.name),
      )
      .map(publicJob);
  }

  /** Resolves when a job of this process ends (at once for a job already ended). */
  async waitForJob(vaultId: string, jobId: string): Promise<BackupJob> {
    const name = (jobId.split("/").pop() ?? "").toLowerCase();
    const running = this.#running.get(name);
    if (running) return running;
    return this.getJob(vaultId, jobId);
  }

  /** Waits for every job this process runs. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#running.values()]);
  }

  // ---------------------------------------------------------------------------------------------
  // Recovery points

  async listRecoveryPoints(vaultId: string, instanceName: string): Promise<RecoveryPoint[]> {
    const { vault } = await this.#vault(vaultId);
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
  async copyRecoveryPoint(
    vaultId: string,
    instanceName: string,
    recoveryPointId: string,
    to: RecoveryPointStoreType = "ArchiveStore",
    from: RecoveryPointStoreType = "VaultStore",
  ): Promise<void> {
    const { vault } = await this.#vault(vaultId);
    if (
      !(await vault.copyRecoveryPoint(
        instanceName,
        recoveryPointId,
        from,
        to,
        this.#now().toISOString(),
      ))
    ) {
      throw this.#notFound(
        `Recovery point '${recoveryPointId}' of '${instanceName}' is not in ${from}`,
      );
    }
  }

  /**
   * Deletes a recovery point from one store, or from every store.
   *
   * @returns whether anything was deleted.
   */
  async deleteRecoveryPoint(
    vaultId: string,
    instanceName: string,
    recoveryPointId: string,
    store?: RecoveryPointStoreType,
  ): Promise<boolean> {
    const { vault } = await this.#vault(vaultId);
    let deleted = false;
    for (const s of store ? [store] : recoveryPointStores) {
      deleted = (await vault.deleteRecoveryPoint(instanceName, recoveryPointId, s)) || deleted;
    }
    return deleted;
  }

  // ---------------------------------------------------------------------------------------------
  // Internals

  async #startJob(
    vault: VaultFolder,
    ref: VaultRef,
    instance: BackupInstance,
    operation: JobOperation,
    extra: Partial<BackupJob>,
  ): Promise<StoredJob> {
    const name = randomUUID();
    const database = instance.dataSourceInfo;
    const job: StoredJob = {
      id: formatVaultChildId({ ...ref, childType: "backupJobs", childName: name }),
      name,
      vaultName: ref.vaultName,
      operation,
      operationCategory: operation === "Restore" ? "Restore" : "Backup",
      isUserTriggered: operation !== "ScheduledBackup",
      status: "InProgress",
      startTime: this.#now().toISOString(),
      backupInstanceId: instance.id,
      backupInstanceFriendlyName: instance.friendlyName,
      dataSourceId: database.resourceId,
      dataSourceName: database.resourceName,
      dataSourceType: database.datasourceType,
      dataSourceLocation: database.resourceLocation,
      ...extra,
      runner: { pid: process.pid, instance: this.#instance },
    };
    await vault.writeRecord("backupJobs", name, job);
    return job;
  }

  /** Runs a job's work in the background and records how it ended. */
  #track(job: StoredJob, work: () => Promise<Partial<BackupJob>>): void {
    const vault = VaultFolder.of(this.#options.stateDir, job.vaultName);
    const finish = async (update: Partial<BackupJob>): Promise<BackupJob> => {
      const end = this.#now();
      const { runner: _runner, ...rest } = job;
      const ended: BackupJob = {
        ...rest,
        ...update,
        endTime: end.toISOString(),
        duration: isoDuration(new Date(job.startTime), end),
      };
      await vault.writeRecord("backupJobs", job.name, ended);
      return ended;
    };
    const promise = (async () => {
      try {
        const update = await work();
        return await finish({ ...update, status: "Completed" });
      } catch (error) {
        const appError = toAppError(error);
        const extra = (error as { jobUpdate?: Partial<BackupJob> }).jobUpdate ?? {};
        return finish({ ...extra, status: "Failed", errorDetails: [errorDetail(appError)] });
      }
    })().finally(() => this.#running.delete(job.name));
    this.#running.set(job.name, promise);
  }

  /** Parses and checks a vault id, and settles jobs orphaned by an earlier process (once). */
  async #vault(vaultId: string): Promise<{ vault: VaultFolder; ref: VaultRef }> {
    const ref = parseVaultId(vaultId);
    if (
      !sameResourceId(formatVaultId(ref), this.vaultId(ref.vaultName)) ||
      !/^[A-Za-z][-A-Za-z0-9]{0,48}[A-Za-z0-9]$/.test(ref.vaultName)
    ) {
      throw this.#notFound(
        `'${vaultId}' is not a vault of this local provider (subscription ${this.#scope.subscriptionId}, resource group ${this.#scope.resourceGroup})`,
      );
    }
    const vault = VaultFolder.of(this.#options.stateDir, ref.vaultName);
    if (!this.#recovered.has(ref.vaultName)) {
      this.#recovered.add(ref.vaultName);
      await this.#settleOrphans(vault);
    }
    return { vault, ref };
  }

  async #settleOrphans(vault: VaultFolder): Promise<void> {
    const orphans = (await vault.listRecords<StoredJob>("backupJobs")).filter(
      (job) =>
        job.status === "InProgress" &&
        job.runner !== undefined &&
        job.runner.instance !== this.#instance &&
        // A job of another live process is that process's business.
        (job.runner.pid === process.pid || !isAlive(job.runner.pid)),
    );
    const end = this.#now();
    for (const job of orphans) {
      const { runner: _runner, ...rest } = job;
      const failed: BackupJob = {
        ...rest,
        status: "Failed",
        endTime: end.toISOString(),
        duration: isoDuration(new Date(job.startTime), end),
        errorDetails: [
          {
            code: ProviderErrorCodes.jobInterrupted,
            message: "The provider stopped while the job ran; nothing of it was kept",
            recommendedAction: ["Run the operation again"],
            isRetryable: true,
            isUserError: false,
          },
        ],
      };
      await vault.writeRecord("backupJobs", job.name, failed);
    }
    await vault.removeLeftovers(orphans.map((j) => j.name));
  }

  #notFound(message: string): NotFoundError {
    return new NotFoundError(ProviderErrorCodes.resourceNotFound, message);
  }
}

/** A job without the provider's bookkeeping. */
function publicJob(job: StoredJob): BackupJob {
  const { runner: _runner, ...rest } = job;
  return rest;
}

function summary(report: RestoreVerificationReport): NonNullable<BackupJob["restoreVerification"]> {
  return {
    verified: report.verified,
    tables: report.tables.length,
    rows: report.tables.reduce((sum, t) => sum + t.actualRows, 0),
    largeObjects: report.largeObjectsMatching,
    mismatches: report.mismatches,
  };
}

/** Whether `target` is `root` or below it (both absolute). */
function isWithin(root: string, target: string): boolean {
  const relative = path.relative(root, target);
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
