import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { protectionInstanceId } from "../../src/domain/protection/operationIds.js";
import type { AzureServices } from "../../src/providers/azure/azureServices.js";
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
import {
  resourceWriteCloudEvent,
  resourceWriteEventGridEvent,
} from "../support/fakeArm/resourceWriteEvents.js";
import { poll } from "../support/poll.js";

/** The token the fake identity endpoint hands out and the fake Resource Manager accepts. */
const TOKEN = "token-from-managed-identity";

describe("auto-protection in Azure, from a resource-write event through the Event Grid webhook", () => {
  let app: AzureApp;
  let fake: FakeArm;
  let identity: FakeManagedIdentity;
  let azure: AzureServices;
  let vaultId: string;
  const servers: Record<string, string> = {};

  /** Delivers events to the trigger the way Event Grid does: the webhook, its system key. */
  const deliver = (body: unknown, contentType = "application/json") =>
    fetch(`${app.host.url}/runtime/webhooks/eventgrid?functionName=eventGridAutoProtect`, {
      method: "POST",
      headers: {
        "content-type": contentType,
        "aeg-event-type": "Notification",
        "x-functions-key": app.host.keys.systemKeys.eventgrid_extension,
      },
      body: JSON.stringify(body),
    });
  const instancesOf = (serverId: string) => azure.backup.listBackupInstancesForDatasource(serverId);
  const protectionWrites = (serverId: string) =>
    fake.requestsOf("BackupInstances_CreateOrUpdate").filter((r) =>
      JSON.stringify(r.body ?? "")
        .toLowerCase()
        .includes(serverId.toLowerCase()),
    );
  const protectionOf = (serverId: string) =>
    app.api("GET", `protections/${protectionInstanceId(serverId)}`);

  beforeAll(async () => {
    fake = await FakeArm.start({
      subscriptionId: FAKE_SUBSCRIPTION_ID,
      token: TOKEN,
      retryAfterSeconds: 0,
    });
    identity = await FakeManagedIdentity.start(TOKEN);
    vaultId = fake.addVault("rg-backup", "vault-pg");
    for (const name of ["pg-orders", "pg-ledger", "pg-scratch", "pg-mirror"]) {
      servers[name] = fake.addPostgresServer({
        resourceGroup: "rg-db",
        name,
        kind: "flexibleServers",
        ...(name === "pg-scratch" ? {} : { tags: { "pgprotect-policy": "weekly" } }),
      });
      assignVaultRoles(fake, servers[name] ?? "");
    }
    // A read replica its owner tagged like its primary.
    fake.postgresServers.set(servers["pg-mirror"] ?? "", {
      storageSizeGB: 128,
      replicationRole: "AsyncReplica",
      sourceServerResourceId: servers["pg-orders"] ?? "",
    });
    azure = azureServicesAgainst(fake, {
      credential: fakeArmCredential(TOKEN),
      settings: { AZURE_TOKEN_AUDIENCE: ARM_AUDIENCE },
    });
    await createDefaultPolicy(azure.backup, vaultId, "weekly");
    app = await startAzureApp({ name: "e2e-azure-autoprotect", fake, identity, vaultIds: vaultId });
  });

  afterAll(async () => {
    await app?.stop();
    await identity?.stop();
    await fake?.stop();
  });

  it("protects a tagged Flexible Server once its write event (Event Grid schema) arrives", async () => {
    // Arrange
    const serverId = servers["pg-orders"] ?? "";

    // Act
    const delivered = await deliver([resourceWriteEventGridEvent(serverId)]);

    // Assert
    expect(delivered.status).toBe(202);
    const protection = await poll(
      () => protectionOf(serverId),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
    );
    expect(protection.body).toMatchObject({ status: "Completed", outcome: "Protected" });
    const instances = await instancesOf(serverId);
    expect(instances).toHaveLength(1);
    expect(instances[0]?.protectionStatus).toBe("ProtectionConfigured");
    expect(instances[0]?.policyId).toMatch(/\/backupPolicies\/weekly$/);
  });

  it("starts the protection once when the same event is delivered twice", async () => {
    // Arrange
    const serverId = servers["pg-ledger"] ?? "";
    const event = resourceWriteCloudEvent(serverId);

    // Act: Event Grid redelivers when it misses the answer; both deliveries land.
    const first = await deliver(event, "application/cloudevents+json; charset=utf-8");
    const second = await deliver(event, "application/cloudevents+json; charset=utf-8");
    await poll(
      () => protectionOf(serverId),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
    );
    const third = await deliver(event, "application/cloudevents+json; charset=utf-8");

    // Assert
    expect([first.status, second.status, third.status]).toEqual([202, 202, 202]);
    expect(await instancesOf(serverId)).toHaveLength(1);
    expect(protectionWrites(serverId)).toHaveLength(1);
  });

  it("does nothing for a server written without the auto-protect tag", async () => {
    // Arrange
    const serverId = servers["pg-scratch"] ?? "";

    // Act
    const delivered = await deliver([resourceWriteEventGridEvent(serverId)]);

    // Assert
    expect(delivered.status).toBe(202);
    expect((await protectionOf(serverId)).status).toBe(404);
    expect(await instancesOf(serverId)).toEqual([]);
    expect(
      fake
        .requestsOf("BackupInstances_ValidateForBackup")
        .filter((r) => JSON.stringify(r.body ?? "").includes(serverId)),
    ).toEqual([]);
  });

  it("leaves a tagged read replica alone, as the service's limits say, however often its event comes", async () => {
    // Arrange
    const serverId = servers["pg-mirror"] ?? "";
    const event = resourceWriteEventGridEvent(serverId);

    // Act
    const deliveries = [await deliver([event]), await deliver([event])];

    // Assert: answered (no redelivery), and nothing started.
    expect(deliveries.map((d) => d.status)).toEqual([202, 202]);
    expect((await protectionOf(serverId)).status).toBe(404);
    expect(await instancesOf(serverId)).toEqual([]);
    expect(fake.requestsOf("Servers_Get").some((r) => r.path === serverId)).toBe(true);
  });
});
