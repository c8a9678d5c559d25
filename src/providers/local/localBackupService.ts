/**
 * The local Backup vault service: policies, backup instances, jobs and recovery points kept under
 * the state folder, backups made with `pg_dump -Fc`, restores with `pg_restore`.
 *
 * @remarks Operations answer like the service's long-running operations: `triggerBackup` and
 * `triggerRestore` return a job id at once and the job runs on in this process; `getJob` shows
 * its progress.
 *
 * In-flight work survives a stop and a crash. A job records what it runs (the pid of each tool,
 * a restore's verification tools included, and the database a restore is creating), so that when a job is found `InProgress` under a process that
 * is gone ({@link LocalBackupService.recoverInterruptedJobs} at provider start, or the first use
 * of the vault), what the attempt left is removed (a stray `pg_dump` or `pg_restore` stopped, the
 * staging folder deleted, a half-restored database dropped) and the same job runs again as its
 * next attempt (`attempt`, `interruptedAttempts`), at most {@link maxJobAttempts} times. A backup
 * whose recovery point was committed before the crash is completed instead: each job makes at
 * most one recovery point, whose id derives from the job's. A graceful stop waits a bounded
 * time for running jobs ({@link LocalBackupService.drain}) and leaves the rest to be resumed.
 *
 * One backup runs at a time per backup instance: a second one is refused with
 * `UserErrorBackupInProgress` (409) naming the running job.
 */
