import { beforeAll, describe, expect, it } from "vitest";
import { adhocBackup, type AdhocBackupOutput } from "../../../../src/orchestrations/adhocBackup.js";
import {
  protectDatasource,
  type ProtectDatasourceOutput,
} from "../../../../src/orchestrations/protectDatasource.js";
import { type AzureServices } from "../../../../src/providers/azure/azureServices.js";
import type { PublishedEvent } from "../../../../src/providers/ports.js";
import {
  createDefaultPolicy,
  assignVaultRoles,
  azureServicesAgainst,
  FAKE_SUBSCRIPTION_ID,
  FAKE_VAULT_PRINCIPAL_ID,
  FakeArm,
} from "../../../support/fakeArm/index.js";
import { useFakeArmContractCheck } from "../../../support/fakeArm/hooks.js";
import {
  activitiesOver,
  runOrchestration,
  type RunnableActivities,
} from "../../../support/fakeArm/orchestrationRunner.js";

/**
 * The same flows against a service that answers everything, and against one that answers only
 * what the OpenAPI document requires (no `systemData`, no protection status, no job id in the
 * operation's answer, no job end time, ...).
 */
describe.each([
  { answers: "full", what: "answering everything" },
  { answers: "required-only", what: "answering only what the contract requires" },
] as const)(
  "the core flows on the Azure provider against the fake Resource Manager $what",
  ({ answers }) => {
    let fake: FakeArm;
    let services: AzureServices;
    let vaultId: string;
    let serverId: string;
    const published: PublishedEvent[] = [];
    let activities: RunnableActivities;

    beforeAll(async () => {
      fake = await FakeArm.start({ subscriptionId: FAKE_SUBSCRIPTION_ID, answers });
      vaultId = fake.addVault("rg-backup", "vault-core");
      serverId = fake.addPostgresServer({
        resourceGroup: "rg-db",
        name: "pg-sales",
        kind: "flexibleServers",
        tags: { "pgprotect-policy": "weekly" },
        databases: ["sales"],
      });
      assignVaultRoles(fake, serverId);
      services = azureServicesAgainst(fake, {
        services: {
          tlsOptions: { ca: fake.ca },
          polling: { retryAfterScale: 0.01, intervalInMs: 5 },
          throttling: { retryAfterScale: 0.01 },
          lostAnswers: { lookupIntervalMs: 10 },
        },
      });
      await createDefaultPolicy(services.backup, vaultId);
      activities = activitiesOver(services, { published });
    });

    useFakeArmContractCheck(() => fake);

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
      expect(
        (await services.backup.getBackupInstance(vaultId, instanceName)).protectionStatus,
      ).toBe("ProtectionConfigured");
      const configured = published.find((e) => e.type === "PgProtect.Protection.Configured");
      expect(configured?.subject).toBe(serverId);
      // A valid time whether or not the service reported when the instance was created.
      expect(Number.isNaN(Date.parse(configured?.time ?? ""))).toBe(false);
      // Resource Manager writes for one server: the validation and the PUT.
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
      expect(second.output.error?.code).toBe("BACKUP_LIMIT_PER_WEEK_REACHED");
      expect(second.activities).not.toContain("triggerBackup");
    });

    it.each([
      ["answers 500", "500", "pg-lost-500"],
      ["drops the connection", "drop", "pg-lost-drop"],
    ] as const)(
      "backs up once and follows the job to its end when the service starts the backup but %s",
      async (_case, how, serverName) => {
        // Arrange: a protected server whose next backup's answer is lost.
        const id = fake.addPostgresServer({
          resourceGroup: "rg-db",
          name: serverName,
          kind: "flexibleServers",
        });
        assignVaultRoles(fake, id);
        const protection = await runOrchestration<ProtectDatasourceOutput>(
          protectDatasource,
          { datasource: { serverName }, vaultId, policyName: "weekly" },
          activities,
        );
        const instanceName = protection.output.backupInstanceName ?? "";
        fake.loseAnswers("BackupInstances_AdhocBackup", how);

        // Act
        const backup = await runOrchestration<AdhocBackupOutput>(
          adhocBackup,
          { vaultId, backupInstanceName: instanceName, ruleName: "BackupWeekly" },
          activities,
        );

        // Assert
        const jobs = fake.jobsOf(instanceName);
        expect(jobs.map((j) => [j.id, j.status])).toEqual([[backup.output.jobId, "Completed"]]);
        expect(backup.output.outcome).toBe("Completed");
        expect(
          fake
            .requestsOf("BackupInstances_AdhocBackup")
            .filter((r) => r.path.includes(instanceName)),
        ).toHaveLength(1);
        expect(await services.backup.listRecoveryPoints(vaultId, instanceName)).toHaveLength(1);
      },
    );

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

    it("fails the protection naming each role the vault's identity lacks and its scope, before any write", async () => {
      // Arrange: a server in a resource group where the vault's identity holds nothing.
      const lockedId = fake.addPostgresServer({
        resourceGroup: "rg-locked",
        name: "pg-locked",
        kind: "flexibleServers",
      });
      const writes = () =>
        fake.requests.filter((r) => r.method !== "GET" && r.operationId !== "Resources").length;
      const before = writes();

      // Act
      const run = await runOrchestration<ProtectDatasourceOutput>(
        protectDatasource,
        { datasource: { serverName: "pg-locked" }, vaultId, policyName: "weekly" },
        activities,
      );

      // Assert
      expect(run.output.outcome).toBe("Failed");
      expect(run.output.error?.code).toBe("MISSING_REQUIRED_PERMISSIONS");
      const lockedGroup = `/subscriptions/${FAKE_SUBSCRIPTION_ID}/resourceGroups/rg-locked`;
      expect(run.output.error?.message).toContain(
        `'PostgreSQL Flexible Server Long Term Retention Backup Role' on ${lockedId}`,
      );
      expect(run.output.error?.message).toContain(`'Reader' on ${lockedGroup}`);
      expect(run.output.error?.recommendedAction).toMatch(/^Assign .*AUTO_GRANT_ROLE_ASSIGNMENTS/);
      expect(run.activities).not.toContain("validateForBackup");
      expect(writes()).toBe(before);
    });

    it("grants the missing roles at Resource Manager when auto-grant is on, then protects", async () => {
      // Arrange
      const grantedId = fake.addPostgresServer({
        resourceGroup: "rg-granted",
        name: "pg-granted",
        kind: "flexibleServers",
      });
      const granting = activitiesOver(services, { autoGrantRoleAssignments: true });

      // Act
      const run = await runOrchestration<ProtectDatasourceOutput>(
        protectDatasource,
        { datasource: { serverName: "pg-granted" }, vaultId, policyName: "weekly" },
        granting,
      );

      // Assert
      expect(run.output).toMatchObject({ outcome: "Protected", datasourceId: grantedId });
      const granted = fake
        .roleAssignments()
        .filter((a) => a.principalId === FAKE_VAULT_PRINCIPAL_ID)
        .map((a) => [a.scope, a.roleDefinitionId.split("/").at(-1)]);
      expect(granted).toContainEqual([grantedId, "c088a766-074b-43ba-90d4-1fb21feae531"]);
      expect(granted).toContainEqual([
        `/subscriptions/${FAKE_SUBSCRIPTION_ID}/resourceGroups/rg-granted`,
        "acdd72a7-3385-48ef-bd42-f606fba81ae7",
      ]);
      expect(fake.requestsOf("RoleAssignments_PUT")).toHaveLength(2);
    });
  },
);
