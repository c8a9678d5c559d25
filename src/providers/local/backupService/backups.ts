/**
 * The local service's backups: one rule and one retention tag of an instance's policy, one
 * backup at a time per instance, each database dumped into a staging folder (one `pg_dump -Fc`
 * file, or a folder of `pg_dump -Fd -j` files where several large tables make parallel jobs
 * worth it) and committed as one recovery point.
 *
 * @remarks A whole server's databases are dumped several at a time, each in a slot of its server
 * (`serverSlots.ts`) that every other job's dumps of that server share; one database that fails
 * does not stop the others, and the job's failure names each database that failed and why.
 */
import { mkdir, rm } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { AppError, InvalidInputError, toAppError } from "../../../domain/errors.js";
import {
  formatRecoveryPointId,
  parseVaultChildId,
  parseVaultId,
  sameResourceId,
} from "../../../domain/protection/ids.js";
import { isBackupRule, isRetentionRule } from "../../../domain/policy/types.js";
import { weeklyBackupLimitViolation } from "../../../domain/protection/rules.js";
import type {
  BackupInstance,
  BackupJob,
  JobOperation,
  RecoveryPointFile,
  RecoveryPointStoreType,
} from "../../../domain/protection/types.js";
import type { PostgresConnectionParams } from "../../../domain/protection/connectionString.js";
import type { JobReference } from "../../ports.js";
import { ProviderErrorCodes } from "../../ports.js";
import { dumpDatabaseForRecoveryPoint } from "../databaseStructure.js";
import { PARALLEL_TABLE_MIN_BYTES, parallelJobs } from "../dumpPlan.js";
import { clientConfig, withClient } from "../pgConnection.js";
import {
  recoveryPointStores,
  type RecoveryPointManifest,
  type VaultFolder,
} from "../vaultStore.js";
import type { LocalServiceContext } from "./context.js";
import { publicJob, recoveryPointIdOf, type StoredJob } from "./jobRecords.js";
import type { JobTracker } from "./jobTracker.js";
import { credentialsFor, getBackupInstance } from "./instances.js";
import { getPolicy } from "./policies.js";
import { committedPointOf } from "./recoveryPoints.js";

/** A backup to run: the rule and the retention tag, and who asked. */
export interface BackupRunRequest {
  readonly ruleName: string;
  readonly retentionTag: string;
  readonly trigger: "OnDemand" | "Scheduled";
}

/** The name of one database's dump, unique within a recovery point, without its extension. */
function dumpBaseName(database: string, index: number): string {
  return `${String(index + 1).padStart(2, "0")}-${database.replace(/[^A-Za-z0-9_.-]/g, "_")}`;
}

/** Starts and runs backups. */
export class LocalBackups {
  readonly #context: LocalServiceContext;
  readonly #jobs: JobTracker;
  /** Backup starts per backup instance, one after another, so that one backup runs at a time. */
  readonly #backupStarts = new Map<string, Promise<unknown>>();

  constructor(context: LocalServiceContext, jobs: JobTracker) {
    this.#context = context;
    this.#jobs = jobs;
  }

  /**
   * Starts a backup of an instance under one backup rule with one retention tag.
   *
   * @throws AppError `UserErrorBackupRuleNotFound`, `UserErrorRetentionTagNotFound`,
   * `UserErrorProtectionNotConfigured`, `ResourceNotFound`.
   */
  async run(
    vaultId: string,
    instanceName: string,
    request: BackupRunRequest,
  ): Promise<JobReference> {
    const context = this.#context;
    const { vault, ref } = await context.vault(vaultId);
    const instance = await getBackupInstance(context, vaultId, instanceName);
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
    const policy = await getPolicy(context, vaultId, policyName);
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
        return this.#jobs.start(
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
    this.#jobs.track(vault, job);
    return { jobId: job.id };
  }