import { randomUUID } from "node:crypto";
import { copyFile, mkdir, open, realpath, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { BackupPolicy, BackupPolicyResource } from "../../domain/policy/types.js";
import { isBackupRule, isRetentionRule } from "../../domain/policy/types.js";
import { assertValidPolicy } from "../../domain/policy/validation.js";
import { samePolicy } from "../../domain/policy/sameness.js";
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
import { followsRule, vaultNameRule } from "../../domain/protection/names.js";
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
import type { InterruptedAttempt } from "../../domain/protection/types.js";
import { readdirIfExists, writeFileAtomic } from "../atomicFiles.js";
import { dumpDatabaseWithStructure } from "./databaseStructure.js";
import { clientConfig, quoteIdent, withClient } from "./pgConnection.js";
import {
  processIsRunning,
  runTool,
  serverMajorOf,
  signalTool,
  stopStrayTool,
  toolSessionOptions,
  ToolFailedError,
} from "./processes.js";
import type { LocalResourceDirectory } from "./resourceDirectory.js";
import {
  assertRecoveryPointIntact,
  assertStoredRecoveryPointIntact,
} from "./recoveryPointIntegrity.js";
import {
  verificationFailure,
  verificationSummary,
  verifyRestoredDatabase,
  type RestoreVerificationReport,
} from "./restoreVerification.js";
import type { LocalSecretStore } from "./secretStore.js";
import {
  existingVaultFolderName,
  listVaultFolderNames,
  recoveryPointStores,
  VaultFolder,
  type RecoveryPointManifest,
} from "./vaultStore.js";

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

/** A PostgreSQL tool a job runs; a later process stops it when the job's process died. */
interface JobTool {
  readonly pid: number;
  /** The tool's base name, checked against `/proc/<pid>/cmdline` before it is stopped. */
  readonly program: string;
}

/** What a job does, kept so that a later process can run it again. */
type JobWork =
  | { readonly kind: "backup"; readonly dataStore: RecoveryPointStoreType }
  | {
      readonly kind: "restoreToDatabase";
      readonly store: RecoveryPointStoreType;
      readonly targetDatabaseId: string;
      readonly secretUri?: string;
      /** Set just before CREATE DATABASE: only a database this job created is dropped. */
      readonly creatingDatabase?: boolean;
    }
  | {
      readonly kind: "restoreAsFiles";
      readonly store: RecoveryPointStoreType;
      readonly destination: string;
      readonly prefix: string;
      /** Set once the targets were found free: only files this job wrote are removed. */
      readonly writingFiles?: boolean;
    };

/** A job as stored: the service's fields plus the provider's bookkeeping. */
type StoredJob = BackupJob & {
  readonly runner?: JobRunner;
  readonly work?: JobWork;
  readonly tool?: JobTool;
  /** When the running attempt started (the job's `startTime` is its first attempt's). */
  readonly attemptStartTime?: string;
  /** Set when a graceful stop cut the attempt off: why, for the next attempt's record. */
  readonly stopReason?: string;
};

/** Attempts a job gets in all; a job cut off this often ends `Failed` (`UserErrorJobInterrupted`). */
export const maxJobAttempts = 3;

/** Options of {@link LocalBackupService.drain}. */
export interface DrainOptions {
  /** How long to wait for running jobs before stopping them; unbounded when absent. */
  readonly graceMs?: number;
  /** Receives one line per job waited for, and how the wait ended. */
  readonly log?: (line: string) => void;
}

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
  /** The stored record of each running job, as last written. */
  readonly #records = new Map<string, StoredJob>();
  /** Writes of each job's record, one after another. */
  readonly #writes = new Map<string, Promise<unknown>>();
  /** Jobs a graceful stop cut off: their failure is an interruption, not an outcome. */
  readonly #interrupted = new Set<string>();
  /** Recovery of each vault's interrupted jobs, run once per process. */
  readonly #recovered = new Map<string, Promise<void>>();
  /** Backup starts per backup instance, one after another, so that one backup runs at a time. */
  readonly #backupStarts = new Map<string, Promise<unknown>>();
  #draining = false;

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
    const storedName = await vault.recordNameLike("backupPolicies", policyName);
    const existing = storedName
      ? await vault.readRecord<BackupPolicyResource>("backupPolicies", storedName)
      : undefined;
    if (existing) {
      if (samePolicy(existing.properties, properties)) return existing;
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
    // Azure names ignore case: `WEEKLY` is the policy `weekly`.
    const stored = await vault.recordNameLike("backupPolicies", policyName);
    const policy = stored
      ? await vault.readRecord<BackupPolicyResource>("backupPolicies", stored)
      : undefined;
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
    return listVaultFolderNames(this.#options.stateDir);
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
    const dataStore = (
      rule.dataStore.dataStoreType === "ArchiveStore" ? "ArchiveStore" : "VaultStore"
    ) satisfies RecoveryPointStoreType;
    // The check and the job's record are one step per instance: of concurrent requests one wins.
    const job = await this.#oneAtATime(
      `${ref.vaultName}/${instance.name}`.toLowerCase(),
      async () => {
        await this.#refuseConcurrentBackup(vault, instance);
        return this.#startJob(
          vault,
          ref,
          instance,
          operation,
          {
            policyId: instance.policyId,
            policyName,
            ruleName: rule.name,
            retentionTag: retention.name,
          },
          { kind: "backup", dataStore },
        );
      },
    );
    this.#track(vault, job);
    return { jobId: job.id };
  }

  /**
   * The running backup of an instance, if any (for the scheduler, which defers rather than
   * fails).
   */
  async runningBackupOf(vaultId: string, instanceName: string): Promise<BackupJob | undefined> {
    const { vault } = await this.#vault(vaultId);
    const instance = await this.getBackupInstance(vaultId, instanceName);
    const running = await this.#runningBackup(vault, instance);
    return running && publicJob(running);
  }

  async #runningBackup(
    vault: VaultFolder,
    instance: BackupInstance,
  ): Promise<StoredJob | undefined> {
    return (await vault.listRecords<StoredJob>("backupJobs")).find(
      (j) =>
        j.operationCategory === "Backup" &&
        j.status === "InProgress" &&
        sameResourceId(j.backupInstanceId, instance.id),
    );
  }

  /** @throws AppError `UserErrorBackupInProgress` (409) naming the running backup job. */
  async #refuseConcurrentBackup(vault: VaultFolder, instance: BackupInstance): Promise<void> {
    if (this.#draining) {
      throw new AppError(
        ProviderErrorCodes.providerStopping,
        "The host is stopping; no new job starts",
        {
          httpStatus: 503,
          retryable: true,
          recommendedAction: "Ask again once the host is back",
        },
      );
    }
    const running = await this.#runningBackup(vault, instance);
    if (!running) return;
    throw new AppError(
      ProviderErrorCodes.backupInProgress,
      `Backup instance '${instance.name}' has a backup running: job ${running.name} (${running.operation}, started ${running.startTime}); one backup runs at a time`,
      {
        httpStatus: 409,
        recommendedAction: `Follow the running job (GET /api/jobs/${running.name}) and ask again once it has ended`,
      },
    );
  }

  /** Runs `step` after every earlier step under the same key has settled. */
  async #oneAtATime<T>(key: string, step: () => Promise<T>): Promise<T> {
    const previous = this.#backupStarts.get(key) ?? Promise.resolve();
    const current = previous.then(step, step);
    const settled = current.catch(() => undefined);
    this.#backupStarts.set(key, settled);
    void settled.then(() => {
      if (this.#backupStarts.get(key) === settled) this.#backupStarts.delete(key);
    });
    return current;
  }

  async #executeBackup(
    vault: VaultFolder,
    job: StoredJob,
    instance: BackupInstance,
    dataStore: RecoveryPointStoreType,
  ): Promise<Partial<BackupJob>> {
    // A crash after the commit but before the job was marked: the point exists, nothing to dump.
    const committed = await this.#committedPointOf(vault, job);
    if (committed) return committed;
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
    // What an earlier attempt of this job staged is not part of this one.
    await rm(staging, { recursive: true, force: true });
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
        const result = await dumpDatabaseWithStructure({
          binDir: this.#options.binDir,
          params,
          database,
          file: path.join(staging, fileName),
          maxBytes: Math.max(0, remaining),
          serverMajor: serverMajorOf(serverVersion),
          onSpawn: (pid) => {
            this.#toolStarted(job.name, { pid, program: "pg_dump" });
            this.#options.onDumpStarted?.(job.id, pid);
          },
        });
        this.#toolEnded(job.name);
        remaining -= result.sizeBytes;
        files.push({
          databaseName: database,
          fileName,
          sizeBytes: result.sizeBytes,
          sha256: result.sha256,
          ...(result.structure ? { structure: result.structure } : {}),
        });
      }
      const endedAt = this.#now();
      // Derived from the job: a job can never commit two recovery points.
      const recoveryPointId = recoveryPointIdOf(job);
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
    const target = request.target;
    const work: JobWork =
      target.kind === "database"
        ? {
            kind: "restoreToDatabase",
            store,
            targetDatabaseId: target.targetDatabaseId,
            ...(target.secretUri ? { secretUri: target.secretUri } : {}),
          }
        : { kind: "restoreAsFiles", store, destination, prefix: target.filePrefix ?? "" };
    const job = await this.#startJob(
      vault,
      ref,
      instance,
      "Restore",
      { recoveryPointId, recoveryDestination: destination, policyId: instance.policyId },
      work,
    );
    this.#track(vault, job);
    return { jobId: job.id };
  }

  /** Runs a job's work (its first attempt, or a later one after an interruption). */
  async #execute(vault: VaultFolder, job: StoredJob): Promise<Partial<BackupJob>> {
    const work = job.work;
    const instanceName = job.backupInstanceId.split("/").pop() ?? "";
    const instance = await vault.readRecord<BackupInstance>("backupInstances", instanceName);
    if (!work || !instance) {
      throw new AppError(
        ProviderErrorCodes.jobInterrupted,
        `Job ${job.name} cannot run again: ${instance ? "it records no work" : `backup instance '${instanceName}' is gone`}`,
        { httpStatus: 500 },
      );
    }
    if (work.kind === "backup") return this.#executeBackup(vault, job, instance, work.dataStore);
    const vaultId = this.vaultId(job.vaultName);
    const point = (await this.listRecoveryPoints(vaultId, instance.name)).find(
      (p) => p.recoveryPointId === job.recoveryPointId,
    );
    if (!point || !point.dataStores.some((d) => d.type === work.store)) {
      throw this.#notFound(
        `Recovery point '${job.recoveryPointId ?? ""}' of '${instance.name}' is not in ${work.store}`,
      );
    }
    const folder = vault.recoveryPointFolder(work.store, instance.name, point.recoveryPointId);
    // Before anything is created: a changed or cut file fails the job and leaves nothing behind.
    await assertRecoveryPointIntact(point, folder, "restored");
    return work.kind === "restoreToDatabase"
      ? this.#restoreToDatabase(job, instance, point, folder, work.targetDatabaseId, work.secretUri)
      : this.#restoreAsFiles(job, point, folder, work.destination, work.prefix);
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
    job: StoredJob,
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
    // From here on the targets are this job's: a later attempt may remove them.
    await this.#patchWork(job.name, { writingFiles: true });
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
    job: StoredJob,
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
    // Recorded first: a later attempt drops only a database this job created.
    await this.#patchWork(job.name, { creatingDatabase: true });
    let serverMajor: number | undefined;
    try {
      await withClient(admin, `Creating database '${target.databaseName}'`, async (client) => {
        serverMajor = serverMajorOf(
          (await client.query<{ server_version_num: string }>("SHOW server_version_num")).rows[0]
            ?.server_version_num,
        );
        await client.query(`CREATE DATABASE ${quoteIdent(target.databaseName)}`);
      });
    } catch (error) {
      const sqlState = (error as { code?: string }).code;
      // Refused or taken: no database was created, and someone else's of that name is not this
      // job's to drop later.
      if (sqlState === "42P04" || sqlState === "42501")
        await this.#patchWork(job.name, { creatingDatabase: false });
      if (sqlState === "42501") throw createDatabaseRefused(target.databaseName, params, error);
      throw error;
    }
    const connection = libpqEnvironment(params, target.databaseName);
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
        {
          env: {
            ...connection,
            ...toolSessionOptions(connection.PGOPTIONS ?? process.env.PGOPTIONS, serverMajor),
          },
          onSpawn: (pid) => this.#toolStarted(job.name, { pid, program: "pg_restore" }),
        },
      );
      this.#toolEnded(job.name);
      // Its tools are recorded as pg_restore's is: a later process stops a stray one.
      report = await verifyRestoredDatabase(
        this.#options.binDir,
        path.join(folder, file.fileName),
        params,
        target.databaseName,
        {
          structure: file.structure,
          serverMajor,
          onTool: (tool) => (tool ? this.#toolStarted(job.name, tool) : this.#toolEnded(job.name)),
        },
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
      restoreVerification: verificationSummary(report),
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

  /**
   * Stops taking new jobs and waits for the running ones: without a bound, until they end; with
   * `graceMs`, that long, then stops their tools and leaves them `InProgress`, to run again as
   * their next attempt when the provider starts again.
   */
  async drain(options: DrainOptions = {}): Promise<void> {
    this.#draining = true;
    const running = [...this.#running.keys()];
    if (running.length === 0) return;
    const all = Promise.allSettled([...this.#running.values()]);
    if (options.graceMs === undefined) {
      await all;
      return;
    }
    const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
    const now = this.#now().getTime();
    const seconds = Math.round(options.graceMs / 1000);
    log(
      `pgprotect: waiting up to ${seconds} s (LOCAL_STOP_GRACE_SECONDS) for ${running.length} running job(s):`,
    );
    for (const name of running) {
      const job = this.#records.get(name);
      if (!job) continue;
      const since = Date.parse(job.attemptStartTime ?? job.startTime);
      log(
        `  ${job.operation} of ${job.backupInstanceFriendlyName} (job ${name}), running for ${Math.max(0, Math.round((now - since) / 1000))} s`,
      );
    }
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      all.then(() => true),
      new Promise<boolean>(
        (resolve) => (timer = setTimeout(() => resolve(false), options.graceMs)),
      ),
    ]);
    clearTimeout(timer);
    if (finished) {
      log("pgprotect: the running jobs have ended");
      return;
    }
    const cutOff = [...this.#running.keys()];
    const reason = `the host stopped (${seconds} s after the stop began, LOCAL_STOP_GRACE_SECONDS) while this attempt ran`;
    for (const name of cutOff) {
      this.#interrupted.add(name);
      await this.#patchJob(name, { stopReason: reason }).catch(() => undefined);
      const tool = this.#records.get(name)?.tool;
      if (tool) signalTool(tool.pid, "SIGTERM");
    }
    // Killed tools end their jobs at once; work between tools gets a short while to notice.
    await Promise.race([all, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
    log(
      `pgprotect: stopped ${cutOff.length} job(s) after ${seconds} s (${cutOff.join(", ")}); they run again when the host starts`,
    );
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
    work: JobWork,
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
      attempt: 1,
      runner: { pid: process.pid, instance: this.#instance },
      work,
    };
    await vault.writeRecord("backupJobs", name, job);
    return job;
  }

  /** Runs a job's work in the background and records how it ended. */
  #track(vault: VaultFolder, job: StoredJob): void {
    this.#records.set(job.name, job);
    const promise = (async () => {
      try {
        const update = await this.#execute(vault, job);
        return await this.#finish(job.name, { ...update, status: "Completed" });
      } catch (error) {
        if (this.#interrupted.has(job.name)) {
          // Cut off by a graceful stop: the job stays InProgress for the next start to resume.
          return publicJob(this.#records.get(job.name) ?? job);
        }
        const appError = toAppError(error);
        const extra = (error as { jobUpdate?: Partial<BackupJob> }).jobUpdate ?? {};
        return this.#finish(job.name, {
          ...extra,
          status: "Failed",
          errorDetails: [errorDetail(appError)],
        });
      }
    })().finally(() => {
      this.#running.delete(job.name);
      this.#records.delete(job.name);
    });
    this.#running.set(job.name, promise);
  }

  /** Records how a job ended, without the provider's bookkeeping. */
  async #finish(name: string, update: Partial<BackupJob>): Promise<BackupJob> {
    const job = this.#records.get(name);
    if (!job) throw new Error(`unreachable: job ${name} is not running`);
    const end = this.#now();
    const ended: BackupJob = {
      ...publicJob(job),
      ...update,
      endTime: end.toISOString(),
      duration: isoDuration(new Date(job.startTime), end),
    };
    await this.#write(job.vaultName, name, ended);
    return ended;
  }

  /** Updates a running job's record (its tool, its stop reason). */
  async #patchJob(name: string, patch: Partial<StoredJob>): Promise<void> {
    const job = this.#records.get(name);
    if (!job) return;
    const next = { ...job, ...patch } as StoredJob;
    this.#records.set(name, next);
    await this.#write(job.vaultName, name, next);
  }

  /** Updates what a running job's work has done so far. */
  async #patchWork(name: string, patch: Partial<JobWork>): Promise<void> {
    const work = this.#records.get(name)?.work;
    if (work) await this.#patchJob(name, { work: { ...work, ...patch } as JobWork });
  }

  /** Writes a job's record after the earlier writes of the same job. */
  #write(vaultName: string, name: string, record: unknown): Promise<void> {
    const vault = VaultFolder.of(this.#options.stateDir, vaultName);
    const previous = this.#writes.get(name) ?? Promise.resolve();
    const current = previous.then(() => vault.writeRecord("backupJobs", name, record));
    const settled = current.catch(() => undefined);
    this.#writes.set(name, settled);
    void settled.then(() => {
      if (this.#writes.get(name) === settled) this.#writes.delete(name);
    });
    return current;
  }

  /** Notes the tool a job runs; a job a stop has cut off has its tool stopped at once. */
  #toolStarted(name: string, tool: JobTool): void {
    if (this.#interrupted.has(name)) signalTool(tool.pid, "SIGTERM");
    void this.#patchJob(name, { tool }).catch(() => undefined);
  }

  #toolEnded(name: string): void {
    const job = this.#records.get(name);
    if (!job?.tool) return;
    const { tool: _tool, ...rest } = job;
    this.#records.set(name, rest);
    void this.#write(job.vaultName, name, rest).catch(() => undefined);
  }

  /** The recovery point a backup job committed already, as the job's result. */
  async #committedPointOf(
    vault: VaultFolder,
    job: StoredJob,
  ): Promise<Partial<BackupJob> | undefined> {
    const instanceName = job.backupInstanceId.split("/").pop() ?? "";
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

  /** Parses and checks a vault id, and settles jobs orphaned by an earlier process (once). */
  async #vault(vaultId: string): Promise<{ vault: VaultFolder; ref: VaultRef }> {
    const ref = parseVaultId(vaultId);
    if (
      !sameResourceId(formatVaultId(ref), this.vaultId(ref.vaultName)) ||
      !followsRule(vaultNameRule, ref.vaultName)
    ) {
      throw this.#notFound(
        `'${vaultId}' is not a vault of this local provider (subscription ${this.#scope.subscriptionId}, resource group ${this.#scope.resourceGroup})`,
      );
    }
    // Azure names ignore case: `PGPROTECT-VAULT` is the folder `pgprotect-vault`.
    const vaultName =
      (await existingVaultFolderName(this.#options.stateDir, ref.vaultName)) ?? ref.vaultName;
    const vault = VaultFolder.of(this.#options.stateDir, vaultName);
    await this.#recoverVault(vaultName);
    return { vault, ref: { ...ref, vaultName } };
  }

  /**
   * Resumes the jobs of every vault that a stop or a crash of an earlier process cut off (the
   * provider's start calls it, so that no request has to come first). Each job's new attempt
   * runs in the background.
   */
  async recoverInterruptedJobs(): Promise<void> {
    for (const vaultName of await this.listVaultNames()) {
      if (followsRule(vaultNameRule, vaultName)) await this.#recoverVault(vaultName);
    }
  }

  /** Recovers one vault's interrupted jobs, once per process; later callers wait for it. */
  #recoverVault(vaultName: string): Promise<void> {
    let recovery = this.#recovered.get(vaultName);
    if (!recovery) {
      recovery = this.#recoverOrphans(VaultFolder.of(this.#options.stateDir, vaultName));
      this.#recovered.set(vaultName, recovery);
    }
    return recovery;
  }

  async #recoverOrphans(vault: VaultFolder): Promise<void> {
    const jobs = await vault.listRecords<StoredJob>("backupJobs");
    const orphans: StoredJob[] = [];
    for (const job of jobs) {
      if (job.status !== "InProgress" || !job.runner || job.runner.instance === this.#instance)
        continue;
      // A job of another live process is that process's business.
      if (job.runner.pid === process.pid || !(await processIsRunning(job.runner.pid)))
        orphans.push(job);
    }
    // Staging folders of jobs that run elsewhere stay; every other one is a leftover.
    const live = jobs
      .filter((job) => job.status === "InProgress" && !orphans.includes(job))
      .map((job) => job.name);
    await vault.removeLeftovers(live);
    for (const job of orphans) {
      try {
        await this.#resume(vault, job);
      } catch (error) {
        process.stderr.write(
          `pgprotect: job ${job.name} could not be resumed: ${(error as Error).message}\n`,
        );
      }
    }
  }

  /**
   * Cleans up after an attempt a stop or a crash cut off, then completes the job (a backup whose
   * recovery point was committed), runs it again as its next attempt, or fails it (attempts used
   * up, or what the attempt left cannot be removed: the job then says what remains).
   */
  async #resume(vault: VaultFolder, job: StoredJob): Promise<void> {
    const now = this.#now().toISOString();
    const attempt = job.attempt ?? 1;
    const cleaned: string[] = [];
    if (job.tool && (await stopStrayTool(job.tool.pid, job.tool.program)))
      cleaned.push(`its ${job.tool.program} (pid ${job.tool.pid}) was stopped`);
    const mine = { runner: { pid: process.pid, instance: this.#instance } };
    const { tool: _tool, stopReason, ...rest } = job;
    const base: StoredJob = { ...rest, ...mine };

    const work = job.work;
    let remains: string | undefined;
    if (work?.kind === "backup") {
      const committed = await this.#committedPointOf(vault, job);
      if (committed) {
        this.#records.set(job.name, base);
        await this.#finishRecovered(base, { ...committed, status: "Completed" });
        return;
      }
      cleaned.push("its staging files were removed");
    } else if (work?.kind === "restoreToDatabase" && work.creatingDatabase) {
      const target = parseDatabaseId(work.targetDatabaseId);
      try {
        await this.#dropRestoredDatabase(vault, work.targetDatabaseId, work.secretUri, job);
        cleaned.push(`the database '${target.databaseName}' it had begun to restore was dropped`);
      } catch (error) {
        remains = `the database '${target.databaseName}' on server '${target.serverName}', half restored by attempt ${attempt}, remains (dropping it failed: ${(error as Error).message}); drop it with DROP DATABASE ${quoteIdent(target.databaseName)} WITH (FORCE) before restoring again`;
      }
    } else if (work?.kind === "restoreAsFiles" && work.writingFiles) {
      // Read from the folder: the vault's recovery (this) is what vault-level calls wait for.
      const instanceName = job.backupInstanceId.split("/").pop() ?? "";
      const point = (await vault.listManifests(work.store, instanceName)).find(
        (p) => p.recoveryPointId === job.recoveryPointId,
      );
      try {
        await removeRestoredFiles(work.destination, work.prefix, point?.files ?? []);
        cleaned.push(`the files it had begun to write under ${work.destination} were removed`);
      } catch (error) {
        remains = `the files named '${work.prefix}*' under ${work.destination}, half written by attempt ${attempt}, remain (removing them failed: ${(error as Error).message}); remove them before restoring again`;
      }
    }

    const reason = `${stopReason ?? `the host stopped (a crash or a kill) while attempt ${attempt} ran`}${cleaned.length > 0 ? `; ${cleaned.join("; ")}` : ""}`;
    const interruptedAttempts: InterruptedAttempt[] = [
      ...(job.interruptedAttempts ?? []),
      { attempt, startTime: job.attemptStartTime ?? job.startTime, interruptedAt: now, reason },
    ];
    if (remains !== undefined || attempt >= maxJobAttempts || !work) {
      this.#records.set(job.name, { ...base, interruptedAttempts });
      await this.#finishRecovered(
        { ...base, interruptedAttempts },
        {
          status: "Failed",
          errorDetails: [
            {
              code: ProviderErrorCodes.jobInterrupted,
              message:
                remains !== undefined
                  ? `The host stopped while the job ran; ${remains}`
                  : `The host stopped while the job ran, ${attempt} time(s); it is not tried again: ${reason}`,
              recommendedAction: [
                remains !== undefined
                  ? "Remove what remains, then run the operation again"
                  : "Run the operation again",
              ],
              isRetryable: true,
              isUserError: false,
            },
          ],
        },
      );
      return;
    }
    const next: StoredJob = {
      ...base,
      attempt: attempt + 1,
      attemptStartTime: now,
      interruptedAttempts,
      work:
        work.kind === "restoreToDatabase"
          ? { ...work, creatingDatabase: false }
          : work.kind === "restoreAsFiles"
            ? { ...work, writingFiles: false }
            : work,
    };
    await vault.writeRecord("backupJobs", job.name, next);
    this.#track(vault, next);
  }

  /** Ends a recovered job that does not run again. */
  async #finishRecovered(job: StoredJob, update: Partial<BackupJob>): Promise<void> {
    this.#records.set(job.name, job);
    try {
      await this.#finish(job.name, update);
    } finally {
      this.#records.delete(job.name);
    }
  }

  /** Drops a database a restore job created, ending its sessions (a killed pg_restore's too). */
  async #dropRestoredDatabase(
    vault: VaultFolder,
    targetDatabaseId: string,
    secretUri: string | undefined,
    job: StoredJob,
  ): Promise<void> {
    const target = parseDatabaseId(targetDatabaseId);
    const instanceName = job.backupInstanceId.split("/").pop() ?? "";
    const instance = await vault.readRecord<BackupInstance>("backupInstances", instanceName);
    const uri = secretUri ?? instance?.secretStore?.uri;
    const params = uri
      ? await this.#options.secrets.getConnectionParams(uri)
      : this.#options.directory.serverConnection(target.serverName);
    await withClient(
      clientConfig(params, "postgres"),
      `Dropping database '${target.databaseName}'`,
      (client) =>
        client.query(`DROP DATABASE IF EXISTS ${quoteIdent(target.databaseName)} WITH (FORCE)`),
    );
  }

  #notFound(message: string): NotFoundError {
    return new NotFoundError(ProviderErrorCodes.resourceNotFound, message);
  }
}

