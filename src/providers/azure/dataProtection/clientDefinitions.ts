/**
 * The routes of the Data Protection client: one interface per resource path, one method per
 * HTTP verb, and `Routes`, whose literal path types pin the path arguments.
 */
import type { Client, StreamableMethod } from "@azure-rest/core-client";
import type {
  BackupInstancesDeleteMethod,
  BackupInstancesResume,
  BackupInstancesSuspendBackups,
  BackupInstancesValidateForModifyBackup,
  DeletedBackupInstancesList,
  DeletedBackupInstancesUndelete,
} from "./lifecycleOperations.js";
import type { DppResourceGuardProxyList } from "./vaultSecurityOperations.js";
import type {
  BackupInstancesAdhocBackupParameters,
  BackupInstancesCreateOrUpdateParameters,
  BackupInstancesExtensionRoutingListParameters,
  BackupInstancesGetParameters,
  BackupInstancesListParameters,
  BackupInstancesStopProtectionParameters,
  BackupInstancesTriggerRestoreParameters,
  BackupInstancesValidateForBackupParameters,
  BackupInstancesValidateForRestoreParameters,
  BackupPoliciesCreateOrUpdateParameters,
  BackupPoliciesGetParameters,
  BackupPoliciesListParameters,
  BackupVaultsGetInResourceGroupParameters,
  BackupVaultsGetInSubscriptionParameters,
  BackupVaultsGetParameters,
  JobsGetParameters,
  JobsListParameters,
  RecoveryPointsListParameters,
} from "./parameters.js";
import type {
  BackupInstancesAdhocBackup200Response,
  BackupInstancesAdhocBackup202Response,
  BackupInstancesAdhocBackupDefaultResponse,
  BackupInstancesCreateOrUpdate200Response,
  BackupInstancesCreateOrUpdate201Response,
  BackupInstancesCreateOrUpdate202Response,
  BackupInstancesCreateOrUpdateDefaultResponse,
  BackupInstancesGet200Response,
  BackupInstancesGetDefaultResponse,
  BackupInstancesList200Response,
  BackupInstancesListDefaultResponse,
  BackupInstancesStopProtection200Response,
  BackupInstancesStopProtection202Response,
  BackupInstancesStopProtectionDefaultResponse,
  BackupInstancesTriggerRestore200Response,
  BackupInstancesTriggerRestore202Response,
  BackupInstancesTriggerRestoreDefaultResponse,
  BackupInstancesValidateForBackup200Response,
  BackupInstancesValidateForBackup202Response,
  BackupInstancesValidateForBackupDefaultResponse,
  BackupInstancesValidateForRestore200Response,
  BackupInstancesValidateForRestore202Response,
  BackupInstancesValidateForRestoreDefaultResponse,
  BackupPoliciesCreateOrUpdate200Response,
  BackupPoliciesCreateOrUpdateDefaultResponse,
  BackupPoliciesGet200Response,
  BackupPoliciesGetDefaultResponse,
  BackupPoliciesList200Response,
  BackupPoliciesListDefaultResponse,
  BackupVaultsGet200Response,
  BackupVaultsGetDefaultResponse,
  BackupVaultsList200Response,
  BackupVaultsListDefaultResponse,
  JobsGet200Response,
  JobsGetDefaultResponse,
  JobsList200Response,
  JobsListDefaultResponse,
  RecoveryPointsList200Response,
  RecoveryPointsListDefaultResponse,
} from "./responses.js";

/** `/subscriptions/{s}/providers/Microsoft.DataProtection/backupVaults`. */
export interface BackupVaultsGetInSubscription {
  /** Returns the backup vaults of a subscription. */
  get(
    options?: BackupVaultsGetInSubscriptionParameters,
  ): StreamableMethod<BackupVaultsList200Response | BackupVaultsListDefaultResponse>;
}

/** `{rgp}/backupVaults`. */
export interface BackupVaultsGetInResourceGroup {
  /** Returns the backup vaults of a resource group. */
  get(
    options?: BackupVaultsGetInResourceGroupParameters,
  ): StreamableMethod<BackupVaultsList200Response | BackupVaultsListDefaultResponse>;
}

/** `{rgp}/backupVaults/{vaultName}`. */
export interface BackupVaultsGet {
  /** Returns a backup vault. */
  get(
    options?: BackupVaultsGetParameters,
  ): StreamableMethod<BackupVaultsGet200Response | BackupVaultsGetDefaultResponse>;
}

