import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RunningHost } from "@pgprotect/functions-runtime";
import { backupRoles } from "../../src/providers/azure/vaultAccess.js";
import { startAzureApp, type AzureApp } from "../support/azureApp.js";
import {
  addBackedUpServer,
  containerIdIn,
  startFakeAzure,
  stopAll,
} from "../support/azureRestoreScenario.js";
import { FAKE_SUBSCRIPTION_ID, type FakeArm } from "../support/fakeArm/index.js";
import type { FakeManagedIdentity } from "../support/fakeArm/fakeManagedIdentity.js";
import { FAKE_APP_IDENTITY } from "../support/fakeArm/roleAssignmentCondition.js";
import { functionsApi } from "../support/functionsApi.js";

const subscription = `/subscriptions/${FAKE_SUBSCRIPTION_ID}`;

describe("a restore as files in Azure into a storage account the app's identity may not read", () => {
  let fake: FakeArm;
  let identity: FakeManagedIdentity;
  let app: AzureApp;
  let host: RunningHost;
  let instanceName: string;
  const api = functionsApi(() => host);

  beforeAll(async () => {
    const fakes = await startFakeAzure();
    ({ fake, identity } = fakes);
    const server = await addBackedUpServer(fake, fakes.azure.backup, {
      serverName: "pg-ledger",
      instanceName: "pg-ledger-pg-ledger-7e1d2c3b-4a5f-4d6e-8f90-a1b2c3d4e5f6",
    });
    instanceName = server.instanceName;
    // The app's identity reads the vault's group and the server's, and nothing where the
    // restore is to write.
    for (const group of ["rg-backup", "rg-db"]) {
      fake.assignRole(
        `${subscription}/resourceGroups/${group}`,
        backupRoles.reader.id,
        FAKE_APP_IDENTITY.objectId,
      );
    }
    fake.callerReadAccess.enforce();

    app = await startAzureApp({
      name: "e2e-azure-refused-read",
      fake,
      identity,
      vaultIds: server.vaultId,
    });
    host = app.host;
  }, 120_000);

  afterEach(() => {
    expect(fake.violations).toEqual([]);
  });

  afterAll(async () => {
    fake?.callerReadAccess.lift();
    await stopAll(app, identity, fake);
  });

  it("answers a 403 problem naming the scope Resource Manager refused and how to grant Reader there, after reading once, and starts no restore", async () => {
    // Arrange
    const account = `${subscription}/resourceGroups/rg-restore/providers/Microsoft.Storage/storageAccounts/strestore`;
    const scope = containerIdIn(account, "restored");
    const readsBefore = fake.requestsOf("RoleAssignments_GET").length;

    // Act
    const refused = await api("POST", `backup-instances/${instanceName}/restores`, {
      targetContainerUrl: "https://strestore.blob.core.windows.net/restored",
      targetStorageAccountId: scope,
    });

    // Assert: what the user reads...
    expect(refused.status).toBe(403);
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    expect(refused.body).toMatchObject({
      code: "AUTHORIZATION_FAILED",
      serviceCode: "AuthorizationFailed",
      retryable: false,
    });
    expect(String(refused.body.detail)).toContain(
      `does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/read' over scope '${scope}/providers/Microsoft.Authorization'`,
    );
    expect(String(refused.body.recommendedAction)).toContain(
      `az role assignment create --assignee-object-id ${FAKE_APP_IDENTITY.objectId} --assignee-principal-type ServicePrincipal --role "Reader" --scope ${scope}`,
    );
    // ...and what happened: one read, refused; nothing validated or started.
    expect(
      fake
        .requestsOf("RoleAssignments_GET")
        .slice(readsBefore)
        .map((r) => r.status),
    ).toEqual([403]);
    expect(fake.requestsOf("BackupInstances_ValidateForRestore")).toEqual([]);
    expect(fake.requestsOf("BackupInstances_TriggerRestore")).toEqual([]);
  });
});
