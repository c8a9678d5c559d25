/**
 * The local service's backup instances: the checks before protection, the instances themselves,
 * and the credentials a backup of one uses.
 */
import { AppError, InvalidInputError } from "../../../domain/errors.js";
import type { PostgresConnectionParams } from "../../../domain/protection/connectionString.js";
import {
  formatVaultChildId,
  formatVaultId,
  parseVaultChildId,
  sameResourceId,
} from "../../../domain/protection/ids.js";
import { DATABASE_DATASOURCE_TYPE, datasourceTargetOf } from "../../../domain/protection/naming.js";
import type { BackupInstance, BackupInstanceSpec } from "../../../domain/protection/types.js";
import type { BackupValidation } from "../../ports.js";
import { ProviderErrorCodes } from "../../ports.js";
import { clientConfig, withClient } from "../pgConnection.js";
import { listVaultFolderNames } from "../vaultStore.js";
import type { LocalServiceContext } from "./context.js";
import { getPolicy } from "./policies.js";

/**
 * Checks what protection of a datasource needs: the datasource type, no other protection, a
 * policy of the vault that fits, the datasource itself, readable credentials and a connection.
 */
export async function validateForBackup(
  context: LocalServiceContext,
  vaultId: string,
  spec: BackupInstanceSpec,
): Promise<BackupValidation> {
  const { ref } = await context.vault(vaultId);
  const checks: string[] = [];
  const target = datasourceTargetOf(spec.dataSourceInfo.resourceId);
  if (spec.dataSourceInfo.datasourceType.toLowerCase() !== target.datasourceType.toLowerCase()) {
    throw new InvalidInputError(
      "DATASOURCE_TYPE_MISMATCH",
      `The datasource id is a ${target.datasourceType}, not a ${spec.dataSourceInfo.datasourceType}`,
      [
        {
          path: "$.dataSourceInfo.datasourceType",
          code: "DATASOURCE_TYPE_MISMATCH",
          message: `expected ${target.datasourceType}`,
        },
      ],
    );
  }

  const protectedBy = (
    await listBackupInstancesForDatasource(context, spec.dataSourceInfo.resourceId)
  ).find((bi) => bi.protectionStatus !== "ProtectionStopped");
  if (protectedBy) {
    throw new AppError(
      ProviderErrorCodes.datasourceAlreadyProtected,
      `Datasource is already protected under the Backup vault ${context.vaultId(protectedBy.vaultName)}`,
      {
        httpStatus: 400,
        recommendedAction: `Use the existing backup instance ${protectedBy.name}`,
      },
    );
  }
  checks.push("datasource not yet protected");

  const policyRef = parseVaultChildId(spec.policyId, "backupPolicies");
  if (!sameResourceId(formatVaultId(policyRef), formatVaultId(ref))) {
    throw new InvalidInputError(
      "POLICY_NOT_IN_VAULT",
      "The policy must belong to the vault of the backup instance",
      [
        {
          path: "$.policyInfo.policyId",
          code: "POLICY_NOT_IN_VAULT",
          message: "use a policy of this vault",
        },
      ],
    );
  }
  const policy = await getPolicy(context, vaultId, policyRef.childName);
  if (
    !policy.properties.datasourceTypes.some(
      (t) => t.toLowerCase() === target.datasourceType.toLowerCase(),
    )
  ) {
    throw new InvalidInputError(
      "POLICY_DATASOURCE_TYPE_MISMATCH",
      `Policy '${policyRef.childName}' does not protect ${target.datasourceType}`,
      [
        {
          path: "$.policyInfo.policyId",
          code: "POLICY_DATASOURCE_TYPE_MISMATCH",
          message: `the policy's datasourceTypes lack ${target.datasourceType}`,
        },
      ],
    );
  }
  checks.push("policy fits the datasource");

  if (target.datasourceType === DATABASE_DATASOURCE_TYPE) {
    await context.options.directory.resolveDatabase(
      target.database.serverName,
      target.database.databaseName,
    );
    checks.push("database exists");
  } else {
    await context.options.directory.resolveServer(target.server.serverName);
    checks.push("server exists");
  }
  const { params, databases } = await credentialsFor(context, spec);
  checks.push("credentials readable");
  await withClient(
    clientConfig(params, databases[0]),
    `Connecting to ${spec.friendlyName}`,
    async (client) => {
      await client.query("SELECT 1");
    },
  );
  checks.push("datasource reachable with the credentials");
  return { checks };
}

/**
 * Creates a backup instance after {@link validateForBackup}; a repeated PUT of the same
 * datasource answers the instance.
 */
