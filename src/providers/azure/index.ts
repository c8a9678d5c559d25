/**
 * The Azure provider: Azure Backup (Data Protection Backup vaults) behind the backup ports, with
 * Resource Manager errors classified once and requests kept inside Resource Manager's limits.
 */
export {
  ArmError,
  armErrorFromOperation,
  armErrorFromResponse,
  armErrorFromThrown,
  defaultRecommendedActions,
  parseRetryAfterMs,
} from "./armErrors.js";
export {
  AzureBackupService,
  createAzureBackupService,
  dataProtectionClientOptionsFrom,
  type AzureBackupServiceOptions,
  type BackupVaultSummary,
} from "./azureBackupService.js";
export {
  backupInstanceSpecFor,
  newBackupInstanceName,
  toArmBackupInstance,
  toArmBackupInstanceResource,
  type BackupInstanceInput,
} from "./backupInstanceBuilder.js";
export {
  ArmRequestThrottle,
  TokenBucket,
  armRequestLimits,
  armThrottlingPolicy,
  type ArmThrottlingPolicyOptions,
} from "./throttling.js";
export { createDataProtectionClient, type DataProtectionClient } from "./dataProtection/index.js";
export {
  createAzureServices,
  type AzureServices,
  type AzureServicesOptions,
  type AzureSettings,
} from "./azureServices.js";
export {
  AzureResourceDirectory,
  postgresApiVersions,
  type AzureResourceDirectoryOptions,
} from "./azureResourceDirectory.js";
export {
  KeyVaultSecretStore,
  keyVaultHostSuffixes,
  type ConnectionSecretSummary,
  type KeyVaultSecretStoreOptions,
} from "./keyVaultSecrets.js";
export {
  ResourceGraphClient,
  createResourceGraphClient,
  resourceGraphQuotaPolicy,
  type ResourceGraphClientOptions,
} from "./resourceGraph.js";
export {
  ResourceGraphJobSource,
  backupJobsQuery,
  createResourceGraphJobSource,
  type CrossVaultJobFilter,
} from "./resourceGraphJobs.js";
export {
  PROTECTED_ITEMS_QUERY,
  ResourceGraphProtectedItems,
} from "./resourceGraphProtectedItems.js";
export {
  VaultAccessChecker,
  backupRoles,
  createVaultAccessChecker,
  requiredVaultRoles,
  type RoleRequirement,
  type VaultAccessCheckerOptions,
} from "./vaultAccess.js";
