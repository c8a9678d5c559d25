/**
 * Response shapes of the Data Protection service (api-version 2026-06-01), as the client reads
 * them. Every enum is open (`modelAsString`), so values are typed `string`; fields the service may
 * omit are optional.
 */
import type { BackupPolicy } from "../../../domain/policy/types.js";

/** `systemData`. */
export interface SystemDataOutput {
  createdBy?: string;
  createdByType?: string;
  createdAt?: string;
  lastModifiedBy?: string;
  lastModifiedByType?: string;
  lastModifiedAt?: string;
}

/** `ProxyResource`. */
export interface ProxyResourceOutput {
  id?: string;
  name?: string;
  type?: string;
  systemData?: SystemDataOutput;
}

/** `ErrorAdditionalInfo`; DPP puts a {@link UserFacingErrorOutput} in `info` with `type: "UserFacingError"`. */
export interface ErrorAdditionalInfoOutput {
  type?: string;
  info?: unknown;
}

/** `InnerError`. */
export interface InnerErrorOutput {
  code?: string;
  additionalInfo?: Record<string, string>;
  embeddedInnerError?: InnerErrorOutput;
}

/** `UserFacingError`. */
export interface UserFacingErrorOutput {
  code?: string;
  message?: string;
  target?: string;
  recommendedAction?: string[];
  isRetryable?: boolean;
  isUserError?: boolean;
  innerError?: InnerErrorOutput;
  properties?: Record<string, string>;
  details?: UserFacingErrorOutput[];
}

/** `Error`, the body of `CloudError` and of a failed `OperationResource`. */
export interface ErrorOutput {
  code?: string;
  message?: string;
  target?: string;
  details?: ErrorOutput[];
  additionalInfo?: ErrorAdditionalInfoOutput[];
}

/** `CloudError`: every non-2xx body. */
export interface CloudErrorOutput {
  error?: ErrorOutput;
}

/** `BackupVaultResource`, the parts pgprotect reads. */
export interface BackupVaultResourceOutput extends ProxyResourceOutput {
  location: string;
  tags?: Record<string, string>;
  eTag?: string;
  identity?: { principalId?: string; tenantId?: string; type?: string };
  properties: {
    provisioningState?: string;
    storageSettings?: { datastoreType?: string; type?: string }[];
  } & Record<string, unknown>;
}

/** A page of `BackupVaultResource`. */
export interface BackupVaultResourceListOutput {
  value?: BackupVaultResourceOutput[];
  nextLink?: string;
}

/** `BaseBackupPolicyResource`: a policy as the service returns it. */
export interface BaseBackupPolicyResourceOutput extends ProxyResourceOutput {
  properties?: BackupPolicy;
}

/** A page of `BaseBackupPolicyResource`. */
export interface BaseBackupPolicyResourceListOutput {
  value?: BaseBackupPolicyResourceOutput[];
  nextLink?: string;
}

/** `Datasource` / `DatasourceSet`. */
export interface DatasourceOutput {
  objectType?: string;
  datasourceType?: string;
  resourceID: string;
  resourceName?: string;
  resourceType?: string;
  resourceLocation?: string;
  resourceUri?: string;
}

/** `AuthCredentials` (`SecretStoreBasedAuthCredentials` is the only subtype). */
export interface AuthCredentialsOutput {
  objectType: string;
  secretStoreResource?: { uri?: string; secretStoreType: string; value?: string };
}

/** `BackupInstance`. */
export interface BackupInstanceOutput {
  objectType: string;
  friendlyName?: string;
  dataSourceInfo: DatasourceOutput;
  dataSourceSetInfo?: DatasourceOutput;
  policyInfo: { policyId: string; policyVersion?: string };
  datasourceAuthCredentials?: AuthCredentialsOutput;
  protectionStatus?: { status?: string; errorDetails?: UserFacingErrorOutput };
  currentProtectionState?: string;
  protectionErrorDetails?: UserFacingErrorOutput;
  provisioningState?: string;
}