export async function createBackupInstance(
  context: LocalServiceContext,
  vaultId: string,
  instanceName: string,
  spec: BackupInstanceSpec,
): Promise<BackupInstance> {
  const { vault, ref } = await context.vault(vaultId);
  const existing = await vault.readRecord<BackupInstance>("backupInstances", instanceName);
  if (existing) {
    // A repeated PUT of the same datasource answers the instance; another datasource under the name is a conflict.
    if (sameResourceId(existing.dataSourceInfo.resourceId, spec.dataSourceInfo.resourceId))
      return existing;
    throw new AppError(
      "BACKUP_INSTANCE_NAME_IN_USE",
      `Backup instance '${instanceName}' protects another datasource`,
      { httpStatus: 409 },
    );
  }
  await validateForBackup(context, vaultId, spec);
  const instance: BackupInstance = {
    ...spec,
    id: formatVaultChildId({ ...ref, childType: "backupInstances", childName: instanceName }),
    name: instanceName,
    vaultName: ref.vaultName,
    protectionStatus: "ProtectionConfigured",
    provisioningState: "Succeeded",
    createdAt: context.now().toISOString(),
  };
  await vault.writeRecord("backupInstances", instanceName, instance);
  return instance;
}

/** A backup instance by name. @throws NotFoundError `ResourceNotFound`. */
export async function getBackupInstance(
  context: LocalServiceContext,
  vaultId: string,
  instanceName: string,
): Promise<BackupInstance> {
  const { vault } = await context.vault(vaultId);
  const instance = await vault.readRecord<BackupInstance>("backupInstances", instanceName);
  if (!instance)
    throw context.notFound(`Backup instance '${instanceName}' was not found in the vault`);
  return instance;
}

/** The backup instances of a vault. */
export async function listBackupInstances(
  context: LocalServiceContext,
  vaultId: string,
): Promise<BackupInstance[]> {
  const { vault } = await context.vault(vaultId);
  return vault.listRecords<BackupInstance>("backupInstances");
}

/** The backup instances of every vault that protect a datasource. */
export async function listBackupInstancesForDatasource(
  context: LocalServiceContext,
  datasourceId: string,
): Promise<BackupInstance[]> {
  const found: BackupInstance[] = [];
  for (const vaultName of await listVaultNames(context)) {
    for (const instance of await context
      .vaultFolder(vaultName)
      .listRecords<BackupInstance>("backupInstances")) {
      if (sameResourceId(instance.dataSourceInfo.resourceId, datasourceId)) found.push(instance);
    }
  }
  return found;
}

/** Stops protection of an instance; its recovery points stay. */
export async function stopProtection(
  context: LocalServiceContext,
  vaultId: string,
  instanceName: string,
): Promise<BackupInstance> {
  const { vault } = await context.vault(vaultId);
  const instance = await getBackupInstance(context, vaultId, instanceName);
  const stopped: BackupInstance = { ...instance, protectionStatus: "ProtectionStopped" };
  await vault.writeRecord("backupInstances", instanceName, stopped);
  return stopped;
}

/** Names of the vaults that exist under the state folder. */
export async function listVaultNames(context: LocalServiceContext): Promise<string[]> {
  return listVaultFolderNames(context.options.stateDir);
}

/**
 * The connection and database list of an instance: a database instance reads its secret; a
 * Flexible Server instance uses the server's configured connection (the vault's identity in
 * Azure) and covers every database.
 */
export async function credentialsFor(
  context: LocalServiceContext,
  spec: BackupInstanceSpec,
): Promise<{ params: PostgresConnectionParams; databases: string[] }> {
  const target = datasourceTargetOf(spec.dataSourceInfo.resourceId);
  if (target.datasourceType === DATABASE_DATASOURCE_TYPE) {
    if (!spec.secretStore) {
      throw new AppError(
        ProviderErrorCodes.missingRequiredPermissions,
        "A database backup instance needs datasourceAuthCredentials (a secret with a connection string)",
        {
          httpStatus: 400,
          recommendedAction:
            "Store a connection string with 'pgprotect local secret set NAME' and pass its URI",
        },
      );
    }
    const params = await context.options.secrets.getConnectionParams(spec.secretStore.uri);
    return { params, databases: [target.database.databaseName] };
  }
  const params = context.options.directory.serverConnection(target.server.serverName);
  const databases = (
    await context.options.directory.listDatabases(spec.dataSourceInfo.resourceId)
  ).map((d) => d.name);
  return { params, databases };
}
