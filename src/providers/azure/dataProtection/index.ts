/**
 * The Data Protection (Azure Backup vaults) REST-level client, api-version 2026-06-01.
 */
export * from "./clientDefinitions.js";
export * from "./dataProtectionClient.js";
export * from "./isUnexpected.js";
export * from "./lifecycleOperations.js";
export * from "./models.js";
export * from "./outputModels.js";
export * from "./paginateHelper.js";
export * from "./parameters.js";
export * from "./pollingHelper.js";
export * from "./responses.js";
export * from "./sendOnce.js";
export * from "./vaultSecurityOperations.js";