/** `{rgp}/backupVaults/{vaultName}/backupPolicies`. */
export interface BackupPoliciesList {
  /** Returns the backup policies of a vault. */
  get(
    options?: BackupPoliciesListParameters,
  ): StreamableMethod<BackupPoliciesList200Response | BackupPoliciesListDefaultResponse>;
}

/** `{rgp}/backupVaults/{vaultName}/backupPolicies/{backupPolicyName}`. */
export interface BackupPoliciesGet {
  /** Returns a backup policy. */
  get(
    options?: BackupPoliciesGetParameters,
  ): StreamableMethod<BackupPoliciesGet200Response | BackupPoliciesGetDefaultResponse>;
  /** Creates a backup policy (synchronous). */
  put(
    options: BackupPoliciesCreateOrUpdateParameters,
  ): StreamableMethod<
    BackupPoliciesCreateOrUpdate200Response | BackupPoliciesCreateOrUpdateDefaultResponse
  >;
}

/** `{rgp}/backupVaults/{vaultName}/backupInstances`. */
export interface BackupInstancesList {
  /** Returns the backup instances of a vault. */
  get(
    options?: BackupInstancesListParameters,
  ): StreamableMethod<BackupInstancesList200Response | BackupInstancesListDefaultResponse>;
}

/** `{rgp}/backupVaults/{vaultName}/backupInstances/{backupInstanceName}`. */
export interface BackupInstancesGet {
  /** Returns a backup instance. */
  get(
    options?: BackupInstancesGetParameters,
  ): StreamableMethod<BackupInstancesGet200Response | BackupInstancesGetDefaultResponse>;
  /** Creates or updates a backup instance (long-running). */
  put(
    options: BackupInstancesCreateOrUpdateParameters,
  ): StreamableMethod<
    | BackupInstancesCreateOrUpdate200Response
    | BackupInstancesCreateOrUpdate201Response
    | BackupInstancesCreateOrUpdate202Response
    | BackupInstancesCreateOrUpdateDefaultResponse
  >;
}

/** A backup instance's route with its delete (`BackupInstances_Delete`). */
export type BackupInstancesGetOrDelete = BackupInstancesGet & BackupInstancesDeleteMethod;

/** `{rgp}/backupVaults/{vaultName}/validateForBackup`. */
export interface BackupInstancesValidateForBackup {
  /** Validates whether a backup instance can be configured (long-running). */
  post(
    options: BackupInstancesValidateForBackupParameters,
  ): StreamableMethod<
    | BackupInstancesValidateForBackup200Response
    | BackupInstancesValidateForBackup202Response
    | BackupInstancesValidateForBackupDefaultResponse
  >;
}

/** `/{resourceId}/providers/Microsoft.DataProtection/backupInstances`. */
export interface BackupInstancesExtensionRoutingList {
  /** Returns the backup instances protecting a datasource, in any vault. */
  get(
    options?: BackupInstancesExtensionRoutingListParameters,
  ): StreamableMethod<BackupInstancesList200Response | BackupInstancesListDefaultResponse>;
}

/** `.../backupInstances/{backupInstanceName}/stopProtection`. */
export interface BackupInstancesStopProtection {
  /** Stops protection, keeping recovery points (long-running). */
  post(
    options?: BackupInstancesStopProtectionParameters,
  ): StreamableMethod<
    | BackupInstancesStopProtection200Response
    | BackupInstancesStopProtection202Response
    | BackupInstancesStopProtectionDefaultResponse
  >;
}

/** `.../backupInstances/{backupInstanceName}/backup`. */
export interface BackupInstancesAdhocBackup {
  /** Triggers an ad-hoc backup (long-running; the result names the job). */
  post(
    options: BackupInstancesAdhocBackupParameters,
  ): StreamableMethod<
    | BackupInstancesAdhocBackup200Response
    | BackupInstancesAdhocBackup202Response
    | BackupInstancesAdhocBackupDefaultResponse
  >;
}

/** `.../backupInstances/{backupInstanceName}/restore`. */
export interface BackupInstancesTriggerRestore {
  /** Triggers a restore (long-running; the result names the job). */
  post(
    options: BackupInstancesTriggerRestoreParameters,
  ): StreamableMethod<
    | BackupInstancesTriggerRestore200Response
    | BackupInstancesTriggerRestore202Response
    | BackupInstancesTriggerRestoreDefaultResponse
  >;
}

/** `.../backupInstances/{backupInstanceName}/validateRestore`. */
export interface BackupInstancesValidateForRestore {
  /** Validates whether the service would carry a restore out (long-running). */
  post(
    options: BackupInstancesValidateForRestoreParameters,
  ): StreamableMethod<
    | BackupInstancesValidateForRestore200Response
    | BackupInstancesValidateForRestore202Response
    | BackupInstancesValidateForRestoreDefaultResponse
  >;
}

