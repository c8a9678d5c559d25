/**
 * Request shapes of the Data Protection service (api-version 2026-06-01), as the client sends
 * them. Only the operations pgprotect uses are covered. Policies are the domain's own types: the
 * policy JSON is the service's.
 */
import type { BackupPolicy } from "../../../domain/policy/types.js";

/** `Datasource`: the resource a backup instance protects. */
export interface Datasource {
  objectType: "Datasource";
  datasourceType: string;
  resourceID: string;
  resourceName: string;
  resourceType: string;
  resourceLocation: string;
  resourceUri: string;
}

/** `DatasourceSet`: the parent of a datasource (the server of a database). */
export interface DatasourceSet extends Omit<Datasource, "objectType"> {
  objectType: "DatasourceSet";
}

/** `SecretStoreResource`. */
export interface SecretStoreResource {
  secretStoreType: "AzureKeyVault";
  uri: string;
}

/** `SecretStoreBasedAuthCredentials`, the only `AuthCredentials` subtype. */
export interface SecretStoreBasedAuthCredentials {
  objectType: "SecretStoreBasedAuthCredentials";
  secretStoreResource: SecretStoreResource;
}

/** `PolicyInfo` (`policyVersion` is read-only and never sent). */
export interface PolicyInfo {
  policyId: string;
}

/** `BackupInstance`, the writable part. */
export interface BackupInstance {
  objectType: "BackupInstance";
  friendlyName: string;
  dataSourceInfo: Datasource;
  dataSourceSetInfo?: DatasourceSet;
  policyInfo: PolicyInfo;
  datasourceAuthCredentials?: SecretStoreBasedAuthCredentials;
}

/** `BackupInstanceResource`: the PUT body of `BackupInstances_CreateOrUpdate`. */
export interface BackupInstanceResource {
  properties: BackupInstance;
  tags?: Record<string, string>;
}

/** `ValidateForBackupRequest`. */
export interface ValidateForBackupRequest {
  backupInstance: BackupInstance;
}

/** `BaseBackupPolicyResource`: the PUT body of `BackupPolicies_CreateOrUpdate`. */
export interface BaseBackupPolicyResource {
  properties: BackupPolicy;
}

/** `TriggerBackupRequest` (`AdHocBackupRuleOptions` and `AdhocBackupTriggerOption` inlined). */
export interface TriggerBackupRequest {
  backupRuleOptions: {
    /** The `AzureBackupRule` to run, e.g. `BackupWeekly`. */
    ruleName: string;
    /** Required by the contract even when no tag is overridden. */
    triggerOption: { retentionTagOverride?: string };
  };
}

/** `RestoreTargetInfo`: restore into a datasource (a new database). */
export interface RestoreTargetInfo {
  objectType: "RestoreTargetInfo";
  recoveryOption: "FailIfExists";
  restoreLocation: string;
  datasourceInfo: Datasource;
  datasourceSetInfo?: DatasourceSet;
  datasourceAuthCredentials?: SecretStoreBasedAuthCredentials;
}

/** `TargetDetails` of a restore as files. */
export interface TargetDetails {
  filePrefix: string;
  restoreTargetLocationType: "AzureBlobs" | "AzureFiles";
  url: string;
  targetResourceArmId?: string;
}

/** `RestoreFilesTargetInfo`: restore as files into a blob container. */
export interface RestoreFilesTargetInfo {
  objectType: "RestoreFilesTargetInfo";
  recoveryOption: "FailIfExists";
  restoreLocation: string;
  targetDetails: TargetDetails;
}

/** `AzureBackupRecoveryPointBasedRestoreRequest`. */
export interface AzureBackupRecoveryPointBasedRestoreRequest {
  objectType: "AzureBackupRecoveryPointBasedRestoreRequest";
  recoveryPointId: string;
  sourceDataStoreType: "VaultStore" | "ArchiveStore";
  sourceResourceId: string;
  restoreTargetInfo: RestoreTargetInfo | RestoreFilesTargetInfo;
}

/** `ValidateRestoreRequestObject`: the restore request the service is asked about. */
export interface ValidateRestoreRequestObject {
  restoreRequestObject: AzureBackupRecoveryPointBasedRestoreRequest;
}

/** `StopProtectionRequest` (only needed when multi-user authorization guards the vault). */
export interface StopProtectionRequest {
  resourceGuardOperationRequests?: string[];
}