/** `BackupInstanceResource`. */
export interface BackupInstanceResourceOutput extends ProxyResourceOutput {
  tags?: Record<string, string>;
  properties?: BackupInstanceOutput;
}

/** A page of `BackupInstanceResource`. */
export interface BackupInstanceResourceListOutput {
  value?: BackupInstanceResourceOutput[];
  nextLink?: string;
}

/** `OperationJobExtendedInfo`: the job an operation started. */
export interface OperationJobExtendedInfoOutput {
  objectType: string;
  /** The job's name (a GUID) or its ARM id. */
  jobId?: string;
}

/** `OperationResource`: the body of an `Azure-AsyncOperation` status URL. */
export interface OperationResourceOutput {
  id?: string;
  name?: string;
  /** `Inprogress`/`InProgress` while running, then `Succeeded`, `Failed` or `Canceled`. */
  status?: string;
  startTime?: string;
  /** `0001-01-01T00:00:00` while running. */
  endTime?: string;
  error?: ErrorOutput;
  properties?: OperationJobExtendedInfoOutput;
}

/** `JobExtendedInfo`, the parts pgprotect reads. */
export interface JobExtendedInfoOutput {
  additionalDetails?: Record<string, string>;
  backupInstanceState?: string;
  dataTransferredInBytes?: number;
  recoveryDestination?: string;
  sourceRecoverPoint?: { recoveryPointID?: string; recoveryPointTime?: string };
  warningDetails?: { resourceIds?: string[]; warning?: UserFacingErrorOutput[] }[];
}

/** `AzureBackupJob`. */
export interface AzureBackupJobOutput {
  activityID: string;
  backupInstanceFriendlyName: string;
  backupInstanceId?: string;
  dataSourceId: string;
  dataSourceLocation: string;
  dataSourceName: string;
  dataSourceSetName?: string;
  dataSourceType: string;
  duration?: string;
  endTime?: string;
  errorDetails?: UserFacingErrorOutput[];
  extendedInfo?: JobExtendedInfoOutput;
  isUserTriggered: boolean;
  operation: string;
  operationCategory: string;
  policyId?: string;
  policyName?: string;
  progressEnabled: boolean;
  sourceResourceGroup: string;
  sourceSubscriptionID: string;
  startTime: string;
  /** Open: `Started`, `InProgress`, `Completed`, `Succeeded`, `Failed`, `Cancelled`, ... */
  status: string;
  subscriptionId: string;
  supportedActions: string[];
  vaultName: string;
}

/** `AzureBackupJobResource`. */
export interface AzureBackupJobResourceOutput extends ProxyResourceOutput {
  properties?: AzureBackupJobOutput;
}

/** A page of `AzureBackupJobResource`. */
export interface AzureBackupJobResourceListOutput {
  value?: AzureBackupJobResourceOutput[];
  nextLink?: string;
}

/** `RecoveryPointDataStoreDetails`. */
export interface RecoveryPointDataStoreDetailsOutput {
  creationTime?: string;
  expiryTime?: string;
  id?: string;
  type?: string;
  state?: string;
  visible?: boolean;
}

/** `AzureBackupDiscreteRecoveryPoint` (the only recovery point subtype PostgreSQL has). */
export interface AzureBackupRecoveryPointOutput {
  objectType: string;
  friendlyName?: string;
  recoveryPointDataStoresDetails?: RecoveryPointDataStoreDetailsOutput[];
  recoveryPointTime?: string;
  policyName?: string;
  policyVersion?: string;
  recoveryPointId?: string;
  recoveryPointType?: string;
  retentionTagName?: string;
  expiryTime?: string;
  recoveryPointState?: string;
}

/** `AzureBackupRecoveryPointResource`. */
export interface AzureBackupRecoveryPointResourceOutput extends ProxyResourceOutput {
  properties?: AzureBackupRecoveryPointOutput;
}

/** A page of `AzureBackupRecoveryPointResource`. */
export interface AzureBackupRecoveryPointResourceListOutput {
  value?: AzureBackupRecoveryPointResourceOutput[];
  nextLink?: string;
}
