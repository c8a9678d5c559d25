/**
 * The local Backup vault service: policies, backup instances, jobs and recovery points kept under
 * the state folder, backups made with `pg_dump -Fc`, restores with `pg_restore`.
 *
 * @remarks Operations answer like the service's long-running operations: `triggerBackup` and
 * `triggerRestore` return a job id at once and the job runs on in this process; `getJob` shows
 * its progress.
 *
 * In-flight work survives a stop and a crash. A job records what it runs (the pid of each tool,
 * a restore's verification tools included, and the database a restore is creating), so that when
 * a job is found `InProgress` under a process that is gone
 * ({@link LocalBackupService.recoverInterruptedJobs} at provider start, or the first use of the
 * vault), what the attempt left is removed (a stray `pg_dump` or `pg_restore` stopped, the
 * staging folder deleted, a half-restored database dropped) and the same job runs again as its
 * next attempt (`attempt`, `interruptedAttempts`), at most {@link maxJobAttempts} times. A backup
 * whose recovery point was committed before the crash is completed instead: each job makes at
 * most one recovery point, whose id derives from the job's. A graceful stop waits a bounded
 * time for running jobs ({@link LocalBackupService.drain}) and leaves the rest to be resumed.
 *
 * One backup runs at a time per backup instance: a second one is refused with
 * `UserErrorBackupInProgress` (409) naming the running job.
 *
 * The service is this facade over one module per concern, all in `./backupService/`: policies,
 * instances, backups, restores (into a database, as files), jobs (the running ones, the stored
 * ones), recovery points, and the recovery of interrupted work.
 */
import { AppError } from "../../domain/errors.js";
import type { BackupPolicy, BackupPolicyResource } from "../../domain/policy/types.js";
import type {
  BackupInstance,
  BackupInstanceSpec,
  BackupJob,
  RecoveryPoint,
  RecoveryPointStoreType,
} from "../../domain/protection/types.js";
import type {
  AdhocBackupRequest,
  BackupServicePort,
  ProtectionLifecyclePort,
  BackupValidation,
  JobFilter,
  JobReference,
  RestoreRequest,
} from "../ports.js";
import { ProviderErrorCodes } from "../ports.js";
import type { VaultFolder } from "./vaultStore.js";
import { LocalBackups, type BackupRunRequest } from "./backupService/backups.js";
import { LocalServiceContext, type LocalBackupServiceOptions } from "./backupService/context.js";
import * as instances from "./backupService/instances.js";
import * as lifecycle from "./backupService/lifecycle.js";
import { InterruptedJobRecovery } from "./backupService/interruptedJobs.js";
import { getJob, listJobs } from "./backupService/jobQueries.js";
import { instanceNameOf, type StoredJob } from "./backupService/jobRecords.js";
import { JobTracker, type DrainOptions } from "./backupService/jobTracker.js";
import * as policies from "./backupService/policies.js";
import * as recoveryPoints from "./backupService/recoveryPoints.js";
import { LocalRestores } from "./backupService/restores.js";

export type { BackupRunRequest } from "./backupService/backups.js";
export type { LocalBackupServiceOptions } from "./backupService/context.js";
export { maxJobAttempts } from "./backupService/jobRecords.js";
export type { DrainOptions } from "./backupService/jobTracker.js";

/** The embedded Backup vault service. */
export class LocalBackupService implements BackupServicePort {
  readonly #context: LocalServiceContext;
  readonly #jobs: JobTracker;
  readonly #backups: LocalBackups;
  readonly #restores: LocalRestores;
  readonly #recovery: InterruptedJobRecovery;
  /** Stop, suspend, resume, change of policy, delete and undelete (`backupService/lifecycle.ts`). */
  readonly lifecycle: ProtectionLifecyclePort;

