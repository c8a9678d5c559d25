import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AzureServices } from "../../../../src/providers/azure/azureServices.js";
import {
  azureServicesAgainst,
  FAKE_SUBSCRIPTION_ID,
  FakeArm,
} from "../../../support/fakeArm/index.js";
import { useFakeArmContractCheck } from "../../../support/fakeArm/hooks.js";
import { baselineVaultSecurity } from "../../../support/fakeArm/vaultPosture.js";
import { rejection } from "../../../support/appError.js";

describe("the Azure provider's vault settings, read from the fake Resource Manager", () => {
  let fake: FakeArm;
  let azure: AzureServices;

  beforeAll(async () => {
    fake = await FakeArm.start({ subscriptionId: FAKE_SUBSCRIPTION_ID });
    azure = azureServicesAgainst(fake);
  });

  useFakeArmContractCheck(() => fake);

  afterAll(async () => {
    await fake?.stop();
  });

  it("reads every security setting of a vault, and its resource guard from the proxies", async () => {
    // Arrange
    const vaultId = fake.addVault("rg-backup", "vault-hardened");
    fake.vaultPosture.configure(vaultId, baselineVaultSecurity);

    // Act
    const settings = await azure.vaultSettings.readVaultSettings(vaultId);

    // Assert
    expect(settings).toEqual({
      redundancy: "GeoRedundant",
      immutability: "Unlocked",
      softDelete: { state: "On", retentionDays: 14 },
      crossRegionRestore: "Enabled",
      crossSubscriptionRestore: "Disabled",
      resourceGuard: {
        state: "Protected",
        resourceGuardIds: baselineVaultSecurity.resourceGuardIds,
      },
      jobFailureAlerts: "Enabled",
    });
    expect(fake.requestsOf("DppResourceGuardProxy_List")).toHaveLength(1);
  });

  it("reads a vault without soft delete, immutability or a resource guard as such", async () => {
    const vaultId = fake.addVault("rg-backup", "vault-weak");
    fake.vaultPosture.configure(vaultId, {
      redundancy: "LocallyRedundant",
      softDelete: { state: "Off", retentionDurationInDays: 14 },
      immutability: "Disabled",
      crossSubscriptionRestore: "Enabled",
      alertsForAllJobFailures: "Disabled",
    });

    const settings = await azure.vaultSettings.readVaultSettings(vaultId);

    expect(settings).toMatchObject({
      redundancy: "LocallyRedundant",
      immutability: "Disabled",
      softDelete: { state: "Off" },
      crossRegionRestore: "unknown",
      crossSubscriptionRestore: "Enabled",
      resourceGuard: { state: "NotProtected", resourceGuardIds: [] },
      jobFailureAlerts: "Disabled",
    });
  });

  it("reports every setting of a vault answered with its required properties only as unknown", async () => {
    const vaultId = fake.addVault("rg-backup", "vault-bare");
    fake.vaultPosture.configure(vaultId, { requiredOnly: true });

    const settings = await azure.vaultSettings.readVaultSettings(vaultId);

    expect(settings).toEqual({
      redundancy: "unknown",
      immutability: "unknown",
      softDelete: { state: "unknown", retentionDays: null },
      crossRegionRestore: "unknown",
      crossSubscriptionRestore: "unknown",
      // The proxies' list answered, empty: the service says no guard is mapped.
      resourceGuard: { state: "NotProtected", resourceGuardIds: [] },
      jobFailureAlerts: "unknown",
    });
  });

  it("fails with RESOURCE_NOT_FOUND for a vault that does not exist", async () => {
    const error = await rejection(
      azure.vaultSettings.readVaultSettings(
        `/subscriptions/${FAKE_SUBSCRIPTION_ID}/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/no-such-vault`,
      ),
    );

    expect(error.httpStatus).toBe(404);
  });
});

describe("the Azure provider's vault settings against a service that answers only what its contract requires", () => {
  let fake: FakeArm;
  let azure: AzureServices;

  beforeAll(async () => {
    fake = await FakeArm.start({ subscriptionId: FAKE_SUBSCRIPTION_ID, answers: "required-only" });
    azure = azureServicesAgainst(fake);
  });

  useFakeArmContractCheck(() => fake);

  afterAll(async () => {
    await fake?.stop();
  });

  it("reads a hardened vault's settings as unknown, but still tells a resource guard by its proxy", async () => {
    // Arrange
    const vaultId = fake.addVault("rg-backup", "vault-required");
    fake.vaultPosture.configure(vaultId, baselineVaultSecurity);

    // Act
    const settings = await azure.vaultSettings.readVaultSettings(vaultId);

    // Assert: the proxy's id, name and type remain; its guard's id is optional and left out.
    expect(settings).toEqual({
      redundancy: "unknown",
      immutability: "unknown",
      softDelete: { state: "unknown", retentionDays: null },
      crossRegionRestore: "unknown",
      crossSubscriptionRestore: "unknown",
      resourceGuard: { state: "Protected", resourceGuardIds: [] },
      jobFailureAlerts: "unknown",
    });
  });
});