  /** The running backup of an instance, if any. */
  async runningBackupOf(vaultId: string, instanceName: string): Promise<BackupJob | undefined> {
    const { vault } = await this.#context.vault(vaultId);
    const instance = await getBackupInstance(this.#context, vaultId, instanceName);
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
    this.#jobs.refuseWhileDraining();
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

  /** Runs a backup job's work: dumps every database and commits the recovery point. */
  async execute(
    vault: VaultFolder,
    job: StoredJob,
    instance: BackupInstance,
    dataStore: RecoveryPointStoreType,
  ): Promise<Partial<BackupJob>> {
    const context = this.#context;
    // A crash after the commit but before the job was marked: the point exists, nothing to dump.
    const committed = await committedPointOf(vault, job);
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

    const { params, databases } = await credentialsFor(context, instance);
    // Each dump's own connection tells the server's version: a backup opens no other.
    let serverVersion: string | undefined;

    const staging = vault.stagingFolder(job.name);
    // What an earlier attempt of this job staged is not part of this one.
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true, mode: 0o700 });
    try {
      const capacity = context.options.vaultCapacityBytes;
      let remaining =
        capacity === undefined ? Number.POSITIVE_INFINITY : capacity - (await usedBytes(vault));
      const { options } = context;
      const cores = options.cpuCount ?? availableParallelism();
      const maxJobs = options.parallelJobs ?? Number.POSITIVE_INFINITY;
      // A dump holds its jobs' connections, one for the list of its tables, and the snapshot's.
      const connectionsPerDatabase = parallelJobs(maxJobs, cores) + 2;
      const dumpOne = async (database: string, index: number): Promise<RecoveryPointFile> => {
        // This database's tools: the job runs others meanwhile, whose records stay.
        const pids: number[] = [];
        const { serverVersion: version, ...result } = await dumpDatabaseForRecoveryPoint({
          binDir: options.binDir,
          params,
          database,
          folder: staging,
          baseName: dumpBaseName(database, index),
          maxJobs,
          cores,
          parallelTableMinBytes: options.parallelTableMinBytes ?? PARALLEL_TABLE_MIN_BYTES,
          ...(options.compressionLevel === undefined
            ? {}
            : { compression: options.compressionLevel }),
          maxBytes: Math.max(0, remaining),
          onSpawn: (pid) => {
            pids.push(pid);
            this.#jobs.toolStarted(job.name, { pid, program: "pg_dump" });
            context.options.onDumpStarted?.(job.id, pid);
          },
        }).finally(() => {
          for (const pid of pids) this.#jobs.toolEnded(job.name, pid);
        });
        remaining -= result.sizeBytes;
        serverVersion ??= version;
        return { databaseName: database, ...result };
      };
      // Each database waits for a slot of its server (shared with every other job); with a
      // capacity, one after another, so that each dump is bounded by what the others left.
      const inSlot = (database: string, index: number) =>
        context.serverSlots.run(params, database, connectionsPerDatabase, () =>
          dumpOne(database, index),
        );
      const outcomes: PromiseSettledResult<RecoveryPointFile>[] = [];
      if (capacity === undefined) {
        outcomes.push(...(await Promise.allSettled(databases.map(inSlot))));
      } else {
        for (const [index, database] of databases.entries())
          outcomes.push(...(await Promise.allSettled([inSlot(database, index)])));
      }
      const files = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
      const failures = outcomes.flatMap((o, i) =>
        o.status === "rejected" ? [{ database: databases[i] ?? "", error: o.reason }] : [],
      );
      if (failures.length > 0) throw databasesFailed(failures, databases.length);
      const endedAt = context.now();
      // Derived from the job: a job can never commit two recovery points.
      const recoveryPointId = recoveryPointIdOf(job);
      const ref = parseVaultId(context.vaultId(job.vaultName));
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
        serverVersion: serverVersion ?? (await serverVersionOf(params, instance.friendlyName)),
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
}

/**
 * The failure of a backup some of whose databases failed: the one failure as it was; several
 * under the first one's code, each database named with its own reason.
 */
function databasesFailed(
  failures: readonly { readonly database: string; readonly error: unknown }[],
  total: number,
): unknown {
  const [first] = failures;
  if (failures.length === 1 || !first) return first?.error;
  const lead = toAppError(first.error);
  const reasons = failures
    .map(({ database, error }) => `${database}: ${(error as Error).message ?? String(error)}`)
    .join("; ");
  return new AppError(
    lead.code,
    `${failures.length} of ${total} databases were not backed up (${reasons})`,
    {
      httpStatus: lead.httpStatus,
      retryable: failures.every(({ error }) => toAppError(error).retryable),
      ...(lead.serviceCode ? { serviceCode: lead.serviceCode } : {}),
      ...(lead.recommendedAction ? { recommendedAction: lead.recommendedAction } : {}),
    },
  );
}

/** The version of a server none of whose databases was dumped (one without databases). */
async function serverVersionOf(
  params: PostgresConnectionParams,
  friendlyName: string,
): Promise<string> {
  return withClient(
    clientConfig(params),
    `Connecting to ${friendlyName}`,
    async (client) =>
      String(
        (await client.query<{ server_version: string }>("SHOW server_version")).rows[0]
          ?.server_version ?? "",
      ).split(" ")[0] ?? "",
  );
}

/** Bytes taken by every recovery point copy of a vault. */
async function usedBytes(vault: VaultFolder): Promise<number> {
  let used = 0;
  for (const instanceName of await vault.instancesWithRecoveryPoints()) {
    for (const store of recoveryPointStores) {
      for (const manifest of await vault.listManifests(store, instanceName))
        used += manifest.sizeBytes;
    }
  }
  return used;
}
