import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createActivities } from "../../../../src/activities/createActivities.js";
import { defaultPolicyTemplate } from "../../../../src/domain/policy/template.js";
import { adhocBackup, type AdhocBackupOutput } from "../../../../src/orchestrations/adhocBackup.js";
import {
  protectDatasource,
  type ProtectDatasourceOutput,
} from "../../../../src/orchestrations/protectDatasource.js";
import {
  createAzureServices,
  type AzureServices,
} from "../../../../src/providers/azure/azureServices.js";
import type { PublishedEvent } from "../../../../src/providers/ports.js";
import {
  FAKE_SUBSCRIPTION_ID,
  FakeArm,
  fakeArmCredential,
} from "../../../support/fakeArm/index.js";
import { runOrchestration } from "../../../support/fakeArm/orchestrationRunner.js";

describe("the core flows on the Azure provider against the fake Resource Manager", () => {
  let fake: FakeArm;
  let services: AzureServices;
  let vaultId: string;
  let serverId: string;
  const published: PublishedEvent[] = [];
  let activities: Record<string, (input: never) => Promise<unknown>>;

  beforeAll(async () => {
    fake = await FakeArm.start({ subscriptionId: FAKE_SUBSCRIPTION_ID });
    vaultId = fake.addVault("rg-backup", "vault-core");
    serverId = fake.addPostgresServer({
      resourceGroup: "rg-db",
      name: "pg-sales",
      kind: "flexibleServers",
      tags: { "pgprotect-policy": "weekly" },
      databases: ["sales"],
    });
    services = createAzureServices(
      {
        AZURE_SUBSCRIPTION_ID: FAKE_SUBSCRIPTION_ID,
        AZURE_RESOURCE_MANAGER_ENDPOINT: fake.url,
        AZURE_TOKEN_AUDIENCE: fake.url,
      },
      fakeArmCredential(),
      {
        tlsOptions: { ca: fake.ca },
        polling: { retryAfterScale: 0.01, intervalInMs: 5 },
        throttling: { retryAfterScale: 0.01 },
      },
    );
    await services.backup.createPolicy(
      vaultId,
      "weekly",
      defaultPolicyTemplate("AzureDatabaseForPostgreSQLFlexibleServer"),
    );
    activities = createActivities({
      provider: services,
      // Event Grid stands behind this port in Azure; the events are kept to assert on.
      events: {
        publish: async (events) => {
          published.push(...events);
        },
      },
      eventSource: "/pgprotect/test",
    }) as unknown as Record<string, (input: never) => Promise<unknown>>;
  });

  afterEach(() => {
    expect(fake.violations).toEqual([]);
  });

  afterAll(async () => {
    await fake.stop();
  });

  it("protects a Flexible Server by name, backs it up on demand, and refuses a second backup that week", async () => {
    // Act: protect
    const writesBefore = fake.requests.filter(
      (r) => r.method !== "GET" && r.operationId !== "Resources",
    ).length;
    const protection = await runOrchestration<ProtectDatasourceOutput>(
      protectDatasource,
      { datasource: { serverName: "pg-sales" }, vaultId, policyName: "weekly" },
      activities,
    );

    // Assert
    expect(protection.output).toMatchObject({ outcome: "Protected", datasourceId: serverId });
    const instanceName = protection.output.backupInstanceName ?? "";
    expect(instanceName).toMatch(/^pg-sales-/);
    expect((await services.backup.getBackupInstance(vaultId, instanceName)).protectionStatus).toBe(
      "ProtectionConfigured",
    );
    expect(published.map((e) => e.type)).toContain("PgProtect.Protection.Configured");
    // Resource Manager writes for one server: two validations and the PUT.
    const protectionWrites =
      fake.requests.filter((r) => r.method !== "GET" && r.operationId !== "Resources").length -
      writesBefore;
    expect(protectionWrites).toBeLessThanOrEqual(4);

    // Act: back up
    const backup = await runOrchestration<AdhocBackupOutput>(
      adhocBackup,
      { vaultId, backupInstanceName: instanceName, ruleName: "BackupWeekly" },
      activities,
    );

    // Assert
    expect(backup.output.outcome).toBe("Completed");
    expect(backup.output.jobId).toContain(`${vaultId}/backupJobs/`);
    expect(
      published.filter((e) => e.type === "PgProtect.Backup.JobStateChanged").length,
    ).toBeGreaterThanOrEqual(2);
    expect(await services.backup.listRecoveryPoints(vaultId, instanceName)).toHaveLength(1);

    // Act: a second backup in the same week
    const second = await runOrchestration<AdhocBackupOutput>(
      adhocBackup,
      { vaultId, backupInstanceName: instanceName, ruleName: "BackupWeekly" },
      activities,
    );

    // Assert
    expect(second.output.outcome).toBe("Failed");
    expect(second.output.error?.code).toBe("UserErrorBackupLimitPerWeekReached");
    expect(second.activities).not.toContain("triggerBackup");
  });

  it("answers AlreadyProtected when the server is protected, without creating anything", async () => {
    // Resource Graph queries are POSTs too, but they read.
    const writes = () =>
      fake.requests.filter((r) => r.method !== "GET" && r.operationId !== "Resources").length;
    const before = writes();

    const again = await runOrchestration<ProtectDatasourceOutput>(
      protectDatasource,
      { datasource: { serverName: "pg-sales" }, vaultId, policyName: "weekly" },
      activities,
    );

    expect(again.output.outcome).toBe("AlreadyProtected");
    expect(writes()).toBe(before);
  });
});
