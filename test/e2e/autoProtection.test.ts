import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localTopicName } from "../../src/composition.js";
import { planRunInstanceId } from "../../src/domain/plans/plans.js";
import { formatDatabaseId, LOCAL_SCOPE } from "../../src/domain/protection/ids.js";
import type { BackupInstance } from "../../src/domain/protection/types.js";
import { ManualClock, type RunningHost } from "@pgprotect/functions-runtime";
import { usePostgresCluster } from "../support/postgres.js";
import { poll } from "../support/poll.js";
import { defaultVaultId, startLocalApp, weeklyPolicy, type LocalApp } from "../support/localApp.js";
import type { LocalProvider } from "../../src/providers/local/index.js";

const postgres = usePostgresCluster();

describe("auto-protection and backup plans on the local runtime", () => {
  let app: LocalApp;
  let host: RunningHost;
  let provider: LocalProvider;
  const logLines: string[] = [];
  const vaultId = defaultVaultId;
  const inventoryId = formatDatabaseId({
    ...LOCAL_SCOPE,
    kind: "servers",
    serverName: "local",
    databaseName: "inventory",
  });
  const payrollId = formatDatabaseId({
    ...LOCAL_SCOPE,
    kind: "servers",
    serverName: "local",
    databaseName: "payroll",
  });

  /** Runs a timer function once through the host's admin API and waits for that run to end. */
  const runTimer = async (name: string) => {
    const response = await fetch(`${host.url}/admin/functions/${name}`, {
      method: "POST",
      headers: { "x-functions-key": host.keys.masterKey, "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(202);
    await host.timers.idle();
  };

  beforeAll(async () => {
    await postgres.query("postgres", "CREATE DATABASE inventory");
    await postgres.query("postgres", "CREATE DATABASE payroll");
    await postgres.query(
      "inventory",
      "CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 20) g",
    );
    // A daily plan with a day's catch-up always has exactly one occurrence due: today's midnight.
    const plans = [
      {
        name: "nightly",
        schedule: "0 0 0 * * *",
        catchUpHours: 25,
        select: { backupInstances: ["local/inventory"] },
        ruleName: "BackupWeekly",
      },
    ];
    app = await startLocalApp({
      postgres,
      name: "e2e-auto",
      // The conventional secret of an auto-protected database: <server>-<database>.
      secrets: { "local-inventory": postgres.cluster.connectionUrl("inventory") },
      policies: { weekly: weeklyPolicy },
      // Timers are scheduled on a clock that never moves: they run only when the test runs them.
      timers: true,
      clock: new ManualClock(new Date()),
      log: (line) => logLines.push(line),
      settings: { BACKUP_PLANS: JSON.stringify(plans) },
      eventGrid: {
        topics: {
          [localTopicName]: { subscriptions: [] },
          resources: {
            subscriptions: [
              {
                function: "eventGridAutoProtect",
                includedEventTypes: ["Microsoft.Resources.ResourceWriteSuccess"],
              },
            ],
          },
        },
      },
    });
    ({ host, provider } = app);
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
  });

  it("protects a database a DBA tags with SQL, with the policy the tag names, and leaves untagged ones alone", async () => {
    // Arrange
    await postgres.query(
      "postgres",
      `COMMENT ON DATABASE inventory IS '{"pgprotect-policy":"weekly"}'`,
    );

    // Act
    await runTimer("timerLocalResourceEvents");
    await host.topics.whenIdle();
    const instances = await poll(
      () => provider.backup.listBackupInstancesForDatasource(inventoryId),
      (found: BackupInstance[]) => found.some((i) => i.protectionStatus === "ProtectionConfigured"),
    );

    // Assert
    expect(instances).toHaveLength(1);
    expect(instances[0]).toMatchObject({
      friendlyName: "local/inventory",
      protectionStatus: "ProtectionConfigured",
    });
    expect(instances[0]?.policyId.split("/").at(-1)).toBe("weekly");
    expect(await provider.backup.listBackupInstancesForDatasource(payrollId)).toEqual([]);
    expect(
      logLines.some((line) => line.includes(`${payrollId} has no 'pgprotect-policy' tag`)),
    ).toBe(true);
  });

  it("does not protect the database twice when its tags change again", async () => {
    await postgres.query(
      "postgres",
      `COMMENT ON DATABASE inventory IS '{"pgprotect-policy":"weekly","owner":"stock"}'`,
    );

    await runTimer("timerLocalResourceEvents");
    await host.topics.whenIdle();

    expect(
      logLines.some((line) => /protection protect-\S*inventory\S* is already/.test(line)),
    ).toBe(true);
    expect(await provider.backup.listBackupInstancesForDatasource(inventoryId)).toHaveLength(1);
  });

  it("backs up the plan's instance under the plan's rule when the plan fires, once per occurrence", async () => {
    // Arrange
    const [instance] = await provider.backup.listBackupInstancesForDatasource(inventoryId);
    const today = new Date(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`);
    const runId = planRunInstanceId("nightly", instance?.name ?? "", today);
    const run = async () => {
      const response = await fetch(`${host.url}/runtime/webhooks/durabletask/instances/${runId}`, {
        headers: { "x-functions-key": host.keys.systemKeys.durabletask_extension },
      });
      return response.status === 200
        ? ((await response.json()) as {
            runtimeStatus: string;
            createdTime: string;
            output: unknown;
          })
        : undefined;
    };

    // Act
    await runTimer("timerBackupPlans");
    const finished = await poll(run, (status) => status?.runtimeStatus === "Completed");
    await runTimer("timerBackupPlans");

    // Assert
    expect(finished?.output).toMatchObject({ outcome: "Completed" });
    const jobs = await provider.backup.listJobs(vaultId, {
      backupInstanceName: instance?.name ?? "",
      operation: ["OnDemandBackup"],
    });
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({
      status: "Completed",
      ruleName: "BackupWeekly",
      backupInstanceFriendlyName: "local/inventory",
    });
    // Fired again for the same occurrence, the plan left the finished run as it was.
    expect((await run())?.createdTime).toBe(finished?.createdTime);
  });

  it("protects on reconciliation a database tagged while no event reached the app", async () => {
    // Arrange: a tag written without the resource-event timer running, as if the event was lost.
    await provider.secrets.setSecret("local-payroll", postgres.cluster.connectionUrl("payroll"));
    await postgres.query(
      "postgres",
      `COMMENT ON DATABASE payroll IS '{"pgprotect-policy":"weekly"}'`,
    );

    // Act
    await runTimer("timerReconcileProtection");
    const instances = await poll(
      () => provider.backup.listBackupInstancesForDatasource(payrollId),
      (found: BackupInstance[]) => found.some((i) => i.protectionStatus === "ProtectionConfigured"),
    );

    // Assert
    expect(instances.map((i) => i.friendlyName)).toEqual(["local/payroll"]);
    expect(await provider.backup.listBackupInstancesForDatasource(inventoryId)).toHaveLength(1);
  });
});
