/**
 * The look-ups the backup-instance, job and restore endpoints share, where their triggers import
 * them: they live in the application layer (`application/backupInstances.ts`, `application/vaults.ts`).
 */
export * from "../application/backupInstances.js";
export { existingVaultId, vaultsToSearch } from "../application/vaults.js";
