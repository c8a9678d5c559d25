/**
 * The backup ports over Azure Backup (Data Protection Backup vaults): the REST-level client's
 * answers mapped to the domain's types. ARM-shaped JSON stays in this folder; only policies
 * cross unchanged, because the domain's policy types are the service's.
 *
 * @remarks The work is done along the service's seams: policies (`backupPolicies.ts`), backup
 * instances (`backupInstances.ts`), ad-hoc backups and restores (`backupsAndRestores.ts`), jobs
 * and recovery points (`backupJobs.ts`), over one send-and-classify step
 * (`dataProtectionRequests.ts`), lost-answer handling (`lostAnswers.ts`) and the mapping of the
 * service's shapes (`armMapping.ts`). This class puts them behind the one port.
 */
import type { TokenCredential } from "@azure/identity";
import type { Config } from "../../config.js";
import type { EventLogger } from "../../observability/eventLogger.js";
import type { BackupPolicy, BackupPolicyResource } from "../../domain/policy/types.js";
import type {
  BackupInstance,
  BackupInstanceSpec,
  BackupJob,
  RecoveryPoint,
} from "../../domain/protection/types.js";
import type {
  AdhocBackupRequest,
  BackupServicePort,
  BackupValidation,
  CreateBackupInstanceOptions,
  JobFilter,
  JobReference,
  RestoreRequest,
} from "../ports.js";
import { AzureBackupInstances } from "./backupInstances.js";
import { AzureBackupJobs } from "./backupJobs.js";
import { AzureBackupPolicies } from "./backupPolicies.js";
import { AzureBackupsAndRestores } from "./backupsAndRestores.js";
import { AzureVaultSettings, readVault, type BackupVaultSummary } from "./backupVaults.js";
import {
  createDataProtectionClient,
  type DataProtectionClient,
  type DataProtectionClientOptions,
  type LongRunningOptions,
} from "./dataProtection/index.js";
import { DataProtectionRequests } from "./dataProtectionRequests.js";
import { LostAnswerSettler, type LostAnswerOptions } from "./lostAnswers.js";
import { azureSdkEventLogger } from "./providerLog.js";
import type { ArmRequestThrottle } from "./throttling.js";
import { AzureProtectionLifecycle } from "./protectionLifecycle.js";

export {
  jobMatchesFilter,
  toBackupInstance,
  toBackupJob,
  toIsoDuration,
  toRecoveryPoint,
  type BackupInstanceReading,
} from "./armMapping.js";
export type { BackupVaultSummary } from "./backupVaults.js";
export type { LostAnswerOptions } from "./lostAnswers.js";

/** Options of {@link createAzureBackupService}. */
export interface AzureBackupServiceOptions {
  /** The identity the app calls Resource Manager with (managed identity in Azure). */
  readonly credential: TokenCredential;
  /** Endpoint, token audience, TLS and pipeline options of the client. */
  readonly client?: DataProtectionClientOptions;
  /** Buckets shared with the app's other Resource Manager clients. */
  readonly throttle?: ArmRequestThrottle;
  /** How long-running operations are polled. */
  readonly polling?: LongRunningOptions;
  /** How a non-idempotent request whose answer was lost is settled. */
  readonly lostAnswers?: LostAnswerOptions;
  /** Where the service's events go (lost answers, throttling); the Azure SDK's log by default. */
  readonly log?: EventLogger;
}

/** The client options the app's settings describe. */
export function dataProtectionClientOptionsFrom(
  config: Pick<Config, "AZURE_RESOURCE_MANAGER_ENDPOINT" | "AZURE_TOKEN_AUDIENCE">,
): DataProtectionClientOptions {
  return {
    endpoint: config.AZURE_RESOURCE_MANAGER_ENDPOINT,
    tokenAudience: config.AZURE_TOKEN_AUDIENCE,
  };
}

/** Creates the backup ports over a Data Protection client. */
export function createAzureBackupService(options: AzureBackupServiceOptions): AzureBackupService {
  const log = options.log ?? azureSdkEventLogger;
  const client = createDataProtectionClient(options.credential, {
    ...options.client,
    throttling: { log, ...options.client?.throttling },
    ...(options.throttle ? { throttle: options.throttle } : {}),
  });
  return new AzureBackupService(client, options.polling ?? {}, options.lostAnswers ?? {}, log);
}

/** The backup ports over Azure Backup. */
export class AzureBackupService implements BackupServicePort {
  private readonly requests: DataProtectionRequests;
  private readonly policies: AzureBackupPolicies;
  private readonly instances: AzureBackupInstances;
  private readonly jobs: AzureBackupJobs;
  private readonly backupsAndRestores: AzureBackupsAndRestores;
  /** Stop, suspend, resume, change of policy, delete and undelete (`protectionLifecycle.ts`). */
  readonly lifecycle: AzureProtectionLifecycle;
  /** The vaults' security settings, for their posture (`backupVaults.ts`). */
  readonly vaultSettings: AzureVaultSettings;

