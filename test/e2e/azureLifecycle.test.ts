import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { defaultPolicyTemplate } from "../../src/domain/policy/template.js";
import type { AzureServices } from "../../src/providers/azure/azureServices.js";
import { backupInstanceSpecFor } from "../../src/providers/azure/backupInstanceBuilder.js";
import { ARM_AUDIENCE, startAzureApp, type AzureApp } from "../support/azureApp.js";
import {
  assignVaultRoles,
  azureServicesAgainst,
  createDefaultPolicy,
  FAKE_SUBSCRIPTION_ID,
  FakeArm,
  fakeArmCredential,
} from "../support/fakeArm/index.js";
import { FakeManagedIdentity } from "../support/fakeArm/fakeManagedIdentity.js";
import type { ApiResponse } from "../support/functionsApi.js";
import { poll } from "../support/poll.js";

/** The token the fake identity endpoint hands out and the fake Resource Manager accepts. */
const TOKEN = "token-from-managed-identity";

type Body = Record<string, unknown>;

describe("the protection lifecycle through the HTTP API on the Azure provider, against the fake Resource Manager", () => {
  let app: AzureApp;
  let fake: FakeArm;
  let identity: FakeManagedIdentity;
  let azure: AzureServices;
  let vaultId: string;
  const instances: Record<string, string> = {};

  const api = (method: string, route: string, body?: unknown) => app.api(method, route, body);
  const follow = (answer: ApiResponse) =>
    poll(
      () => api("GET", String(answer.body.statusUrl)),
      (r) => r.body.status !== "Running",
    );
  /** The instance's state as the fake holds it. */
  const stateOf = async (name: string) =>
    (await azure.backup.getBackupInstance(vaultId, name)).currentProtectionState;
  const requestsFor = (operationId: string, name: string) =>
    fake.requestsOf(operationId).filter((r) => r.path.includes(`/${name}`));

  beforeAll(async () => {
    fake = await FakeArm.start({
      subscriptionId: FAKE_SUBSCRIPTION_ID,
      token: TOKEN,
      retryAfterSeconds: 0,
    });
    identity = await FakeManagedIdentity.start(TOKEN);
    vaultId = fake.addVault("rg-backup", "vault-pg");
    azure = azureServicesAgainst(fake, {
      credential: fakeArmCredential(TOKEN),
      settings: { AZURE_TOKEN_AUDIENCE: ARM_AUDIENCE },
    });
    const weekly = await createDefaultPolicy(azure.backup, vaultId, "weekly");
    await createDefaultPolicy(azure.backup, vaultId, "weekly-long");
    await azure.backup.createPolicy(
      vaultId,
      "single-server",
      defaultPolicyTemplate("AzureDatabaseForPostgreSQL"),
    );
    for (const server of ["pg-stop", "pg-suspend", "pg-move", "pg-delete", "pg-lost"]) {
      const serverId = fake.addPostgresServer({
        resourceGroup: "rg-db",
        name: server,
        kind: "flexibleServers",
      });
      assignVaultRoles(fake, serverId);
      const name = `${server}-${server}-7d1c2b3a-0000-4000-8000-00000000000${Object.keys(instances).length}`;
      await azure.backup.createBackupInstance(
        vaultId,
        name,
        backupInstanceSpecFor({ datasourceId: serverId, location: "westus", policyId: weekly }),
      );
      instances[server] = name;
    }
    app = await startAzureApp({ name: "e2e-azure-lifecycle", fake, identity, vaultIds: vaultId });
  }, 60_000);

  afterEach(() => {
    // Every request the app sent and every answer the fake gave kept the OpenAPI contract.
    expect(fake.violations).toEqual([]);
  });

  afterAll(async () => {
    await app?.stop();
    await identity?.stop();
    await fake?.stop();
  });

  it("stops protection keeping the data, then resumes it with the service's resumeProtection", async () => {
    const name = instances["pg-stop"] ?? "";

    const stopped = await follow(
      await api("POST", `backup-instances/${name}/stop`, { deleteData: false }),
    );
    const stateAfterStop = await stateOf(name);
    const resumed = await follow(await api("POST", `backup-instances/${name}/resume`));

    expect(stopped.body).toMatchObject({ status: "Completed", state: "ProtectionStopped" });
    expect(stateAfterStop).toBe("ProtectionStopped");
    expect(resumed.body).toMatchObject({ status: "Completed", state: "ProtectionConfigured" });
    expect(requestsFor("BackupInstances_ResumeProtection", name)).toHaveLength(1);
    expect(requestsFor("BackupInstances_ResumeBackups", name)).toHaveLength(0);
    expect(await stateOf(name)).toBe("ProtectionConfigured");
  });

  it("suspends backups, refuses a second suspend's change as already done, and resumes them with resumeBackups", async () => {
    const name = instances["pg-suspend"] ?? "";

    const suspended = await follow(await api("POST", `backup-instances/${name}/suspend`));
    const again = await api("POST", `backup-instances/${name}/suspend`);
    const resumed = await follow(await api("POST", `backup-instances/${name}/resume`));

    expect(suspended.body).toMatchObject({
      status: "Completed",
      state: "BackupSchedulesSuspended",
    });
    expect(again.status).toBe(200);
    expect(again.body.outcome).toBe("alreadyDone");
    expect(requestsFor("BackupInstances_SuspendBackups", name)).toHaveLength(1);
    expect(resumed.body).toMatchObject({ status: "Completed", state: "ProtectionConfigured" });
    expect(requestsFor("BackupInstances_ResumeBackups", name)).toHaveLength(1);
  });

  it("moves an instance to another policy after the service validated the change, and refuses a policy for another datasource type before asking the service", async () => {
    const name = instances["pg-move"] ?? "";

    const refused = await api("PUT", `backup-instances/${name}/policy`, {
      policyName: "single-server",
    });
    const moved = await follow(
      await api("PUT", `backup-instances/${name}/policy`, { policyName: "weekly-long" }),
    );

    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe("POLICY_DATASOURCE_TYPE_MISMATCH");
    expect(moved.body).toMatchObject({ status: "Completed", state: "ProtectionConfigured" });
    const validations = requestsFor("BackupInstances_ValidateForModifyBackup", name);
    const writes = requestsFor("BackupInstances_CreateOrUpdate", name);
    expect(validations).toHaveLength(1);
    expect(writes.at(-1)?.at).toBeGreaterThanOrEqual(validations[0]?.at ?? Infinity);
    expect((await azure.backup.getBackupInstance(vaultId, name)).policyId).toBe(
      `${vaultId}/backupPolicies/weekly-long`,
    );
  });

  it("deletes an instance, lists it as soft-deleted, undeletes it stopped, and refuses an undelete past the soft-delete retention", async () => {
    const name = instances["pg-delete"] ?? "";

    const deleted = await follow(await api("DELETE", `backup-instances/${name}`));
    const listed = await api("GET", "deleted-backup-instances");
    const undeleted = await follow(await api("POST", `backup-instances/${name}/undelete`));
    const stateAfterUndelete = await stateOf(name);
    await follow(await api("DELETE", `backup-instances/${name}`));
    fake.expireSoftDelete(`${vaultId}/backupInstances/${name}`);
    const expired = await api("POST", `backup-instances/${name}/undelete`);

    expect(deleted.body).toMatchObject({ status: "Completed", state: "SoftDeleted" });
    expect((listed.body.value as Body[]).map((d) => d.name)).toEqual([name]);
    expect((listed.body.value as Body[])[0]).toMatchObject({ undeletable: true, kind: "server" });
    expect(undeleted.body).toMatchObject({ status: "Completed", state: "ProtectionStopped" });
    expect(stateAfterUndelete).toBe("ProtectionStopped");
    expect(expired.status).toBe(409);
    expect(expired.body.code).toBe("UNDELETE_RETENTION_EXPIRED");
  });

  it("does not stop protection twice when the service's answer to the stop is lost", async () => {
    const name = instances["pg-lost"] ?? "";
    fake.loseAnswers("BackupInstances_StopProtection", "500");

    const stopped = await follow(
      await api("POST", `backup-instances/${name}/stop`, { deleteData: false }),
    );

    expect(stopped.body).toMatchObject({ status: "Completed", state: "ProtectionStopped" });
    const stops = requestsFor("BackupInstances_StopProtection", name);
    expect(stops).toHaveLength(1);
    expect(stops[0]?.lost).toBe("500");
    expect(await stateOf(name)).toBe("ProtectionStopped");
  });
});
