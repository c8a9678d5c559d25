/**
 * Request parameters of each operation, in the Azure REST-level client shape:
 * `<Op>QueryParam & <Op>BodyParam & RequestParameters`.
 */
import type { RequestParameters } from "@azure-rest/core-client";
import type {
  AzureBackupRecoveryPointBasedRestoreRequest,
  BackupInstanceResource,
  BaseBackupPolicyResource,
  StopProtectionRequest,
  TriggerBackupRequest,
  ValidateForBackupRequest,
  ValidateRestoreRequestObject,
} from "./models.js";

/** The one api-version this client speaks. */
export const API_VERSION = "2026-06-01" as const;

/** The api-version as a literal type. */
export type ApiVersion = typeof API_VERSION;

/** The `api-version` query parameter every operation carries (the client adds it). */
export interface ApiVersionQueryParamProperties {
  "api-version": ApiVersion;
}

/** Query parameters shared by every operation. */
export interface ApiVersionQueryParam {
  queryParameters?: ApiVersionQueryParamProperties;
}

/** Parameters of an operation without a body. */
export type NoBodyParameters = ApiVersionQueryParam & RequestParameters;

/** `BackupVaults_Get`. */
export type BackupVaultsGetParameters = NoBodyParameters;
/** `BackupVaults_GetInResourceGroup`. */
export type BackupVaultsGetInResourceGroupParameters = NoBodyParameters;
/** `BackupVaults_GetInSubscription`. */
export type BackupVaultsGetInSubscriptionParameters = NoBodyParameters;

/** `BackupPolicies_List`. */
export type BackupPoliciesListParameters = NoBodyParameters;
/** `BackupPolicies_Get`. */
export type BackupPoliciesGetParameters = NoBodyParameters;
/** Body of `BackupPolicies_CreateOrUpdate`. */
export interface BackupPoliciesCreateOrUpdateBodyParam {
  body: BaseBackupPolicyResource;
}
/** `BackupPolicies_CreateOrUpdate`. */
export type BackupPoliciesCreateOrUpdateParameters = ApiVersionQueryParam &
  BackupPoliciesCreateOrUpdateBodyParam &
  RequestParameters;

/** `BackupInstances_List`. */
export type BackupInstancesListParameters = NoBodyParameters;
/** `BackupInstances_Get`. */
export type BackupInstancesGetParameters = NoBodyParameters;
/** `BackupInstancesExtensionRouting_List`. */
export type BackupInstancesExtensionRoutingListParameters = NoBodyParameters;
/** Body of `BackupInstances_CreateOrUpdate`. */
export interface BackupInstancesCreateOrUpdateBodyParam {
  body: BackupInstanceResource;
}
/** `BackupInstances_CreateOrUpdate`. */
export type BackupInstancesCreateOrUpdateParameters = ApiVersionQueryParam &
  BackupInstancesCreateOrUpdateBodyParam &
  RequestParameters;
/** Body of `BackupInstances_ValidateForBackup`. */
export interface BackupInstancesValidateForBackupBodyParam {
  body: ValidateForBackupRequest;
}
/** `BackupInstances_ValidateForBackup`. */
export type BackupInstancesValidateForBackupParameters = ApiVersionQueryParam &
  BackupInstancesValidateForBackupBodyParam &
  RequestParameters;
/** Body of `BackupInstances_StopProtection` (optional). */
export interface BackupInstancesStopProtectionBodyParam {
  body?: StopProtectionRequest;
}
/** `BackupInstances_StopProtection`. */
export type BackupInstancesStopProtectionParameters = ApiVersionQueryParam &
  BackupInstancesStopProtectionBodyParam &
  RequestParameters;
/** Body of `BackupInstances_AdhocBackup`. */
export interface BackupInstancesAdhocBackupBodyParam {
  body: TriggerBackupRequest;
}
/** `BackupInstances_AdhocBackup`. */
export type BackupInstancesAdhocBackupParameters = ApiVersionQueryParam &
  BackupInstancesAdhocBackupBodyParam &
  RequestParameters;
/** Body of `BackupInstances_TriggerRestore`. */
export interface BackupInstancesTriggerRestoreBodyParam {
  body: AzureBackupRecoveryPointBasedRestoreRequest;
}
/** `BackupInstances_TriggerRestore`. */
export type BackupInstancesTriggerRestoreParameters = ApiVersionQueryParam &
  BackupInstancesTriggerRestoreBodyParam &
  RequestParameters;
/** Body of `BackupInstances_ValidateForRestore`. */
export interface BackupInstancesValidateForRestoreBodyParam {
  body: ValidateRestoreRequestObject;
}
/** `BackupInstances_ValidateForRestore`. */
export type BackupInstancesValidateForRestoreParameters = ApiVersionQueryParam &
  BackupInstancesValidateForRestoreBodyParam &
  RequestParameters;

/** Query parameters of `RecoveryPoints_List`. */
export interface RecoveryPointsListQueryParamProperties extends ApiVersionQueryParamProperties {
  $filter?: string;
  $skipToken?: string;
}
/** `RecoveryPoints_List`. */
export type RecoveryPointsListParameters = {
  queryParameters?: Partial<RecoveryPointsListQueryParamProperties>;
} & RequestParameters;

/** `Jobs_List`. */
export type JobsListParameters = NoBodyParameters;
/** `Jobs_Get`. */
export type JobsGetParameters = NoBodyParameters;