/**
 * The failure of a restore whose user may not create databases (`permission denied to create
 * database`, SQLSTATE 42501): the user's to fix, so it says how.
 */
function createDatabaseRefused(
  databaseName: string,
  params: PostgresConnectionParams,
  cause: unknown,
): AppError {
  const user = params.user ?? "the secret's user";
  return new AppError(
    ProviderErrorCodes.missingDbPermissions,
    `Restoring into '${databaseName}' needs a new database, and the user '${user}' may not create one: ${(cause as Error).message}`,
    {
      httpStatus: 400,
      cause,
      recommendedAction: `Grant the user the right to create databases (ALTER ROLE ${quoteIdent(user)} CREATEDB) or restore with a secret (secretUri) whose user has it`,
    },
  );
}

/** A job without the provider's bookkeeping. */
function publicJob(job: StoredJob): BackupJob {
  const {
    runner: _runner,
    work: _work,
    tool: _tool,
    attemptStartTime: _attemptStartTime,
    stopReason: _stopReason,
    ...rest
  } = job;
  return rest;
}

/** The recovery point a backup job makes: derived from the job, so a job makes at most one. */
function recoveryPointIdOf(job: Pick<BackupJob, "name">): string {
  return job.name.toLowerCase().replaceAll("-", "");
}

/** Removes what a restore as files wrote (or began to write) under its destination. */
async function removeRestoredFiles(
  destination: string,
  prefix: string,
  files: readonly RecoveryPointFile[],
): Promise<void> {
  const names = new Set([
    ...files.map((f) => `${prefix}${f.fileName}`),
    `${prefix}recovery-point.json`,
  ]);
  for (const entry of await readdirIfExists(destination)) {
    const base = entry.replace(/\.partial-[0-9a-f-]{36}$/, "");
    if (names.has(base)) await rm(path.join(destination, entry), { force: true });
  }
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
