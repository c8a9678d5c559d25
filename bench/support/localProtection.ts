/**
 * Protects one database of a local provider the way the service's defaults would: a weekly
 * policy with Default retention, the database's credentials as a secret, and a backup instance.
 */
import { randomUUID } from "node:crypto";
import type { BackupPolicy } from "../../src/domain/policy/types.js";
import {
  formatDatabaseId,
  formatServerId,
  formatVaultChildId,
  LOCAL_LOCATION,
  LOCAL_SCOPE,
  parseVaultId,
} from "../../src/domain/protection/ids.js";
import {
  backupInstanceNameFor,
  DATABASE_DATASOURCE_TYPE,
  datasourceTargetOf,
  friendlyNameFor,
} from "../../src/domain/protection/naming.js";
import type { BackupInstance } from "../../src/domain/protection/types.js";
import type { LocalProvider } from "../../src/providers/local/index.js";

const policyName = "BenchPolicy";

/** Weekly backups into the VaultStore, kept three months. */
const weeklyPolicy: BackupPolicy = {
  objectType: "BackupPolicy",
  datasourceTypes: [DATABASE_DATASOURCE_TYPE],
  policyRules: [
    {
      name: "BackupWeekly",
      objectType: "AzureBackupRule",
      backupParameters: { backupType: "Full", objectType: "AzureBackupParams" },
      dataStore: { dataStoreType: "VaultStore", objectType: "DataStoreInfoBase" },
      trigger: {
        objectType: "ScheduleBasedTriggerContext",
        schedule: { timeZone: "UTC", repeatingTimeIntervals: ["R/2021-08-15T06:30:00+00:00/P1W"] },
        taggingCriteria: [
          { isDefault: true, taggingPriority: 99, tagInfo: { tagName: "Default" } },
        ],
      },
    },
    {
      name: "Default",
      objectType: "AzureRetentionRule",
      isDefault: true,
      lifecycles: [
        {
          deleteAfter: { objectType: "AbsoluteDeleteOption", duration: "P3M" },
          sourceDataStore: { dataStoreType: "VaultStore", objectType: "DataStoreInfoBase" },
          targetDataStoreCopySettings: [],
        },
      ],
    },
  ],
};

/**
 * Protects `database` of the provider's server `serverName`, whose connection string (with the
 * password) becomes the instance's secret.
 */
export async function protectLocalDatabase(
  provider: LocalProvider,
  vaultId: string,
  serverName: string,
  database: string,
  connectionString: string,
): Promise<BackupInstance> {
  const existing = await provider.backup.listPolicies(vaultId);
  const policy = existing.find((p) => p.name === policyName)
    ? await provider.backup.getPolicy(vaultId, policyName)
    : await provider.backup.createPolicy(vaultId, policyName, weeklyPolicy);
  const policyId =
    policy.id ??
    formatVaultChildId({
      ...parseVaultId(vaultId),
      childType: "backupPolicies",
      childName: policyName,
    });
  const secretUri = await provider.secrets.setSecret(
    `db-${database.replace(/[^A-Za-z0-9-]/g, "-")}`,
    connectionString,
  );
  const datasourceId = formatDatabaseId({
    ...LOCAL_SCOPE,
    kind: "servers",
    serverName,
    databaseName: database,
  });
  const target = datasourceTargetOf(datasourceId);
  if (target.datasourceType !== DATABASE_DATASOURCE_TYPE) {
    throw new Error(`${datasourceId} is not a database`);
  }
  const info = (resourceId: string, resourceName: string, resourceType: string) => ({
    resourceId,
    datasourceType: target.datasourceType,
    resourceName,
    resourceType,
    resourceLocation: LOCAL_LOCATION,
  });
  return provider.backup.createBackupInstance(
    vaultId,
    backupInstanceNameFor(target, randomUUID()),
    {
      friendlyName: friendlyNameFor(target),
      dataSourceInfo: info(datasourceId, database, DATABASE_DATASOURCE_TYPE),
      dataSourceSetInfo: info(
        formatServerId(target.database),
        serverName,
        "Microsoft.DBforPostgreSQL/servers",
      ),
      policyId,
      secretStore: { secretStoreType: "AzureKeyVault", uri: secretUri },
    },
  );
}