  constructor(options: LocalBackupServiceOptions) {
    // Each vault's first use waits for the recovery of its interrupted jobs.
    this.#context = new LocalServiceContext(options, (vaultName) =>
      this.#recovery.recoverVault(vaultName),
    );
    this.#jobs = new JobTracker(this.#context, (vault, job) => this.#execute(vault, job));
    this.#backups = new LocalBackups(this.#context, this.#jobs);
    this.#restores = new LocalRestores(this.#context, this.#jobs);
    this.#recovery = new InterruptedJobRecovery(this.#context, this.#jobs);
    const context = this.#context;
    this.lifecycle = {
      stopProtection: (vaultId, name) => lifecycle.stopProtection(context, vaultId, name),
      suspendBackups: (vaultId, name) => lifecycle.suspendBackups(context, vaultId, name),
      resume: (vaultId, name) => lifecycle.resume(context, vaultId, name),
      changePolicy: (vaultId, name, policyId) =>
        lifecycle.changePolicy(context, vaultId, name, policyId),
      deleteBackupInstance: (vaultId, name) =>
        lifecycle.deleteBackupInstance(context, vaultId, name),
      undeleteBackupInstance: (vaultId, name) =>
        lifecycle.undeleteBackupInstance(context, vaultId, name),
      listDeletedBackupInstances: (vaultId) =>
        lifecycle.listDeletedBackupInstances(context, vaultId),
    };
  }

  /** The folders a restore as files may write under, absolute. */
  get restoreFolders(): readonly string[] {
    return this.#context.restoreFolders;
  }

  /** The state folder the vaults live under; the policy scheduler keeps its watermarks there. */
  get stateDir(): string {
    return this.#context.stateDir;
  }

  /** The ARM id of a local vault. */
  vaultId(vaultName: string): string {
    return this.#context.vaultId(vaultName);
  }

  // Policies

  createPolicy(
    vaultId: string,
    policyName: string,
    policy: BackupPolicy,
  ): Promise<BackupPolicyResource> {
    return policies.createPolicy(this.#context, vaultId, policyName, policy);
  }

  getPolicy(vaultId: string, policyName: string): Promise<BackupPolicyResource> {
    return policies.getPolicy(this.#context, vaultId, policyName);
  }

  listPolicies(vaultId: string): Promise<BackupPolicyResource[]> {
    return policies.listPolicies(this.#context, vaultId);
  }

  // Backup instances

  validateForBackup(vaultId: string, spec: BackupInstanceSpec): Promise<BackupValidation> {
    return instances.validateForBackup(this.#context, vaultId, spec);
  }

  createBackupInstance(
    vaultId: string,
    instanceName: string,
    spec: BackupInstanceSpec,
  ): Promise<BackupInstance> {
    return instances.createBackupInstance(this.#context, vaultId, instanceName, spec);
  }

  getBackupInstance(vaultId: string, instanceName: string): Promise<BackupInstance> {
    return instances.getBackupInstance(this.#context, vaultId, instanceName);
  }

  listBackupInstances(vaultId: string): Promise<BackupInstance[]> {
    return instances.listBackupInstances(this.#context, vaultId);
  }

  listBackupInstancesForDatasource(datasourceId: string): Promise<BackupInstance[]> {
    return instances.listBackupInstancesForDatasource(this.#context, datasourceId);
  }

  stopProtection(vaultId: string, instanceName: string): Promise<BackupInstance> {
    return instances.stopProtection(this.#context, vaultId, instanceName);
  }

  /** Names of the vaults that exist under the state folder. */
  listVaultNames(): Promise<string[]> {
    return instances.listVaultNames(this.#context);
  }

  // Backups

  triggerBackup(
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
  runBackup(
    vaultId: string,
    instanceName: string,
    request: BackupRunRequest,
  ): Promise<JobReference> {
    return this.#backups.run(vaultId, instanceName, request);
  }

  /**
   * The running backup of an instance, if any (for the scheduler, which defers rather than
   * fails).
   */
  runningBackupOf(vaultId: string, instanceName: string): Promise<BackupJob | undefined> {
    return this.#backups.runningBackupOf(vaultId, instanceName);
  }

  // Restores

  triggerRestore(
    vaultId: string,
    instanceName: string,
    request: RestoreRequest,
  ): Promise<JobReference> {
    return this.#restores.trigger(vaultId, instanceName, request);
  }

  // Jobs

  getJob(vaultId: string, jobId: string): Promise<BackupJob> {
    return getJob(this.#context, vaultId, jobId);
  }

  listJobs(vaultId: string, filter: JobFilter = {}): Promise<BackupJob[]> {
    return listJobs(this.#context, vaultId, filter);
  }

  /** Resolves when a job of this process ends (at once for a job already ended). */
  async waitForJob(vaultId: string, jobId: string): Promise<BackupJob> {
    const name = (jobId.split("/").pop() ?? "").toLowerCase();
    const running = this.#jobs.running(name);
    if (running) return running;
    return this.getJob(vaultId, jobId);
  }

  /**
   * Stops taking new jobs and waits for the running ones: without a bound, until they end; with
   * `graceMs`, that long, then stops their tools and leaves them `InProgress`, to run again as
   * their next attempt when the provider starts again.
   */
  drain(options: DrainOptions = {}): Promise<void> {
    return this.#jobs.drain(options);
  }

  /**
   * Resumes the jobs of every vault that a stop or a crash of an earlier process cut off (the
   * provider's start calls it, so that no request has to come first). Each job's new attempt
   * runs in the background.
   */
  recoverInterruptedJobs(): Promise<void> {
    return this.#recovery.recoverAll();
  }

  // Recovery points

  listRecoveryPoints(vaultId: string, instanceName: string): Promise<RecoveryPoint[]> {
    return recoveryPoints.listRecoveryPoints(this.#context, vaultId, instanceName);
  }

  /**
   * Copies a recovery point to another store (the lifecycle's copy to ArchiveStore).
   *
   * @throws NotFoundError `ResourceNotFound` when the source store lacks it.
   */
  copyRecoveryPoint(
    vaultId: string,
    instanceName: string,
    recoveryPointId: string,
    to: RecoveryPointStoreType = "ArchiveStore",
    from: RecoveryPointStoreType = "VaultStore",
  ): Promise<void> {
    return recoveryPoints.copyRecoveryPoint(
      this.#context,
      vaultId,
      instanceName,
      recoveryPointId,
      to,
      from,
    );
  }

  /**
   * Deletes a recovery point from one store, or from every store.
   *
   * @returns whether anything was deleted.
   */
  deleteRecoveryPoint(
    vaultId: string,
    instanceName: string,
    recoveryPointId: string,
    store?: RecoveryPointStoreType,
  ): Promise<boolean> {
    return recoveryPoints.deleteRecoveryPoint(
      this.#context,
      vaultId,
      instanceName,
      recoveryPointId,
      store,
    );
  }

  /** Runs a job's work (its first attempt, or a later one after an interruption). */
  async #execute(vault: VaultFolder, job: StoredJob): Promise<Partial<BackupJob>> {
    const work = job.work;
    const instanceName = instanceNameOf(job);
    const instance = await vault.readRecord<BackupInstance>("backupInstances", instanceName);
    if (!work || !instance) {
      throw new AppError(
        ProviderErrorCodes.jobInterrupted,
        `Job ${job.name} cannot run again: ${instance ? "it records no work" : `backup instance '${instanceName}' is gone`}`,
        { httpStatus: 500 },
      );
    }
    return work.kind === "backup"
      ? this.#backups.execute(vault, job, instance, work.dataStore)
      : this.#restores.execute(vault, job, instance, work);
  }
}
