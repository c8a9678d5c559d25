import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { lifecycleStateOf } from "../../../../src/domain/protection/lifecycle.js";
import type { AzureServices } from "../../../../src/providers/azure/azureServices.js";
import { backupInstanceSpecFor } from "../../../../src/providers/azure/backupInstanceBuilder.js";
import type { ProtectionLifecyclePort } from "../../../../src/providers/ports.js";
import {
  azureServicesAgainst,
  createDefaultPolicy,
  FAKE_SUBSCRIPTION_ID,
  FakeArm,
} from "../../../support/fakeArm/index.js";
import { rejection } from "../../../support/appError.js";

describe("the Azure provider's protection lifecycle against a service that answers only what its contract requires", () => {
  let fake: FakeArm;
  let azure: AzureServices;
  let lifecycle: ProtectionLifecyclePort;
  let vaultId: string;
  let policyId: string;
  let otherPolicyId: string;
  let serverCount = 0;

  /** A new Flexible Server protected in the vault; answers the instance's name. */
  const protectedServer = async () => {
    serverCount += 1;
    const serverId = fake.addPostgresServer({
      resourceGroup: "rg-db",
      name: `pg-required-${serverCount}`,
      kind: "flexibleServers",
    });
    const name = `pg-required-${serverCount}-0b7c1e52-93a1-4d7e-8c43-5a1f9d2e6b7${serverCount}`;
    await azure.backup.createBackupInstance(
      vaultId,
      name,
      backupInstanceSpecFor({ datasourceId: serverId, location: "westus", policyId }),
    );
    return name;
  };

  beforeAll(async () => {
    fake = await FakeArm.start({
      subscriptionId: FAKE_SUBSCRIPTION_ID,
      answers: "required-only",
      retryAfterSeconds: 1,
    });
    vaultId = fake.addVault("rg-backup", "vault-required");
    azure = azureServicesAgainst(fake);
    lifecycle = azure.lifecycle;
    policyId = await createDefaultPolicy(azure.backup, vaultId, "weekly");
    otherPolicyId = await createDefaultPolicy(azure.backup, vaultId, "weekly-long");
  });

  afterEach(() => {
    expect(fake.violations).toEqual([]);
  });

  afterAll(async () => {
    await fake?.stop();
  });

  it("stops, resumes and suspends an instance, each answered in the state it asked for though the service reports none", async () => {
    const name = await protectedServer();

    const stopped = await lifecycle.stopProtection(vaultId, name);
    const resumed = await lifecycle.resume(vaultId, name);
    const suspended = await lifecycle.suspendBackups(vaultId, name);

    expect(stopped).toMatchObject({ running: false });
    expect(lifecycleStateOf(stopped.instance!)).toBe("ProtectionStopped");
    expect(lifecycleStateOf(resumed.instance!)).toBe("ProtectionConfigured");
    expect(lifecycleStateOf(suspended.instance!)).toBe("BackupSchedulesSuspended");
    expect(fake.requestsOf("BackupInstances_ResumeProtection")).toHaveLength(1);
  });

  it("moves an instance to another policy with the service's own body, validated first", async () => {
    const name = await protectedServer();

    const moved = await lifecycle.changePolicy(vaultId, name, otherPolicyId);

    expect(moved.instance?.policyId).toBe(otherPolicyId);
    const [validation] = fake.requestsOf("BackupInstances_ValidateForModifyBackup");
    expect(validation?.body).toMatchObject({
      backupInstance: { policyInfo: { policyId: otherPolicyId } },
    });
  });

  it("deletes an instance, lists it among the deleted by name, and undeletes it stopped", async () => {
    const name = await protectedServer();

    await lifecycle.deleteBackupInstance(vaultId, name);
    const deleted = await lifecycle.listDeletedBackupInstances(vaultId);
    const undeleted = await lifecycle.undeleteBackupInstance(vaultId, name);

    expect(deleted.map((d) => d.name)).toEqual([name]);
    expect(lifecycleStateOf(undeleted.instance!)).toBe("ProtectionStopped");
    expect(await lifecycle.listDeletedBackupInstances(vaultId)).toEqual([]);
  });

  it("does not send a suspend again when its answer is lost and the service does not say whether it was carried out", async () => {
    const name = await protectedServer();
    fake.loseAnswers("BackupInstances_SuspendBackups", "500");
    const before = fake.requestsOf("BackupInstances_SuspendBackups").length;

    const error = await rejection(lifecycle.suspendBackups(vaultId, name));

    expect(error).toMatchObject({ code: "REQUEST_OUTCOME_UNKNOWN", retryable: false });
    expect(fake.requestsOf("BackupInstances_SuspendBackups")).toHaveLength(before + 1);
  });
});
