import { describe, expect, it } from "vitest";
import { runPlans } from "../../../src/application/backupPlans.js";
import type {
  OrchestrationPort,
  OrchestrationStatus,
} from "../../../src/application/orchestrationPort.js";
import { createVaultDirectory } from "../../../src/composition.js";
import { parseBackupPlans } from "../../../src/domain/plans/plans.js";
import type { BackupInstance } from "../../../src/domain/protection/types.js";
import type { Provider } from "../../../src/providers/ports.js";

const vaults = createVaultDirectory({ BACKUP_VAULT_IDS: undefined, PGPROTECT_PROVIDER: "local" });

/** Orchestrations kept in memory, started by id. */
function orchestrations(): OrchestrationPort & { readonly started: string[] } {
  const started: string[] = [];
  return {
    started,
    start: async (_name, instanceId) => {
      started.push(instanceId);
    },
    status: async (instanceId) =>
      started.includes(instanceId)
        ? ({ instanceId, runtimeStatus: "Running" } as unknown as OrchestrationStatus)
        : undefined,
  };
}

function instance(name: string, database: string): BackupInstance {
  return {
    name,
    friendlyName: `local/${database}`,
    protectionStatus: "ProtectionConfigured",
    dataSourceInfo: { resourceId: `/ds/local/${database}` },
  } as unknown as BackupInstance;
}

/** Three gold databases of one server; the directory cannot read the tags of `hr`. */
function provider(): Provider {
  return {
    backup: {
      listBackupInstances: async () => [
        instance("local-sales-1", "sales"),
        instance("local-hr-2", "hr"),
        instance("local-stock-3", "stock"),
      ],
      listJobs: async () => [],
    },
    directory: {
      getTags: async (id: string) => {
        if (id === "/ds/local/hr") throw new Error("the resource directory did not answer");
        return { tier: "gold" };
      },
    },
  } as unknown as Provider;
}

const plans = parseBackupPlans(
  JSON.stringify([
    {
      name: "nightly-gold",
      schedule: "0 0 1 * * *",
      select: { tags: { tier: "gold" } },
      ruleName: "BackupWeekly",
    },
  ]),
);

describe("backup plans over several databases of a server", () => {
  it("starts the backups of every other database when one database's cannot start, and names that one", async () => {
    // Arrange
    const port = orchestrations();

    // Act
    const [run] = await runPlans(
      plans,
      new Date("2026-05-29T01:02:00Z"),
      { provider: provider(), vaults },
      port,
    );

    // Assert
    expect(run?.error).toBeUndefined();
    expect(port.started).toEqual([
      "plan-nightly-gold-local-sales-1-20260529t010000z",
      "plan-nightly-gold-local-stock-3-20260529t010000z",
    ]);
    expect(run?.failed).toEqual([
      { backupInstanceName: "local-hr-2", error: "the resource directory did not answer" },
    ]);
  });
});
