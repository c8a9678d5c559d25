import { beforeAll, describe, expect, it } from "vitest";
import { defaultPolicyTemplate } from "../../../../src/domain/policy/template.js";
import {
  backupInstanceSpecFor,
  newBackupInstanceName,
} from "../../../../src/providers/azure/backupInstanceBuilder.js";
import type { AzureServices } from "../../../../src/providers/azure/azureServices.js";
import {
  assignVaultRoles,
  azureServicesAgainst,
  FAKE_SUBSCRIPTION_ID,
  FakeArm,
} from "../../../support/fakeArm/index.js";
import { useFakeArmContractCheck } from "../../../support/fakeArm/hooks.js";

describe("backup instances across vaults through Resource Graph, against the fake Resource Manager", () => {
  let fake: FakeArm;
  let services: AzureServices;
  const protectedIds: string[] = [];
  let unprotectedId: string;

  beforeAll(async () => {
    fake = await FakeArm.start({ subscriptionId: FAKE_SUBSCRIPTION_ID });
    services = azureServicesAgainst(fake);
    for (const [vaultName, serverName] of [
      ["vault-east", "pg-east"],
      ["vault-west", "pg-west"],
    ] as const) {
      const vaultId = fake.addVault("rg-backup", vaultName);
      const policyId =
        (
          await services.backup.createPolicy(
            vaultId,
            "weekly",
            defaultPolicyTemplate("AzureDatabaseForPostgreSQLFlexibleServer"),
          )
        ).id ?? "";
      const datasourceId = fake.addPostgresServer({
        resourceGroup: "rg-db",
        name: serverName,
        kind: "flexibleServers",
      });
      assignVaultRoles(fake, datasourceId);
      await services.backup.createBackupInstance(
        vaultId,
        newBackupInstanceName(datasourceId),
        backupInstanceSpecFor({ datasourceId, location: "westus", policyId }),
      );
      protectedIds.push(datasourceId);
    }
    unprotectedId = fake.addPostgresServer({
      resourceGroup: "rg-db",
      name: "pg-new",
      kind: "flexibleServers",
    });
  });

  useFakeArmContractCheck(() => fake);

  it("lists the instances of every vault, with their datasources and states, in one query", async () => {
    // Arrange
    const before = fake.requests.length;

    // Act
    const items = await services.protectedItems.listProtectedItems([FAKE_SUBSCRIPTION_ID]);

    // Assert
    expect(items.map((item) => item.datasourceId).sort()).toEqual([...protectedIds].sort());
    expect(items.every((item) => item.protectionStatus === "ProtectionConfigured")).toBe(true);
    expect(items.map((item) => item.backupInstanceId)).toEqual(
      expect.arrayContaining([
        expect.stringContaining("/backupVaults/vault-east/backupInstances/pg-east-pg-east-"),
        expect.stringContaining("/backupVaults/vault-west/backupInstances/pg-west-pg-west-"),
      ]),
    );
    expect(items.map((item) => item.datasourceId)).not.toContain(unprotectedId);
    expect(fake.requests.slice(before).map((r) => r.operationId)).toEqual(["Resources"]);
  });

  it("shows a stopped protection as stopped, so that it counts as unprotected", async () => {
    // Arrange
    const [first] = await services.backup.listBackupInstancesForDatasource(protectedIds[0] ?? "");
    const vaultId = first?.id.replace(/\/backupInstances\/[^/]+$/, "") ?? "";
    await services.backup.stopProtection(vaultId, first?.name ?? "");

    // Act
    const items = await services.protectedItems.listProtectedItems([FAKE_SUBSCRIPTION_ID]);

    // Assert
    expect(items.find((item) => item.datasourceId === protectedIds[0])?.protectionStatus).toBe(
      "ProtectionStopped",
    );
  });

  it("asks nothing of a subscription list that is empty", async () => {
    const before = fake.requests.length;

    const items = await services.protectedItems.listProtectedItems([]);

    expect(items).toEqual([]);
    expect(fake.requests.length).toBe(before);
  });
});
