import type { DurableOrchestrationStatus } from "durable-functions";
import { describe, expect, it } from "vitest";
import { createVaultDirectory } from "../../../src/composition.js";
import { runBackupPlans } from "../../../src/functions/timerBackupPlans.js";
import { parseBackupPlans } from "../../../src/domain/plans/plans.js";
import { formatVaultId, LOCAL_SCOPE } from "../../../src/domain/protection/ids.js";
import type { BackupInstance } from "../../../src/domain/protection/types.js";
import type { Provider } from "../../../src/providers/ports.js";

const vaultId = formatVaultId({ ...LOCAL_SCOPE, vaultName: "pgprotect-vault" });
const vaults = createVaultDirectory({ BACKUP_VAULT_IDS: undefined, PGPROTECT_PROVIDER: "local" });

/** The Durable client as the timer uses it: instances by id. */
function durableClient() {
  const instances = new Map<string, { name: string; input: unknown }>();
  return {
    instances,
    getStatus: async (instanceId: string) => {
      if (!instances.has(instanceId)) throw new Error("Webhook returned HTTP 404");
      return { instanceId, runtimeStatus: "Running" } as unknown as DurableOrchestrationStatus;
    },
    startNew: async (name: string, options?: { instanceId?: string; input?: unknown }) => {
      instances.set(options?.instanceId ?? "", { name, input: options?.input });
      return options?.instanceId ?? "";
    },
  };
}

function instance(
  name: string,
  friendlyName: string,
  protectionStatus = "ProtectionConfigured",
): BackupInstance {
  return {
    name,
    friendlyName,
    protectionStatus,
    dataSourceInfo: { resourceId: `/ds/${friendlyName}` },
  } as unknown as BackupInstance;
}

/** A provider with two protected databases, sales tagged gold; `running` names instances with a backup running. */
function provider(running: readonly string[] = []): Provider {
  const tags: Record<string, Record<string, string>> = {
    "/ds/local/sales": { tier: "gold" },
    "/ds/local/hr": {},
  };
  return {
    backup: {
      listBackupInstances: async (id: string) =>
        id === vaultId
          ? [
              instance("local-sales-1", "local/sales"),
              instance("local-hr-2", "local/hr"),
              instance("local-old-3", "local/old", "ProtectionStopped"),
            ]
          : [],
      listJobs: async (_id: string, filter: { backupInstanceName?: string }) =>
        running.includes(filter.backupInstanceName ?? "")
          ? [{ name: `job-of-${filter.backupInstanceName}`, status: "InProgress" }]
          : [],
    },
    directory: { getTags: async (id: string) => tags[id] ?? {} },
  } as unknown as Provider;
}

const plans = parseBackupPlans(
  JSON.stringify([
    {
      name: "month-end",
      schedule: "0 0 22 * * *",
      calendar: "lastBusinessDayOfMonth",
      select: { tags: { tier: "gold" } },
      ruleName: "BackupWeekly",
      retentionTagOverride: "Monthly",
    },
    {
      name: "nightly-hr",
      schedule: "0 0 1 * * *",
      select: { backupInstances: ["local/hr"] },
      ruleName: "BackupWeekly",
    },
  ]),
);

describe("timerBackupPlans", () => {
  it("backs up the tagged instances under the plan's rule on the last business day, skipping the weekly limit", async () => {
    // Arrange
    const durable = durableClient();

    // Act
    const runs = await runBackupPlans(
      plans,
      new Date("2026-05-29T22:04:00Z"),
      { provider: provider(), vaults },
      durable,
    );

    // Assert
    expect(runs.find((r) => r.plan === "month-end")).toMatchObject({
      occurrence: "2026-05-29T22:00:00.000Z",
      started: ["plan-month-end-local-sales-1-20260529t220000z"],
    });
    expect(runs.find((r) => r.plan === "nightly-hr")?.started).toEqual([]);
    expect([...durable.instances.values()]).toEqual([
      {
        name: "adhocBackup",
        input: {
          vaultId,
          backupInstanceName: "local-sales-1",
          ruleName: "BackupWeekly",
          retentionTagOverride: "Monthly",
          whenWeeklyLimitReached: "skip",
          whenBackupRunning: "skip",
          requestedBy: "plan:month-end",
        },
      },
    ]);
  });

  it("defers an instance whose backup is running, naming the job, and starts it at a later tick of the occurrence", async () => {
    // Arrange
    const durable = durableClient();

    // Act: a backup of sales runs at the first tick and has ended by the next
    const first = await runBackupPlans(
      plans,
      new Date("2026-05-29T22:00:00Z"),
      { provider: provider(["local-sales-1"]), vaults },
      durable,
    );
    const next = await runBackupPlans(
      plans,
      new Date("2026-05-29T22:05:00Z"),
      { provider: provider(), vaults },
      durable,
    );

    // Assert
    expect(first.find((r) => r.plan === "month-end")).toMatchObject({
      started: [],
      deferred: [{ backupInstanceName: "local-sales-1", runningJob: "job-of-local-sales-1" }],
    });
    expect(next.find((r) => r.plan === "month-end")?.started).toEqual([
      "plan-month-end-local-sales-1-20260529t220000z",
    ]);
    expect(durable.instances.size).toBe(1);
  });

  it("starts nothing new when the timer fires again for the same occurrence", async () => {
    const durable = durableClient();
    await runBackupPlans(
      plans,
      new Date("2026-05-29T22:00:00Z"),
      { provider: provider(), vaults },
      durable,
    );

    const again = await runBackupPlans(
      plans,
      new Date("2026-05-29T22:05:00Z"),
      { provider: provider(), vaults },
      durable,
    );

    expect(again.find((r) => r.plan === "month-end")).toMatchObject({
      started: [],
      alreadyStarted: ["plan-month-end-local-sales-1-20260529t220000z"],
    });
    expect(durable.instances.size).toBe(1);
  });

  it("does nothing on a day the calendar refinement leaves out", async () => {
    const durable = durableClient();

    await runBackupPlans(
      plans,
      new Date("2026-05-28T22:04:00Z"),
      { provider: provider(), vaults },
      durable,
    );

    expect(durable.instances.size).toBe(0);
  });

  it("reports a plan that names an unknown vault and still runs the others", async () => {
    // Arrange
    const withBadVault = parseBackupPlans(
      JSON.stringify([
        {
          name: "elsewhere",
          schedule: "0 0 1 * * *",
          select: { backupInstances: ["local/hr"] },
          ruleName: "BackupWeekly",
          vault: "a/b",
        },
        {
          name: "nightly-hr",
          schedule: "0 0 1 * * *",
          select: { backupInstances: ["local/hr"] },
          ruleName: "BackupWeekly",
        },
      ]),
    );
    const durable = durableClient();

    // Act
    const runs = await runBackupPlans(
      withBadVault,
      new Date("2026-05-28T01:01:00Z"),
      { provider: provider(), vaults },
      durable,
    );

    // Assert
    expect(runs[0]?.error).toBeDefined();
    expect(runs[1]?.started).toEqual(["plan-nightly-hr-local-hr-2-20260528t010000z"]);
  });
});
