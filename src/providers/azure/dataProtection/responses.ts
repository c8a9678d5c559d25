/**
 * Responses of each operation, one type per documented status, plus the `Default` (error)
 * response and, for long-running operations, the `LogicalResponse` the poller ends with.
 */
import type { HttpResponse } from "@azure-rest/core-client";
import type { RawHttpHeaders } from "@azure/core-rest-pipeline";
import type {
  AzureBackupJobResourceListOutput,
  AzureBackupJobResourceOutput,
  AzureBackupRecoveryPointResourceListOutput,
  BackupInstanceResourceListOutput,
  BackupInstanceResourceOutput,
  BackupVaultResourceListOutput,
  BackupVaultResourceOutput,
  BaseBackupPolicyResourceListOutput,
  BaseBackupPolicyResourceOutput,
  CloudErrorOutput,
  OperationJobExtendedInfoOutput,
} from "./outputModels.js";

/** Headers of a `202 Accepted` answer to a long-running operation. */
export interface AcceptedHeaders {
  /** The status monitor (`.../operationStatus/{id}`). */
  "azure-asyncoperation"?: string;
  /** The result URL (`.../operationResults/{id}`). */
  location?: string;
  /** Seconds to wait before polling. */
  "retry-after"?: string;
}

/** Any error answer: a `CloudError` body. */
export interface DataProtectionDefaultResponse extends HttpResponse {
  status: string;
  body: CloudErrorOutput;
}

/** `BackupVaults_Get` 200. */
export interface BackupVaultsGet200Response extends HttpResponse {
  status: "200";
  body: BackupVaultResourceOutput;
}
/** `BackupVaults_Get` error. */
export type BackupVaultsGetDefaultResponse = DataProtectionDefaultResponse;

/** `BackupVaults_GetInResourceGroup` / `_GetInSubscription` 200. */
export interface BackupVaultsList200Response extends HttpResponse {
  status: "200";
  body: BackupVaultResourceListOutput;
}
/** `BackupVaults_GetInResourceGroup` / `_GetInSubscription` error. */
export type BackupVaultsListDefaultResponse = DataProtectionDefaultResponse;

/** `BackupPolicies_List` 200. */
export interface BackupPoliciesList200Response extends HttpResponse {
  status: "200";
  body: BaseBackupPolicyResourceListOutput;
}
/** `BackupPolicies_List` error. */
export type BackupPoliciesListDefaultResponse = DataProtectionDefaultResponse;

/** `BackupPolicies_Get` 200. */
export interface BackupPoliciesGet200Response extends HttpResponse {
  status: "200";
  body: BaseBackupPolicyResourceOutput;
}
/** `BackupPolicies_Get` error. */
export type BackupPoliciesGetDefaultResponse = DataProtectionDefaultResponse;

/** `BackupPolicies_CreateOrUpdate` 200: the policy PUT is synchronous. */
export interface BackupPoliciesCreateOrUpdate200Response extends HttpResponse {
  status: "200";
  body: BaseBackupPolicyResourceOutput;
}
/** `BackupPolicies_CreateOrUpdate` error. */
export type BackupPoliciesCreateOrUpdateDefaultResponse = DataProtectionDefaultResponse;

/** `BackupInstances_List` and `BackupInstancesExtensionRouting_List` 200. */
export interface BackupInstancesList200Response extends HttpResponse {
  status: "200";
  body: BackupInstanceResourceListOutput;
}
/** `BackupInstances_List` error. */
export type BackupInstancesListDefaultResponse = DataProtectionDefaultResponse;

/** `BackupInstances_Get` 200. */
export interface BackupInstancesGet200Response extends HttpResponse {
  status: "200";
  body: BackupInstanceResourceOutput;
}
/** `BackupInstances_Get` error. */
export type BackupInstancesGetDefaultResponse = DataProtectionDefaultResponse;

