/**
 * The protection lifecycle's operations of the Data Protection client: parameters, responses and
 * routes of suspending and resuming backups, resuming protection, validating a change of a backup
 * instance, deleting one, and soft-deleted instances (api-version 2026-06-01).
 */
import type { HttpResponse, StreamableMethod } from "@azure-rest/core-client";
import type { RawHttpHeaders } from "@azure/core-rest-pipeline";
import type { BackupInstance } from "./models.js";
import type { BackupInstanceOutput, ProxyResourceOutput } from "./outputModels.js";
import type { ApiVersionQueryParam, NoBodyParameters } from "./parameters.js";
import type { RequestParameters } from "@azure-rest/core-client";
import type { Accepted202Response, DataProtectionDefaultResponse } from "./responses.js";

/** `SuspendBackupRequest` (needed only when multi-user authorization guards the vault). */
export interface SuspendBackupRequest {
  resourceGuardOperationRequests?: string[];
}

/** `ValidateForModifyBackupRequest`: the instance as it would be after the change. */
export interface ValidateForModifyBackupRequest {
  backupInstance: BackupInstance;
}

/** `BackupInstances_SuspendBackups`. */
export type BackupInstancesSuspendBackupsParameters = ApiVersionQueryParam & {
  body?: SuspendBackupRequest;
} & RequestParameters;

/** `BackupInstances_ValidateForModifyBackup`. */
export type BackupInstancesValidateForModifyBackupParameters = ApiVersionQueryParam & {
  body: ValidateForModifyBackupRequest;
} & RequestParameters;

/** A lifecycle action's synchronous success (no body). */
export interface LifecycleAction200Response extends HttpResponse {
  status: "200";
}

/** `BackupInstances_Delete` 204: nothing was there to delete. */
export interface BackupInstancesDelete204Response extends HttpResponse {
  status: "204";
}

/** `DeletedBackupInstances_Undelete` 202: followed by its `Location` only. */
export interface DeletedBackupInstancesUndelete202Response extends HttpResponse {
  status: "202";
  headers: RawHttpHeaders & { location?: string; "retry-after"?: string };
}

/** `DeletionInfo`. */
export interface DeletionInfoOutput {
  deletionTime?: string;
  billingEndDate?: string;
  scheduledPurgeTime?: string;
  deleteActivityID?: string;
}

/** `DeletedBackupInstanceResource`. */
export interface DeletedBackupInstanceResourceOutput extends ProxyResourceOutput {
  properties?: BackupInstanceOutput & { deletionInfo?: DeletionInfoOutput };
}

/** A page of `DeletedBackupInstanceResource`. */
export interface DeletedBackupInstanceResourceListOutput {
  value?: DeletedBackupInstanceResourceOutput[];
  nextLink?: string;
}

/** `DeletedBackupInstances_List` 200. */
export interface DeletedBackupInstancesList200Response extends HttpResponse {
  status: "200";
  body: DeletedBackupInstanceResourceListOutput;
}

/** `.../backupInstances/{backupInstanceName}/suspendBackups`. */
export interface BackupInstancesSuspendBackups {
  /** Stops the schedule; retention runs on (long-running). */
  post(
    options?: BackupInstancesSuspendBackupsParameters,
  ): StreamableMethod<
    LifecycleAction200Response | Accepted202Response | DataProtectionDefaultResponse
  >;
}

/** `.../backupInstances/{backupInstanceName}/resumeBackups` and `/resumeProtection`. */
export interface BackupInstancesResume {
  /** Resumes a suspended schedule or stopped protection (long-running). */
  post(
    options?: NoBodyParameters,
  ): StreamableMethod<
    LifecycleAction200Response | Accepted202Response | DataProtectionDefaultResponse
  >;
}

/** `.../backupInstances/{backupInstanceName}/validateForModifyBackup`. */
export interface BackupInstancesValidateForModifyBackup {
  /** Validates a changed backup instance (long-running; 202 only). */
  post(
    options: BackupInstancesValidateForModifyBackupParameters,
  ): StreamableMethod<Accepted202Response | DataProtectionDefaultResponse>;
}

/** `.../backupVaults/{vaultName}/deletedBackupInstances`. */
export interface DeletedBackupInstancesList {
  /** The soft-deleted backup instances of a vault. */
  get(
    options?: NoBodyParameters,
  ): StreamableMethod<DeletedBackupInstancesList200Response | DataProtectionDefaultResponse>;
}

/** `.../backupVaults/{vaultName}/deletedBackupInstances/{backupInstanceName}/undelete`. */
export interface DeletedBackupInstancesUndelete {
  /** Brings a soft-deleted instance back (long-running, followed by `Location`). */
  post(
    options?: NoBodyParameters,
  ): StreamableMethod<
    | LifecycleAction200Response
    | DeletedBackupInstancesUndelete202Response
    | DataProtectionDefaultResponse
  >;
}

/** The method `BackupInstances_Delete` adds to a backup instance's route. */
export interface BackupInstancesDeleteMethod {
  /** Deletes a backup instance (long-running; soft delete keeps it for undelete). */
  delete(
    options?: NoBodyParameters,
  ): StreamableMethod<
    | LifecycleAction200Response
    | Accepted202Response
    | BackupInstancesDelete204Response
    | DataProtectionDefaultResponse
  >;
}
