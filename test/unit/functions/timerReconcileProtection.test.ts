import type { DurableOrchestrationStatus } from "durable-functions";
import { describe, expect, it } from "vitest";
import { createVaultDirectory } from "../../../src/composition.js";
import { loadConfig } from "../../../src/config.js";
import { reconcileProtection } from "../../../src/functions/timerReconcileProtection.js";
import { compilePolicySpec } from "../../../src/domain/policy/spec.js";
import {
  formatDatabaseId,
  formatVaultId,
  LOCAL_SCOPE,
} from "../../../src/domain/protection/ids.js";
import type { BackupInstance, BackupJob } from "../../../src/domain/protection/types.js";
import type { PublishedEvent, Provider } from "../../../src/providers/ports.js";

const vaultId = formatVaultId({ ...LOCAL_SCOPE, vaultName: "pgprotect-vault" });
const databaseId = (name: string) =>
  formatDatabaseId({ ...LOCAL_SCOPE, kind: "servers", serverName: "local", databaseName: name });
const weekly = compilePolicySpec({
  datasourceType: "AzureDatabaseForPostgreSQL",
  schedule: { days: ["Sunday"], time: "22:00" },
  retention: { default: "P3M" },
});

function instance(database: string, createdAt: string): BackupInstance {
  return {
    id: `${vaultId}/backupInstances/local-${database}-1`,
    name: `local-${database}-1`,
    friendlyName: `local/${database}`,
    vaultName: "pgprotect-vault",
    protectionStatus: "ProtectionConfigured",
    provisioningState: "Succeeded",
    createdAt,
    policyId: `${vaultId}/backupPolicies/weekly`,
    dataSourceInfo: {
      resourceId: databaseId(database),
      resourceName: database,
      datasourceType: "Microsoft.DBforPostgreSQL/servers/databases",
      resourceType: "Microsoft.DBforPostgreSQL/servers/databases",
      resourceLocation: "local",
    },
  } as BackupInstance;
}

/** sales was backed up nine days ago, hr yesterday; crm is tagged and unprotected, notes untagged. */
function world() {
  const published: PublishedEvent[] = [];
  const started: { name: string; instanceId: string; input: unknown }[] = [];
  const lastBackup: Record<string, string> = {
    "local-sales-1": "2026-03-01T22:10:00Z",
    "local-hr-1": "2026-03-09T22:10:00Z",
  };
  const tags: Record<string, Record<string, string>> = {
    [databaseId("sales")]: { "pgprotect-policy": "weekly" },
    [databaseId("hr")]: {},
    [databaseId("crm")]: { "pgprotect-policy": "weekly" },
    [databaseId("notes")]: {},
  };
  const instances = [
    instance("sales", "2026-01-01T00:00:00Z"),
    instance("hr", "2026-01-01T00:00:00Z"),
  ];
  const provider = {
    backup: {
      listBackupInstances: async () => instances,
      listBackupInstancesForDatasource: async (id: string) =>
        instances.filter((i) => i.dataSourceInfo.resourceId === id),
      getPolicy: async () => ({ name: "weekly", properties: weekly }),
      listJobs: async (_vault: string, filter: { backupInstanceName: string }) =>
        [{ status: "Completed", endTime: lastBackup[filter.backupInstanceName] }] as BackupJob[],
    },
    directory: {
      listServers: async () => [],
      listDatabases: async () => Object.entries(tags).map(([id, t]) => ({ id, tags: t })),
      getTags: async (id: string) => tags[id] ?? {},
    },
  } as unknown as Provider;
  const config = loadConfig({});
  const deps = {
    config,
    provider,
    vaults: createVaultDirectory(config),
    eventSource: "/pgprotect/test",
    events: {
      publish: async (events: readonly PublishedEvent[]) => void published.push(...events),
    },
    close: async () => undefined,
  };
  const client = {
    getStatus: async (): Promise<DurableOrchestrationStatus> => {
      throw new Error("Webhook returned HTTP 404");
    },
    startNew: async (name: string, options?: { instanceId?: string; input?: unknown }) => {
      started.push({ name, instanceId: options?.instanceId ?? "", input: options?.input });
      return options?.instanceId ?? "";
    },
  };
  return { deps, client, published, started };
}

describe("timerReconcileProtection", () => {
  it("protects the tagged database that no backup instance protects, and only that one", async () => {
    const { deps, client, started } = world();

    await reconcileProtection(deps, client, new Date("2026-03-10T23:00:00Z"));

    expect(
      started.map(
        (s) => (s.input as { datasource: { datasourceId: string } }).datasource.datasourceId,
      ),
    ).toEqual([databaseId("crm")]);
  });

  it("asks the provider's cross-vault index once instead of each tagged database's protections", async () => {
    // Arrange: the index shows sales protected and crm's protection stopped.
    const { deps, client, started } = world();
    const askedOneByOne: string[] = [];
    const askedIndex: (readonly string[])[] = [];
    const provider = {
      ...deps.provider,
      backup: {
        ...deps.provider.backup,
        listBackupInstancesForDatasource: async (id: string) => {
          askedOneByOne.push(id);
          return [];
        },
      },
      protectedItems: {
        listProtectedItems: async (subscriptions: readonly string[]) => {
          askedIndex.push(subscriptions);
          return [
            {
              backupInstanceId: `${vaultId}/backupInstances/local-sales-1`,
              // Azure names in another case; the database's own name as it is.
              datasourceId: databaseId("sales").replace(/^.*\/databases\//, (arm) =>
                arm.toUpperCase(),
              ),
              protectionStatus: "ProtectionConfigured",
            },
            {
              backupInstanceId: `${vaultId}/backupInstances/local-crm-0`,
              datasourceId: databaseId("crm"),
              protectionStatus: "ProtectionStopped",
            },
          ];
        },
      },
    } as unknown as Provider;

    // Act
    await reconcileProtection({ ...deps, provider }, client, new Date("2026-03-10T23:00:00Z"));

    // Assert
    expect(askedOneByOne).toEqual([]);
    expect(askedIndex).toEqual([[LOCAL_SCOPE.subscriptionId.toLowerCase()]]);
    expect(
      started.map(
        (s) => (s.input as { datasource: { datasourceId: string } }).datasource.datasourceId,
      ),
    ).toEqual([databaseId("crm")]);
  });

  it("reports a weekly-protected database without a backup for eight days as overdue", async () => {
    // Act
    const { deps, client, published } = world();
    await reconcileProtection(deps, client, new Date("2026-03-10T23:00:00Z"));

    // Assert
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      type: "PgProtect.Backup.Overdue",
      subject: databaseId("sales"),
      data: {
        backupInstanceName: "local/sales",
        expectedEvery: "P1W",
        overdueSince: "2026-03-09T22:10:00.000Z",
        lastSuccessfulBackupTime: "2026-03-01T22:10:00Z",
        datasourceTags: { "pgprotect-policy": "weekly" },
      },
    });
  });

  it("publishes the same missed backup under the same event id on every run", async () => {
    const { deps, client, published } = world();

    await reconcileProtection(deps, client, new Date("2026-03-10T23:00:00Z"));
    await reconcileProtection(deps, client, new Date("2026-03-11T00:00:00Z"));

    expect(published).toHaveLength(2);
    expect(published[1]?.id).toBe(published[0]?.id);
  });
});