/** `BackupInstances_CreateOrUpdate` 200 (an update, done). */
export interface BackupInstancesCreateOrUpdate200Response extends HttpResponse {
  status: "200";
  body: BackupInstanceResourceOutput;
}
/** `BackupInstances_CreateOrUpdate` 201: created, with a body and status URLs. */
export interface BackupInstancesCreateOrUpdate201Response extends HttpResponse {
  status: "201";
  body: BackupInstanceResourceOutput;
  headers: RawHttpHeaders & AcceptedHeaders;
}
/** `BackupInstances_CreateOrUpdate` 202: accepted, follow the status URLs. */
export interface BackupInstancesCreateOrUpdate202Response extends HttpResponse {
  status: "202";
  headers: RawHttpHeaders & AcceptedHeaders;
}
/** `BackupInstances_CreateOrUpdate` error. */
export type BackupInstancesCreateOrUpdateDefaultResponse = DataProtectionDefaultResponse;
/** `BackupInstances_CreateOrUpdate` once polling ends: the instance. */
export interface BackupInstancesCreateOrUpdateLogicalResponse extends HttpResponse {
  status: "200";
  body: BackupInstanceResourceOutput;
}

/** 200 of an action that starts a job (validate, backup, restore). */
export interface OperationJob200Response extends HttpResponse {
  status: "200";
  body: OperationJobExtendedInfoOutput;
}
/** 202 of a long-running action. */
export interface Accepted202Response extends HttpResponse {
  status: "202";
  headers: RawHttpHeaders & AcceptedHeaders;
}
/** An action's final answer once polling ends. */
export interface OperationJobLogicalResponse extends HttpResponse {
  status: "200";
  body: OperationJobExtendedInfoOutput;
}

/** `BackupInstances_ValidateForBackup` 200. */
export type BackupInstancesValidateForBackup200Response = OperationJob200Response;
/** `BackupInstances_ValidateForBackup` 202. */
export type BackupInstancesValidateForBackup202Response = Accepted202Response;
/** `BackupInstances_ValidateForBackup` error. */
export type BackupInstancesValidateForBackupDefaultResponse = DataProtectionDefaultResponse;

/** `BackupInstances_AdhocBackup` 200. */
export type BackupInstancesAdhocBackup200Response = OperationJob200Response;
/** `BackupInstances_AdhocBackup` 202. */
export type BackupInstancesAdhocBackup202Response = Accepted202Response;
/** `BackupInstances_AdhocBackup` error. */
export type BackupInstancesAdhocBackupDefaultResponse = DataProtectionDefaultResponse;

/** `BackupInstances_TriggerRestore` 200. */
export type BackupInstancesTriggerRestore200Response = OperationJob200Response;
/** `BackupInstances_TriggerRestore` 202. */
export type BackupInstancesTriggerRestore202Response = Accepted202Response;
/** `BackupInstances_TriggerRestore` error. */
export type BackupInstancesTriggerRestoreDefaultResponse = DataProtectionDefaultResponse;

/** `BackupInstances_ValidateForRestore` 200. */
export type BackupInstancesValidateForRestore200Response = OperationJob200Response;
/** `BackupInstances_ValidateForRestore` 202. */
export type BackupInstancesValidateForRestore202Response = Accepted202Response;
/** `BackupInstances_ValidateForRestore` error. */
export type BackupInstancesValidateForRestoreDefaultResponse = DataProtectionDefaultResponse;

/** `BackupInstances_StopProtection` 200 (no body). */
export interface BackupInstancesStopProtection200Response extends HttpResponse {
  status: "200";
}
/** `BackupInstances_StopProtection` 202. */
export type BackupInstancesStopProtection202Response = Accepted202Response;
/** `BackupInstances_StopProtection` error. */
export type BackupInstancesStopProtectionDefaultResponse = DataProtectionDefaultResponse;

/** `RecoveryPoints_List` 200. */
export interface RecoveryPointsList200Response extends HttpResponse {
  status: "200";
  body: AzureBackupRecoveryPointResourceListOutput;
}
/** `RecoveryPoints_List` error. */
export type RecoveryPointsListDefaultResponse = DataProtectionDefaultResponse;

/** `Jobs_List` 200. */
export interface JobsList200Response extends HttpResponse {
  status: "200";
  body: AzureBackupJobResourceListOutput;
}
/** `Jobs_List` error. */
export type JobsListDefaultResponse = DataProtectionDefaultResponse;

/** `Jobs_Get` 200. */
export interface JobsGet200Response extends HttpResponse {
  status: "200";
  body: AzureBackupJobResourceOutput;
}
/** `Jobs_Get` error. */
export type JobsGetDefaultResponse = DataProtectionDefaultResponse;
