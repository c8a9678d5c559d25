import { describe, expect, it } from "vitest";
import { describeBackupInstance } from "../../../src/application/backupInstances.js";
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
import type { Provider } from "../../../src/providers/ports.js";
import { InMemoryOrchestrations } from "../../support/inMemoryOrchestrations.js";

const vaultId = formatVaultId({ ...LOCAL_SCOPE, vaultName: "pgprotect-vault" });
const ledgerId = formatDatabaseId({
  ...LOCAL_SCOPE,
  kind: "servers",
  serverName: "local",
  databaseName: "ledger",
});
const weekly = compilePolicySpec({
  datasourceType: "AzureDatabaseForPostgreSQL",
  schedule: { days: ["Sunday"], time: "22:00" },
  retention: { default: "P3M" },
});

/**
 * A vault whose only instance, never backed up, was read at `readAt` from a service that gave no
 * creation time (so the read time stands in for it).
 */
function world(readAt: string) {
  const ledger = {
    id: `${vaultId}/backupInstances/local-ledger-1`,
    name: "local-ledger-1",
    vaultName: "pgprotect-vault",
    friendlyName: "local/ledger",
    protectionStatus: "ProtectionConfigured",
    provisioningState: "Succeeded",
    createdAt: readAt,
    policyId: `${vaultId}/backupPolicies/weekly`,
    dataSourceInfo: {
      resourceId: ledgerId,
      datasourceType: "Microsoft.DBforPostgreSQL/servers/databases",
    },
  } as BackupInstance;
  const provider = {
    backup: {
      getPolicy: async () => ({ name: "weekly", properties: weekly }),
      listJobs: async () => [],
      listRecoveryPoints: async () => [],
    },
  } as unknown as Provider;
  const config = loadConfig({});
  return { deps: { provider, vaults: createVaultDirectory(config) }, ledger };
}

describe("describeBackupInstance", () => {
  it("shows a database never backed up as overdue from when the app protected it when the service gives no creation time", async () => {
    // Arrange
    const readAt = "2026-03-10T12:00:00.000Z";
    const { deps, ledger } = world(readAt);
    const orchestrations = new InMemoryOrchestrations({
      [protectionInstanceId(ledgerId)]: {
        name: "protectDatasource",
        runtimeStatus: "Completed",
        input: { datasource: { datasourceId: ledgerId } },
        lastUpdatedTime: "2026-03-01T09:30:00.000Z",
      },
    });

    // Act
    const view = await describeBackupInstance(
      { ...deps, orchestrations },
      { vaultId, instance: ledger },
      new Date(readAt),
    );

    // Assert
    expect(view.overdueSince).toBe("2026-03-09T09:30:00.000Z");
  });

  it("does not date protection by an operation that protected another database under the same id", async () => {
    // Arrange
    const readAt = "2026-03-10T12:00:00.000Z";
    const { deps, ledger } = world(readAt);
    const orchestrations = new InMemoryOrchestrations({
      [protectionInstanceId(ledgerId)]: {
        name: "protectDatasource",
        runtimeStatus: "Completed",
        input: { datasource: { datasourceId: `${ledgerId}-archive` } },
        lastUpdatedTime: "2026-03-01T09:30:00.000Z",
      },
    });

    // Act
    const view = await describeBackupInstance(
      { ...deps, orchestrations },
      { vaultId, instance: ledger },
      new Date(readAt),
    );

    // Assert
    expect(view.overdueSince).toBeNull();
  });
});
