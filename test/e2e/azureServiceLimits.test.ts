import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultPolicyTemplate } from "../../src/domain/policy/template.js";
import { serverProtectionInstanceId } from "../../src/domain/protection/operationIds.js";
import type { AzureServices } from "../../src/providers/azure/azureServices.js";
import { ARM_AUDIENCE, startAzureApp, type AzureApp } from "../support/azureApp.js";
import {
  assignVaultRoles,
  azureServicesAgainst,
  createDefaultPolicy,
  FAKE_SUBSCRIPTION_ID,
  FakeArm,
  fakeArmCredential,
  FakeKeyVault,
} from "../support/fakeArm/index.js";
import { FakeManagedIdentity } from "../support/fakeArm/fakeManagedIdentity.js";
import { poll } from "../support/poll.js";
import { usePostgresCluster } from "../support/postgres.js";

const postgres = usePostgresCluster();

/** The token the fake identity endpoint hands out and the fake Resource Manager accepts. */
const TOKEN = "token-from-managed-identity";

const flexSupportMatrix =
  "https://learn.microsoft.com/azure/backup/backup-azure-database-postgresql-flex-support-matrix";

describe("the service's limits at onboarding, on the Azure provider against the fake Resource Manager", () => {
  let app: AzureApp;
  let fake: FakeArm;
  let identity: FakeManagedIdentity;
  let keyVault: FakeKeyVault;
  let azure: AzureServices;
  let vaultId: string;
  const servers: Record<string, string> = {};

  const validationsOf = (serverId: string) =>
    fake
      .requestsOf("BackupInstances_ValidateForBackup")
      .filter((r) => JSON.stringify(r.body ?? "").includes(serverId));

  beforeAll(async () => {
    fake = await FakeArm.start({
      subscriptionId: FAKE_SUBSCRIPTION_ID,
      token: TOKEN,
      retryAfterSeconds: 0,
    });
    identity = await FakeManagedIdentity.start(TOKEN);
    keyVault = await FakeKeyVault.start(TOKEN);
    vaultId = fake.addVault("rg-backup", "vault-pg");
    for (const name of ["pg-primary", "pg-replica", "pg-large", "pg-plain"]) {
      servers[name] = fake.addPostgresServer({
        resourceGroup: "rg-db",
        name,
        kind: "flexibleServers",
      });
      assignVaultRoles(fake, servers[name] ?? "");
    }
    fake.postgresServers.set(servers["pg-primary"] ?? "", {
      storageSizeGB: 128,
      replicationRole: "Primary",
    });
    fake.postgresServers.set(servers["pg-replica"] ?? "", {
      storageSizeGB: 128,
      replicationRole: "AsyncReplica",
      sourceServerResourceId: servers["pg-primary"] ?? "",
    });
    fake.postgresServers.set(servers["pg-large"] ?? "", {
      storageSizeGB: 2048,
      replicationRole: "None",
    });
    // pg-plain answers without the optional properties, as the contract allows.
    servers["pg-legacy"] = fake.addPostgresServer({
      resourceGroup: "rg-db",
      name: "pg-legacy",
      kind: "servers",
      databases: ["ledger"],
    });
    fake.postgresServers.set(servers["pg-legacy"] ?? "", {
      storageMB: 102_400,
      replicationRole: "None",
    });
    servers["pg-legacy-replica"] = fake.addPostgresServer({
      resourceGroup: "rg-db",
      name: "pg-legacy-replica",
      kind: "servers",
      databases: ["ledger"],
    });
    fake.postgresServers.set(servers["pg-legacy-replica"] ?? "", {
      storageMB: 102_400,
      replicationRole: "Replica",
      masterServerId: servers["pg-legacy"] ?? "",
    });
    // The real PostgreSQL standing in for pg-legacy: the service's admin role owns ledger.
    await postgres.query("postgres", "CREATE ROLE azure_pg_admin NOLOGIN");
    await postgres.query("postgres", "CREATE DATABASE ledger OWNER azure_pg_admin");
    const keyVaultId = fake.addKeyVault({
      resourceGroup: "rg-db",
      name: "kv-legacy",
      rbac: true,
      vaultUri: `${keyVault.url}/`,
    });
    assignVaultRoles(fake, `${servers["pg-legacy"] ?? ""}/databases/ledger`, keyVaultId);
    azure = azureServicesAgainst(fake, {
      credential: fakeArmCredential(TOKEN),
      settings: { AZURE_TOKEN_AUDIENCE: ARM_AUDIENCE },
    });
    await createDefaultPolicy(azure.backup, vaultId, "weekly");
    await azure.backup.createPolicy(
      vaultId,
      "weekly-db",
      defaultPolicyTemplate("AzureDatabaseForPostgreSQL"),
    );
    app = await startAzureApp({
      name: "e2e-azure-limits",
      fake,
      identity,
      vaultIds: vaultId,
      trust: [keyVault.ca],
      settings: { AZURE_KEY_VAULT_DNS_SUFFIXES: "127.0.0.1" },
    });
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
    await keyVault?.stop();
    await identity?.stop();
    await fake?.stop();
  });

  it("refuses a read replica with 422, naming its primary, and starts nothing", async () => {
    // Act
    const response = await app.api("POST", "protections", {
      serverName: "pg-replica",
      policyName: "weekly",
    });

    // Assert
    expect(response.status).toBe(422);
    expect(response.body.code).toBe("READ_REPLICA_NOT_PROTECTABLE");
    expect(String(response.body.detail)).toContain("replication role AsyncReplica");
    expect(String(response.body.detail)).toContain(
      "https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-read-replicas",
    );
    expect(String(response.body.recommendedAction)).toContain(servers["pg-primary"]);
    expect(validationsOf(servers["pg-replica"] ?? "")).toEqual([]);
  });

  it("refuses every database of a Single Server read replica with the same 422, naming its master, and starts nothing", async () => {
    // Arrange
    const secretUri = keyVault.setSecret("replica", postgres.cluster.connectionUrl());

    // Act
    const response = await app.api("POST", "protections", {
      serverName: "pg-legacy-replica",
      allDatabases: true,
      policyName: "weekly-db",
      secretUri,
    });

    // Assert
    expect(response.status).toBe(422);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(response.body.code).toBe("READ_REPLICA_NOT_PROTECTABLE");
    expect(String(response.body.detail)).toContain("replication role Replica");
    expect(String(response.body.detail)).toContain(
      "https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-read-replicas",
    );
    expect(String(response.body.recommendedAction)).toContain(servers["pg-legacy"]);
    const operation = await app.api(
      "GET",
      `protections/${serverProtectionInstanceId(servers["pg-legacy-replica"] ?? "")}`,
    );
    expect(operation.status).toBe(404);
  });

  it("protects a server with over 1 TB of storage, warning that its backups fail past 1 TB", async () => {
    // Act
    const response = await app.api("POST", "protections", {
      serverName: "pg-large",
      policyName: "weekly",
    });

    // Assert
    expect(response.status).toBe(202);
    expect(response.body.warnings).toEqual(
      expect.arrayContaining([
        {
          limit: "serverSize",
          checked: true,
          message: expect.stringContaining("2048 GiB of storage, over the 1 TB"),
          reason: expect.stringContaining("up to 1 TB"),
          documentation: flexSupportMatrix,
        },
      ]),
    );
  });

  it("says what it could not check when the server's answer leaves out the optional properties", async () => {
    // Act
    const response = await app.api("POST", "protections", {
      serverName: "pg-plain",
      policyName: "weekly",
    });

    // Assert
    expect(response.status).toBe(202);
    const warnings = response.body.warnings as {
      limit: string;
      checked: boolean;
      message: string;
    }[];
    expect(warnings.map((w) => [w.limit, w.checked])).toEqual([
      ["readReplica", false],
      ["serverSize", false],
      ["serviceOwnedDatabase", false],
      ["largeByteaValue", false],
    ]);
    expect(warnings[1]?.message).toContain("Resource Manager's answer states no storage size");
    expect(warnings[2]?.message).toContain("pgprotect holds no connection to its databases");
  });

  it("answers a primary within the limits with only the database checks it cannot make", async () => {
    const response = await app.api("POST", "protections", {
      serverName: "pg-primary",
      policyName: "weekly",
    });

    expect(response.status).toBe(202);
    expect((response.body.warnings as { limit: string }[]).map((w) => w.limit).sort()).toEqual([
      "largeByteaValue",
      "serviceOwnedDatabase",
    ]);
  });

  it("refuses a Single Server database owned by azure_pg_admin, read through its Key Vault secret", async () => {
    // Arrange: the secret's connection string reaches a real PostgreSQL standing in for the server.
    const secretUri = keyVault.setSecret("ledger", postgres.cluster.connectionUrl("ledger"));

    // Act
    const response = await app.api("POST", "protections", {
      serverName: "pg-legacy",
      databaseName: "ledger",
      policyName: "weekly-db",
      secretUri,
    });

    // Assert
    expect(response.status).toBe(422);
    expect(response.body.code).toBe("DATABASE_OWNED_BY_SERVICE_ROLE");
    expect(String(response.body.detail)).toContain(
      "Backups for PostgreSQL Flexible servers exclude databases owned by azuresu or azure_pg_admin",
    );
    expect(String(response.body.detail)).toContain(flexSupportMatrix);
  });

  it("leaves a Single Server database owned by azure_pg_admin out of protecting every database, with the reason in the summary", async () => {
    // Arrange
    const secretUri = keyVault.setSecret("legacy", postgres.cluster.connectionUrl());

    // Act
    const started = await app.api("POST", "protections", {
      serverName: "pg-legacy",
      allDatabases: true,
      policyName: "weekly-db",
      secretUri,
    });
    const done = await poll(
      () => app.api("GET", `protections/${String(started.body.id)}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
    );

    // Assert
    expect(started.status).toBe(202);
    expect(done.body).toMatchObject({
      status: "Completed",
      outcome: "Failed",
      error: { code: "DATABASES_NOT_PROTECTED" },
      summary: {
        protected: [],
        skipped: [
          {
            databaseName: "ledger",
            code: "DATABASE_OWNED_BY_SERVICE_ROLE",
            message: expect.stringContaining(flexSupportMatrix),
            recommendedAction: expect.stringContaining('ALTER DATABASE "ledger" OWNER TO'),
          },
        ],
      },
    });
    expect(validationsOf(`${servers["pg-legacy"] ?? ""}/databases/ledger`)).toEqual([]);
  });
});