/** `.../backupInstances/{backupInstanceName}/recoveryPoints`. */
export interface RecoveryPointsList {
  /** Returns the recovery points of a backup instance. */
  get(
    options?: RecoveryPointsListParameters,
  ): StreamableMethod<RecoveryPointsList200Response | RecoveryPointsListDefaultResponse>;
}

/** `{rgp}/backupVaults/{vaultName}/backupJobs`. */
export interface JobsList {
  /** Returns the jobs of a vault. */
  get(
    options?: JobsListParameters,
  ): StreamableMethod<JobsList200Response | JobsListDefaultResponse>;
}

/** `{rgp}/backupVaults/{vaultName}/backupJobs/{jobId}`. */
export interface JobsGet {
  /** Returns a job. */
  get(options?: JobsGetParameters): StreamableMethod<JobsGet200Response | JobsGetDefaultResponse>;
}

/** The typed routes of the client. */
export interface Routes {
  /** Resource for '/subscriptions/\{subscriptionId\}/providers/Microsoft.DataProtection/backupVaults' */
  (
    path: "/subscriptions/{subscriptionId}/providers/Microsoft.DataProtection/backupVaults",
    subscriptionId: string,
  ): BackupVaultsGetInSubscription;
  /** Resource for '\{rgp\}/backupVaults' */
  (
    path: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DataProtection/backupVaults",
    subscriptionId: string,
    resourceGroupName: string,
  ): BackupVaultsGetInResourceGroup;
  /** Resource for '\{rgp\}/backupVaults/\{vaultName\}' */
  (
    path: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DataProtection/backupVaults/{vaultName}",
    subscriptionId: string,
    resourceGroupName: string,
    vaultName: string,
  ): BackupVaultsGet;
  /** Resource for '\{rgp\}/backupVaults/\{vaultName\}/backupPolicies' */
  (
    path: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DataProtection/backupVaults/{vaultName}/backupPolicies",
    subscriptionId: string,
    resourceGroupName: string,
    vaultName: string,
  ): BackupPoliciesList;
  /** Resource for '\{rgp\}/backupVaults/\{vaultName\}/backupPolicies/\{backupPolicyName\}' */
  (
    path: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DataProtection/backupVaults/{vaultName}/backupPolicies/{backupPolicyName}",
    subscriptionId: string,
    resourceGroupName: string,
    vaultName: string,
    backupPolicyName: string,
  ): BackupPoliciesGet;
  /** Resource for '\{rgp\}/backupVaults/\{vaultName\}/backupInstances' */
  (
    path: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DataProtection/backupVaults/{vaultName}/backupInstances",
    subscriptionId: string,
    resourceGroupName: string,
    vaultName: string,
  ): BackupInstancesList;
  /** Resource for '\{rgp\}/backupVaults/\{vaultName\}/backupInstances/\{backupInstanceName\}' */
  (
    path: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DataProtection/backupVaults/{vaultName}/backupInstances/{backupInstanceName}",
    subscriptionId: string,
    resourceGroupName: string,
    vaultName: string,
    backupInstanceName: string,
  ): BackupInstancesGetOrDelete;
  /** Resource for '\{rgp\}/backupVaults/\{vaultName\}/validateForBackup' */
  (
    path: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DataProtection/backupVaults/{vaultName}/validateForBackup",
    subscriptionId: string,
    resourceGroupName: string,
    vaultName: string,
  ): BackupInstancesValidateForBackup;
  /**
   * Resource for '/\{resourceId\}/providers/Microsoft.DataProtection/backupInstances'; pass the
   * id without its leading slash and with `allowReserved` (the contract skips URL encoding).
   */
  (
    path: "/{resourceId}/providers/Microsoft.DataProtection/backupInstances",
    resourceId: { value: string; allowReserved: true },
  ): BackupInstancesExtensionRoutingList;
  /** Resource for '.../backupInstances/\{backupInstanceName\}/stopProtection' */
  (
    path: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DataProtection/backupVaults/{vaultName}/backupInstances/{backupInstanceName}/stopProtection",
    subscriptionId: string,
    resourceGroupName: string,
    vaultName: string,
    backupInstanceName: string,
  ): BackupInstancesStopProtection;
  /** Resource for '.../backupInstances/\{backupInstanceName\}/backup' */
  (
    path: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DataProtection/backupVaults/{vaultName}/backupInstances/{backupInstanceName}/backup",
    subscriptionId: string,
    resourceGroupName: string,
    vaultName: string,
    backupInstanceName: string,
  ): BackupInstancesAdhocBackup;
  /** Resource for '.../backupInstances/\{backupInstanceName\}/restore' */
  (
    path: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DataProtection/backupVaults/{vaultName}/backupInstances/{backupInstanceName}/restore",
    subscriptionId: string,
    resourceGroupName: string,
    vaultName: string,
    backupInstanceName: string,
  ): BackupInstancesTriggerRestore;
  /** Resource for '.../backupInstances/\{backupInstanceName\}/validateRestore' */
  (
    path: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DataProtection/backupVaults/{vaultName}/backupInstances/{backupInstanceName}/validateRestore",
    subscriptionId: string,
    resourceGroupName: string,
    vaultName: string,
    backupInstanceName: string,
  ): BackupInstancesValidateForRestore;
  /** Resource for '.../backupInstances/\{backupInstanceName\}/recoveryPoints' */
  (
    path: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DataProtection/backupVaults/{vaultName}/backupInstances/{backupInstanceName}/recoveryPoints",
    subscriptionId: string,
    resourceGroupName: string,
    vaultName: string,
    backupInstanceName: string,
  ): RecoveryPointsList;
  /** Resource for '\{rgp\}/backupVaults/\{vaultName\}/backupJobs' */
  (
    path: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DataProtection/backupVaults/{vaultName}/backupJobs",
    subscriptionId: string,
    resourceGroupName: string,
    vaultName: string,
  ): JobsList;
  /** Resource for '\{rgp\}/backupVaults/\{vaultName\}/backupJobs/\{jobId\}' */
  (
    path: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DataProtection/backupVaults/{vaultName}/backupJobs/{jobId}",
    subscriptionId: string,
    resourceGroupName: string,
    vaultName: string,
    jobId: string,
  ): JobsGet;
  /** Resource for '.../backupInstances/\{backupInstanceName\}/suspendBackups' */
  (
    path: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DataProtection/backupVaults/{vaultName}/backupInstances/{backupInstanceName}/suspendBackups",
    subscriptionId: string,
    resourceGroupName: string,
    vaultName: string,
    backupInstanceName: string,
  ): BackupInstancesSuspendBackups;
  /** Resource for '.../backupInstances/\{backupInstanceName\}/resumeBackups' */
  (
    path: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DataProtection/backupVaults/{vaultName}/backupInstances/{backupInstanceName}/resumeBackups",
    subscriptionId: string,
    resourceGroupName: string,
    vaultName: string,
    backupInstanceName: string,
  ): BackupInstancesResume;
  /** Resource for '.../backupInstances/\{backupInstanceName\}/resumeProtection' */
  (
    path: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DataProtection/backupVaults/{vaultName}/backupInstances/{backupInstanceName}/resumeProtection",
    subscriptionId: string,
    resourceGroupName: string,
    vaultName: string,
    backupInstanceName: string,
  ): BackupInstancesResume;
  /** Resource for '.../backupInstances/\{backupInstanceName\}/validateForModifyBackup' */
  (
    path: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DataProtection/backupVaults/{vaultName}/backupInstances/{backupInstanceName}/validateForModifyBackup",
    subscriptionId: string,
    resourceGroupName: string,
    vaultName: string,
    backupInstanceName: string,
  ): BackupInstancesValidateForModifyBackup;
  /** Resource for '\{rgp\}/backupVaults/\{vaultName\}/deletedBackupInstances' */
  (
    path: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DataProtection/backupVaults/{vaultName}/deletedBackupInstances",
    subscriptionId: string,
    resourceGroupName: string,
    vaultName: string,
  ): DeletedBackupInstancesList;
  /** Resource for '.../deletedBackupInstances/\{backupInstanceName\}/undelete' */
  (
    path: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DataProtection/backupVaults/{vaultName}/deletedBackupInstances/{backupInstanceName}/undelete",
    subscriptionId: string,
    resourceGroupName: string,
    vaultName: string,
    backupInstanceName: string,
  ): DeletedBackupInstancesUndelete;
  /** Resource for '\{rgp\}/backupVaults/\{vaultName\}/backupResourceGuardProxies' */
  (
    path: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DataProtection/backupVaults/{vaultName}/backupResourceGuardProxies",
    subscriptionId: string,
    resourceGroupName: string,
    vaultName: string,
  ): DppResourceGuardProxyList;
}

/** The Data Protection REST-level client. */
export type DataProtectionClient = Client & {
  path: Routes;
};
