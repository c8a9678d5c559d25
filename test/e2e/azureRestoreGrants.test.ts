import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RunningHost } from "@pgprotect/functions-runtime";
import { startAzureApp, type AzureApp } from "../support/azureApp.js";
import {
  addBackedUpServer,
  addRestoreStorage,
  blobNames,
  containerIdIn,
  expectSettledWithinContract,
  restoreEnded,
  restoreSourceIn,
  startFakeAzure,
  stopAll,
} from "../support/azureRestoreScenario.js";
import { startAzuriteBlob, type AzuriteBlob } from "../support/azuriteBlob.js";
import { FAKE_VAULT_PRINCIPAL_ID, type FakeArm } from "../support/fakeArm/index.js";
import type { FakeManagedIdentity } from "../support/fakeArm/fakeManagedIdentity.js";
import { STORAGE_BLOB_DATA_CONTRIBUTOR } from "../support/fakeArm/restores.js";
import {
  FAKE_APP_IDENTITY,
  type RoleWriteClause,
} from "../support/fakeArm/roleAssignmentCondition.js";
import { functionsApi } from "../support/functionsApi.js";
import { usePostgresCluster } from "../support/postgres.js";

/** The deployment's clause for server roles: the LTR backup role and Reader, to any service principal. */
const serverRolesClause: RoleWriteClause = {
  roleDefinitionGuids: [
    "c088a766-074b-43ba-90d4-1fb21feae531",
    "acdd72a7-3385-48ef-bd42-f606fba81ae7",
  ],
};

/** The deployment's clause for the restore role: Storage Blob Data Contributor, to the named vault identities only. */
const restoreRoleClause = (vaultPrincipalIds: readonly string[]): RoleWriteClause => ({
  roleDefinitionGuids: [STORAGE_BLOB_DATA_CONTRIBUTOR],
  principalIds: vaultPrincipalIds,
});