  constructor(
    readonly client: DataProtectionClient,
    polling: LongRunningOptions = {},
    lostAnswerOptions: LostAnswerOptions = {},
    log: EventLogger = azureSdkEventLogger,
  ) {
    const lostAnswers = new LostAnswerSettler(
      lostAnswerOptions,
      (ms) => this.requests.sleep(ms),
      log,
    );
    this.requests = new DataProtectionRequests(client, polling, () => lostAnswers.now());
    this.policies = new AzureBackupPolicies(this.requests);
    this.instances = new AzureBackupInstances(this.requests, lostAnswers);
    this.lifecycle = new AzureProtectionLifecycle(this.requests, lostAnswers, this.instances);
    this.vaultSettings = new AzureVaultSettings(this.requests);
    this.jobs = new AzureBackupJobs(this.requests, this.instances);
    this.backupsAndRestores = new AzureBackupsAndRestores({
      requests: this.requests,
      lostAnswers,
      instances: this.instances,
      jobs: this.jobs,
      getVault: (vaultId) => this.getVault(vaultId),
    });
  }

  /**
   * A vault's region and managed identity: the identity needs roles on what it protects, and the
   * vault must be in the datasource's region.
   */
  getVault(vaultId: string): Promise<BackupVaultSummary> {
    return readVault(this.requests, vaultId);
  }

  // -- policies ---------------------------------------------------------------------------------

  createPolicy(
    vaultId: string,
    policyName: string,
    policy: BackupPolicy,
  ): Promise<BackupPolicyResource> {
    return this.policies.createPolicy(vaultId, policyName, policy);
  }

  getPolicy(vaultId: string, policyName: string): Promise<BackupPolicyResource> {
    return this.policies.getPolicy(vaultId, policyName);
  }

  listPolicies(vaultId: string): Promise<BackupPolicyResource[]> {
    return this.policies.listPolicies(vaultId);
  }

  // -- backup instances -------------------------------------------------------------------------

  validateForBackup(vaultId: string, spec: BackupInstanceSpec): Promise<BackupValidation> {
    return this.instances.validateForBackup(vaultId, spec);
  }

  /** See {@link AzureBackupInstances.createBackupInstance}. */
  createBackupInstance(
    vaultId: string,
    instanceName: string,
    spec: BackupInstanceSpec,
    options: CreateBackupInstanceOptions = {},
  ): Promise<BackupInstance> {
    return this.instances.createBackupInstance(vaultId, instanceName, spec, options);
  }

  getBackupInstance(vaultId: string, instanceName: string): Promise<BackupInstance> {
    return this.instances.getBackupInstance(vaultId, instanceName);
  }

  listBackupInstances(vaultId: string): Promise<BackupInstance[]> {
    return this.instances.listBackupInstances(vaultId);
  }

  listBackupInstancesForDatasource(datasourceId: string): Promise<BackupInstance[]> {
    return this.instances.listBackupInstancesForDatasource(datasourceId);
  }

  /** See {@link AzureBackupInstances.stopProtection}. */
  stopProtection(vaultId: string, instanceName: string): Promise<BackupInstance> {
    return this.instances.stopProtection(vaultId, instanceName);
  }

  // -- operations -------------------------------------------------------------------------------

  triggerBackup(
    vaultId: string,
    instanceName: string,
    request: AdhocBackupRequest,
  ): Promise<JobReference> {
    return this.backupsAndRestores.triggerBackup(vaultId, instanceName, request);
  }

  triggerRestore(
    vaultId: string,
    instanceName: string,
    request: RestoreRequest,
  ): Promise<JobReference> {
    return this.backupsAndRestores.triggerRestore(vaultId, instanceName, request);
  }

  validateRestore(vaultId: string, instanceName: string, request: RestoreRequest): Promise<void> {
    return this.backupsAndRestores.validateRestore(vaultId, instanceName, request);
  }

  // -- jobs and recovery points -----------------------------------------------------------------

  getJob(vaultId: string, jobId: string): Promise<BackupJob> {
    return this.jobs.getJob(vaultId, jobId);
  }

  listJobs(vaultId: string, filter: JobFilter = {}): Promise<BackupJob[]> {
    return this.jobs.listJobs(vaultId, filter);
  }

  listRecoveryPoints(vaultId: string, instanceName: string): Promise<RecoveryPoint[]> {
    return this.jobs.listRecoveryPoints(vaultId, instanceName);
  }
}
