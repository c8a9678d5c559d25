import { describe, expect, it } from "vitest";
import { reconcile } from "../../../src/application/reconcile.js";
import { createVaultDirectory } from "../../../src/composition.js";
import { loadConfig } from "../../../src/config.js";
import { compilePolicySpec } from "../../../src/domain/policy/spec.js";
import {
  formatDatabaseId,
  formatVaultId,
  LOCAL_SCOPE,
} from "../../../src/domain/protection/ids.js";
import { protectionInstanceId } from "../../../src/domain/protection/operationIds.js";
import type { BackupInstance } from "../../../src/domain/protection/types.js";
import type { Provider, PublishedEvent } from "../../../src/providers/ports.js";
import { InMemoryOrchestrations } from "../../support/inMemoryOrchestrations.js";

const archive = formatVaultId({ ...LOCAL_SCOPE, vaultName: "archive" });
const salesId = formatDatabaseId({
  ...LOCAL_SCOPE,
  kind: "servers",
  serverName: "local",
  databaseName: "sales",
});
const weekly = compilePolicySpec({
  datasourceType: "AzureDatabaseForPostgreSQL",
  schedule: { days: ["Sunday"], time: "22:00" },
  retention: { default: "P3M" },
});

/** A local provider whose only protected database is in the vault `archive`, never backed up. */
function world(options: { readonly createdAt?: string } = {}) {
  const published: PublishedEvent[] = [];
  const sales = {
    id: `${archive}/backupInstances/local-sales-1`,
    name: "local-sales-1",
    protectionStatus: "ProtectionConfigured",
    createdAt: options.createdAt ?? "2026-01-01T00:00:00Z",
    policyId: `${archive}/backupPolicies/weekly`,
    dataSourceInfo: {
      resourceId: salesId,
      datasourceType: "Microsoft.DBforPostgreSQL/servers/databases",
    },
  } as BackupInstance;
  const provider = {
    backup: {
      listVaultNames: async () => ["pgprotect-vault", "archive"],
      listBackupInstances: async (vaultId: string) => (vaultId === archive ? [sales] : []),
      getPolicy: async () => ({ name: "weekly", properties: weekly }),
      listJobs: async () => [],
    },
    directory: {
      listServers: async () => [],
      listDatabases: async () => [],
      getTags: async () => ({}),
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
  };
  return { deps, published, sales };
}

describe("reconcile", () => {
  it("reports overdue backups in every vault the app covers, the local provider's own vaults included", async () => {
    // Arrange
    const { deps, published } = world();

    // Act
    const report = await reconcile(
      deps,
      new InMemoryOrchestrations(),
      new Date("2026-03-10T12:00:00Z"),
    );

    // Assert
    expect(report.overdue.map((event) => event.subject)).toEqual([salesId]);
    expect(published).toHaveLength(1);
  });

  it("reports a database never backed up as overdue from when the app protected it when the service gives no creation time", async () => {
    // Arrange: the service omitted systemData, so the instance carries the time it was read.
    const readAt = "2026-03-10T12:00:00.000Z";
    const { deps, published } = world({ createdAt: readAt });
    const orchestrations = new InMemoryOrchestrations({
      [protectionInstanceId(salesId)]: {
        name: "protectDatasource",
        runtimeStatus: "Completed",
        input: { datasource: { datasourceId: salesId } },
        lastUpdatedTime: "2026-03-01T09:30:00.000Z",
      },
    });

    // Act: two passes, the second reading the instance a day later.
    const first = await reconcile(deps, orchestrations, new Date(readAt));
    const second = await reconcile(deps, orchestrations, new Date("2026-03-11T12:00:00Z"));

    // Assert
    expect(first.overdue.map((event) => event.data)).toEqual([
      expect.objectContaining({ overdueSince: "2026-03-09T09:30:00.000Z" }),
    ]);
    expect(second.overdue.map((event) => event.id)).toEqual(first.overdue.map((event) => event.id));
    expect(published).toHaveLength(2);
  });
});