describe("a restore as files in Azure with AUTO_GRANT_ROLE_ASSIGNMENTS, when the deployment's condition decides what the app may grant", () => {
  const postgres = usePostgresCluster();
  let fake: FakeArm;
  let identity: FakeManagedIdentity;
  let azurite: AzuriteBlob;
  let app: AzureApp;
  let host: RunningHost;
  let instanceName: string;
  let storageAccountId: string;
  const api = functionsApi(() => host);

  const vaultAssignmentsAt = (scope: string) =>
    fake
      .roleAssignments()
      .filter(
        (a) =>
          a.principalId === FAKE_VAULT_PRINCIPAL_ID &&
          a.scope.toLowerCase() === scope.toLowerCase(),
      );

  beforeAll(async () => {
    const fakes = await startFakeAzure();
    ({ fake, identity } = fakes);
    azurite = await startAzuriteBlob();

    await postgres.query("postgres", "CREATE DATABASE ledger");
    await postgres.query(
      "ledger",
      "CREATE TABLE entry (id int PRIMARY KEY, amount numeric(10,2)); INSERT INTO entry SELECT g, g * 2.5 FROM generate_series(1, 20) g",
    );
    const server = await addBackedUpServer(fake, fakes.azure.backup, {
      serverName: "pg-ledger",
      instanceName: "pg-ledger-pg-ledger-2b7c9e40-5d1a-4f83-a6e2-9c0b1d2e3f4a",
      source: restoreSourceIn(postgres, ["ledger"]),
    });
    instanceName = server.instanceName;
    storageAccountId = await addRestoreStorage(fake, azurite, "rg-restore", ["refused", "granted"]);

    app = await startAzureApp({
      name: "e2e-azure-restore-grants",
      fake,
      identity,
      vaultIds: server.vaultId,
      settings: {
        AUTO_GRANT_ROLE_ASSIGNMENTS: "true",
        RESTORE_STORAGE_CONNECTION_STRING: azurite.connectionString,
        POSTGRES_BIN_DIR: postgres.cluster.binDir,
      },
    });
    host = app.host;
  }, 120_000);

  afterEach(async () => {
    fake.roleAssignmentCondition.lift();
    await expectSettledWithinContract(fake);
  });

  afterAll(() => stopAll(app, azurite, identity, fake));

  it("answers a grant the condition refuses with a 403 naming the role, the scope, the principal, the command and what the deployment allows, and starts no restore", async () => {
    // Arrange: the deployment names another vault's identity for the restore role, not this one's.
    fake.roleAssignmentCondition.limitTo([
      serverRolesClause,
      restoreRoleClause(["7c6b5a49-3827-4160-9f8e-7d6c5b4a3928"]),
    ]);
    const scope = containerIdIn(storageAccountId, "refused");
    const validatesBefore = fake.requestsOf("BackupInstances_ValidateForRestore").length;
    const triggersBefore = fake.requestsOf("BackupInstances_TriggerRestore").length;
    const jobsBefore = fake.jobsOf(instanceName).length;
    const writesBefore = fake.requestsOf("RoleAssignments_PUT").length;

    // Act
    const refused = await api("POST", `backup-instances/${instanceName}/restores`, {
      targetContainerUrl: `${azurite.endpoint}/refused`,
      targetStorageAccountId: scope,
    });

    // Assert: what the user reads...
    expect(refused.status).toBe(403);
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    expect(refused.body).toMatchObject({
      code: "MISSING_REQUIRED_PERMISSIONS",
      serviceCode: "AuthorizationFailed",
    });
    const detail = String(refused.body.detail);
    expect(detail).toContain(
      `The Backup vault's identity ${FAKE_VAULT_PRINCIPAL_ID} lacks 'Storage Blob Data Contributor' on ${scope}, and pgprotect's identity may not grant it`,
    );
    expect(detail).toContain(
      "The deployment's condition lets pgprotect's identity assign 'PostgreSQL Flexible Server Long Term Retention Backup Role' and 'Reader' to service principals, and 'Storage Blob Data Contributor' only to the Backup vault identities the deployment names",
    );
    // Resource Manager's own words name the app's identity.
    expect(detail).toContain(`object id '${FAKE_APP_IDENTITY.objectId}'`);
    const action = String(refused.body.recommendedAction);
    expect(action).toContain(
      `Run: az role assignment create --assignee-object-id ${FAKE_VAULT_PRINCIPAL_ID} --assignee-principal-type ServicePrincipal --role "Storage Blob Data Contributor" --scope ${scope} as someone who may assign roles there`,
    );
    expect(action).toContain("existingBackupVaultPrincipalIds");
    // ...and what happened: the write was tried once and refused, and nothing was started.
    const writes = fake.requestsOf("RoleAssignments_PUT").slice(writesBefore);
    expect(writes.map((w) => w.status)).toEqual([403]);
    expect(vaultAssignmentsAt(scope)).toEqual([]);
    expect(fake.requestsOf("BackupInstances_ValidateForRestore")).toHaveLength(validatesBefore);
    expect(fake.requestsOf("BackupInstances_TriggerRestore")).toHaveLength(triggersBefore);
    expect(fake.jobsOf(instanceName)).toHaveLength(jobsBefore);
    expect(await blobNames(azurite, "refused")).toEqual([]);
  });

  it("grants the restore role when the condition names the vault's identity, then restores the files", async () => {
    // Arrange
    fake.roleAssignmentCondition.limitTo([
      serverRolesClause,
      restoreRoleClause([FAKE_VAULT_PRINCIPAL_ID]),
    ]);
    const scope = containerIdIn(storageAccountId, "granted");

    // Act
    const started = await api("POST", `backup-instances/${instanceName}/restores`, {
      targetContainerUrl: `${azurite.endpoint}/granted`,
      targetStorageAccountId: scope,
      filePrefix: "granted",
    });
    const done = await restoreEnded(api, started.body.restoreId);

    // Assert
    expect(started.status).toBe(202);
    expect(started.body.checks).toEqual([
      `granted the vault vault-pg's identity 'Storage Blob Data Contributor' on ${scope}`,
      "the service validated the restore",
    ]);
    expect(vaultAssignmentsAt(scope)).toHaveLength(1);
    expect(done.body).toMatchObject({ status: "Completed" });
    expect(await blobNames(azurite, "granted")).toEqual(["granted_ledger.dump"]);
  });
});
