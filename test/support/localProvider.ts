/**
 * Helpers for tests of the local provider: a provider over a test file's private cluster, the
 * service's default PostgreSQL policy, and protecting a database in one call.
 */
import { randomUUID } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
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
  FLEXIBLE_SERVER_DATASOURCE_TYPE,
  friendlyNameFor,
} from "../../src/domain/protection/naming.js";
import type {
  BackupInstance,
  BackupInstanceSpec,
  BackupJob,
} from "../../src/domain/protection/types.js";
import { onTestFinished } from "vitest";
import {
  createLocalProvider,
  startLocalProvider,
  type LocalProvider,
  type LocalProviderOptions,
  type StartedLocalProvider,
} from "../../src/providers/local/index.js";
import type { PostgresCluster } from "../../src/providers/local/postgresCluster.js";

/** `az dataprotection backup-policy get-default-policy-template` for a datasource type, with a Monthly tag. */
export function defaultPostgresPolicy(
  datasourceType: string = DATABASE_DATASOURCE_TYPE,
): BackupPolicy {
  return {
    objectType: "BackupPolicy",
    datasourceTypes: [datasourceType],
    policyRules: [
      {
        name: "BackupWeekly",
        objectType: "AzureBackupRule",
        backupParameters: { backupType: "Full", objectType: "AzureBackupParams" },
        dataStore: { dataStoreType: "VaultStore", objectType: "DataStoreInfoBase" },
        trigger: {
          objectType: "ScheduleBasedTriggerContext",
          schedule: {
            timeZone: "UTC",
            repeatingTimeIntervals: ["R/2021-08-15T06:30:00+00:00/P1W"],
          },
          taggingCriteria: [
            { isDefault: true, taggingPriority: 99, tagInfo: { tagName: "Default" } },
            {
              isDefault: false,
              taggingPriority: 15,
              tagInfo: { tagName: "Monthly" },
              criteria: [
                { objectType: "ScheduleBasedBackupCriteria", absoluteCriteria: ["FirstOfMonth"] },
              ],
            },
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
      {
        name: "Monthly",
        objectType: "AzureRetentionRule",
        isDefault: false,
        lifecycles: [
          {
            deleteAfter: { objectType: "AbsoluteDeleteOption", duration: "P6M" },
            sourceDataStore: { dataStoreType: "VaultStore", objectType: "DataStoreInfoBase" },
            targetDataStoreCopySettings: [],
          },
        ],
      },
    ],
  };
}

/** A provider over a fresh state folder, serving one cluster as server `local` (and `flex`, whole-server). */
export async function createTestProvider(
  cluster: PostgresCluster,
  extra: Partial<LocalProviderOptions> = {},
): Promise<{
  provider: LocalProvider;
  stateDir: string;
  vaultId: string;
  dispose(): Promise<void>;
}> {
  const stateDir = await mkdtemp(path.join(tmpdir(), "pgprotect-state-"));
  const provider = await createLocalProvider({
    stateDir,
    binDir: cluster.binDir,
    servers: [
      { name: "local", connectionString: cluster.connectionUrl() },
      { name: "flex", connectionString: cluster.connectionUrl(), kind: "flexibleServers" },
    ],
    ...extra,
  });
  return {
    provider,
    stateDir,
    vaultId: provider.backup.vaultId("vault1"),
    async dispose() {
      await provider.backup.drain();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/**
 * The local provider as the app starts it with neither `DATABASE_URL` nor `LOCAL_POSTGRES_SERVERS`:
 * over its own private cluster, in a fresh state folder. Closed and removed when the calling test
 * ends.
 */
export async function startPrivateClusterProvider(): Promise<StartedLocalProvider> {
  const stateDir = await mkdtemp(path.join(tmpdir(), "pgs-"));
  // Open to the server's user, who runs the private PostgreSQL when the tests run as root.
  await chmod(stateDir, 0o755);
  const removeState = () => rm(stateDir, { recursive: true, force: true });
  const started = await startLocalProvider({
    PGPROTECT_STATE_DIR: stateDir,
    DATABASE_URL: undefined,
    LOCAL_POSTGRES_SERVERS: undefined,
  }).catch(async (error: unknown) => {
    await removeState();
    throw error;
  });
  onTestFinished(async () => {
    await started.close();
    await removeState();
  });
  return started;
}

/** Builds the spec `az dataprotection backup-instance initialize` would for a local datasource. */
export function instanceSpec(
  datasourceId: string,
  policyId: string,
  secretUri?: string,
): BackupInstanceSpec {
  const target = datasourceTargetOf(datasourceId);
  const serverId =
    target.datasourceType === DATABASE_DATASOURCE_TYPE
      ? formatServerId(target.database)
      : formatServerId(target.server);
  const info = (id: string, name: string, resourceType: string) => ({
    resourceId: id,
    datasourceType: target.datasourceType,
    resourceName: name,
    resourceType,
    resourceLocation: LOCAL_LOCATION,
  });
  return target.datasourceType === DATABASE_DATASOURCE_TYPE
    ? {
        friendlyName: friendlyNameFor(target),
        dataSourceInfo: info(datasourceId, target.database.databaseName, DATABASE_DATASOURCE_TYPE),
        dataSourceSetInfo: info(
          serverId,
          target.database.serverName,
          "Microsoft.DBforPostgreSQL/servers",
        ),
        policyId,
        ...(secretUri
          ? { secretStore: { secretStoreType: "AzureKeyVault" as const, uri: secretUri } }
          : {}),
      }
    : {
        friendlyName: friendlyNameFor(target),
        dataSourceInfo: info(
          datasourceId,
          target.server.serverName,
          FLEXIBLE_SERVER_DATASOURCE_TYPE,
        ),
        policyId,
      };
}

/** Stores the policy, a secret for the cluster's superuser and protects one database of server `local`. */
export async function protectDatabase(
  provider: LocalProvider,
  vaultId: string,
  cluster: PostgresCluster,
  database: string,
): Promise<{ instance: BackupInstance; secretUri: string; policyId: string }> {
  const policy = await provider.backup.createPolicy(vaultId, "OssPolicy1", defaultPostgresPolicy());
  const policyId =
    policy.id ??
    formatVaultChildId({
      ...parseVaultId(vaultId),
      childType: "backupPolicies",
      childName: "OssPolicy1",
    });
  const secretUri = await provider.secrets.setSecret(
    `db-${database.replace(/[^A-Za-z0-9-]/g, "-")}`,
    cluster.connectionUrl(database),
  );
  const datasourceId = formatDatabaseId({
    ...LOCAL_SCOPE,
    kind: "servers",
    serverName: "local",
    databaseName: database,
  });
  const name = backupInstanceNameFor(datasourceTargetOf(datasourceId), randomUUID());
  const instance = await provider.backup.createBackupInstance(
    vaultId,
    name,
    instanceSpec(datasourceId, policyId, secretUri),
  );
  return { instance, secretUri, policyId };
}

/** Runs an ad-hoc backup and waits for its job to end. */
export async function backupNow(
  provider: LocalProvider,
  vaultId: string,
  instanceName: string,
  retentionTagOverride?: string,
): Promise<BackupJob> {
  const { jobId } = await provider.backup.triggerBackup(vaultId, instanceName, {
    ruleName: "BackupWeekly",
    ...(retentionTagOverride ? { retentionTagOverride } : {}),
  });
  return provider.backup.waitForJob(vaultId, jobId);
}
