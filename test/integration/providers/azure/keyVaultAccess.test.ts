import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createActivities } from "../../../../src/activities/createActivities.js";
import type { ActivityResult, ProtectionRequest } from "../../../../src/activities/names.js";
import { checkVaultRoles } from "../../../../src/application/protectionChecks.js";
import { AppError } from "../../../../src/domain/errors.js";
import { DATABASE_DATASOURCE_TYPE } from "../../../../src/domain/protection/naming.js";
import {
  createAzureServices,
  type AzureServices,
} from "../../../../src/providers/azure/azureServices.js";
import { backupRoles } from "../../../../src/providers/azure/vaultAccess.js";
import {
  assignVaultRoles,
  FAKE_SUBSCRIPTION_ID,
  FAKE_VAULT_PRINCIPAL_ID,
  FakeArm,
  fakeArmCredential,
  FakeKeyVault,
} from "../../../support/fakeArm/index.js";

const TOKEN = "fake-arm-token";

describe("a Single Server database's key vault, checked for the vault's identity against the fake Resource Manager", () => {
  let fake: FakeArm;
  let keyVault: FakeKeyVault;
  let services: AzureServices;
  let vaultId: string;
  let serverId: string;

  /** A database of the legacy server, as the checks name it. */
  const database = (name: string) => ({
    datasourceId: `${serverId}/databases/${name}`,
    friendlyName: `pg-legacy/${name}`,
  });
  /** Role-assignment writes at a scope and below. */
  const writesAt = (scope: string) =>
    fake
      .requestsOf("RoleAssignments_PUT")
      .filter((r) => r.path.toLowerCase().startsWith(`${scope.toLowerCase()}/`));
  const rejection = async (promise: Promise<unknown>): Promise<AppError> => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  };

  beforeAll(async () => {
    fake = await FakeArm.start({ subscriptionId: FAKE_SUBSCRIPTION_ID, token: TOKEN });
    keyVault = await FakeKeyVault.start(TOKEN);
    vaultId = fake.addVault("rg-backup", "vault-kv");
    serverId = fake.addPostgresServer({
      resourceGroup: "rg-legacy",
      name: "pg-legacy",
      kind: "servers",
      databases: ["hr", "payroll", "ledger", "audit", "archive", "crm"],
    });
    // Reader on the server is held: what follows is about the key vault alone.
    assignVaultRoles(fake, `${serverId}/databases/hr`);
    services = createAzureServices(
      {
        AZURE_SUBSCRIPTION_ID: FAKE_SUBSCRIPTION_ID,
        AZURE_RESOURCE_MANAGER_ENDPOINT: fake.url,
        AZURE_TOKEN_AUDIENCE: fake.url,
        AZURE_KEY_VAULT_DNS_SUFFIXES: ["127.0.0.1"],
      },
      fakeArmCredential(TOKEN),
      { tlsOptions: { ca: [fake.ca, keyVault.ca] } },
    );
  });

  afterEach(() => {
    expect(fake.violations).toEqual([]);
  });

  afterAll(async () => {
    await keyVault?.stop();
    await fake?.stop();
  });

  it("fails naming 'Key Vault Secrets User' and the RBAC key vault's id when the vault's identity lacks it, granting nothing", async () => {
    // Arrange
    const keyVaultId = fake.addKeyVault({ resourceGroup: "rg-kv", name: "kv-rbac", rbac: true });

    // Act
    const error = await rejection(
      checkVaultRoles(
        services.access,
        vaultId,
        database("hr"),
        false,
        "https://kv-rbac.vault.azure.net/secrets/hr",
      ),
    );

    // Assert
    expect(error).toMatchObject({ code: "MISSING_REQUIRED_PERMISSIONS", httpStatus: 403 });
    expect(error.message).toContain(`'Key Vault Secrets User' on ${keyVaultId}`);
    expect(error.message).not.toContain("'Reader'");
    expect(error.recommendedAction).toContain("AUTO_GRANT_ROLE_ASSIGNMENTS=true");
    expect(writesAt(keyVaultId)).toEqual([]);
  });

  it("grants Key Vault Secrets User at the RBAC key vault when allowed to, after which the check passes", async () => {
    // Arrange
    const keyVaultId = fake.addKeyVault({
      resourceGroup: "rg-kv",
      name: "kv-granted",
      rbac: true,
    });
    const secretUri = "https://kv-granted.vault.azure.net/secrets/payroll";

    // Act
    const checks = await checkVaultRoles(
      services.access,
      vaultId,
      database("payroll"),
      true,
      secretUri,
    );
    const after = await services.access.missingRoles(
      vaultId,
      database("payroll").datasourceId,
      secretUri,
    );

    // Assert
    expect(checks).toEqual([
      `granted the vault vault-kv's identity 'Key Vault Secrets User' on ${keyVaultId}`,
    ]);
    expect(writesAt(keyVaultId)).toHaveLength(1);
    expect(
      fake
        .roleAssignments()
        .filter((a) => a.scope === keyVaultId && a.principalId === FAKE_VAULT_PRINCIPAL_ID)
        .map((a) => a.roleDefinitionId.split("/").at(-1)),
    ).toEqual([backupRoles.keyVaultSecretsUser.id]);
    expect(after).toEqual({ roles: [], secretPermissions: [], unchecked: [] });
  });

  it("fails naming the key vault and the secret permission its access policy lacks, with the command that adds it, and grants nothing even when allowed to", async () => {
    // Arrange: get for the vault's identity; list only for someone else.
    const keyVaultId = fake.addKeyVault({
      resourceGroup: "rg-kv",
      name: "kv-policies",
      rbac: false,
      accessPolicies: [
        { objectId: FAKE_VAULT_PRINCIPAL_ID, permissions: { secrets: ["Get"] } },
        {
          objectId: "99999999-0000-0000-0000-000000000000",
          permissions: { secrets: ["get", "list"] },
        },
      ],
    });
    const writesBefore = fake.requestsOf("RoleAssignments_PUT").length;

    // Act
    const error = await rejection(
      checkVaultRoles(
        services.access,
        vaultId,
        database("ledger"),
        true,
        "https://kv-policies.vault.azure.net/secrets/ledger",
      ),
    );

    // Assert
    expect(error).toMatchObject({ code: "MISSING_REQUIRED_PERMISSIONS", httpStatus: 403 });
    expect(error.message).toContain(
      `secret permissions list in the access policy of the key vault ${keyVaultId}`,
    );
    expect(error.message).not.toContain("Key Vault Secrets User");
    expect(error.recommendedAction).toContain(
      `az keyvault set-policy --name kv-policies --object-id ${FAKE_VAULT_PRINCIPAL_ID} --secret-permissions get list`,
    );
    expect(fake.requestsOf("RoleAssignments_PUT")).toHaveLength(writesBefore);
  });

  it("passes an access-policy key vault that gives the vault's identity get and list, without asking for the role", async () => {
    fake.addKeyVault({
      resourceGroup: "rg-kv",
      name: "kv-allowed",
      rbac: false,
      accessPolicies: [
        { objectId: FAKE_VAULT_PRINCIPAL_ID, permissions: { secrets: ["get", "list"] } },
      ],
    });

    const checks = await checkVaultRoles(
      services.access,
      vaultId,
      database("audit"),
      false,
      "https://kv-allowed.vault.azure.net/secrets/audit",
    );

    expect(checks).toEqual(["the vault vault-kv's identity holds its roles on pg-legacy/audit"]);
  });

  it("passes a key vault Resource Graph does not show, saying its permissions are left to the service's validation", async () => {
    const checks = await checkVaultRoles(
      services.access,
      vaultId,
      database("archive"),
      false,
      "https://kv-elsewhere.vault.azure.net/secrets/archive",
    );

    expect(checks).toEqual([
      "the vault vault-kv's identity holds its roles on pg-legacy/archive",
      "the key vault https://kv-elsewhere.vault.azure.net/ is not visible in Resource Graph (another subscription, or no read access): its permissions for the vault's identity are left to the service's validation",
    ]);
  });

  it("asks Resource Graph once for an RBAC key vault many databases share, but reads an access-policy key vault again on each check so that a fix is seen", async () => {
    // Arrange
    const keyVaultId = fake.addKeyVault({ resourceGroup: "rg-kv", name: "kv-shared", rbac: true });
    assignVaultRoles(fake, database("hr").datasourceId, keyVaultId);
    fake.addKeyVault({
      resourceGroup: "rg-kv",
      name: "kv-policy-shared",
      rbac: false,
      accessPolicies: [
        { objectId: FAKE_VAULT_PRINCIPAL_ID, permissions: { secrets: ["get", "list"] } },
      ],
    });
    const queriesNaming = (name: string) =>
      fake
        .requestsOf("Resources")
        .filter((r) => JSON.stringify(r.body).includes(`https://${name}.vault.azure.net/`));
    const check = (keyVault: string, name: string) =>
      checkVaultRoles(
        services.access,
        vaultId,
        database(name),
        false,
        `https://${keyVault}.vault.azure.net/secrets/${name}`,
      );

    // Act
    await Promise.all(["hr", "payroll", "ledger"].map((name) => check("kv-shared", name)));
    await check("kv-shared", "audit");
    await check("kv-policy-shared", "hr");
    await check("kv-policy-shared", "payroll");

    // Assert
    expect(queriesNaming("kv-shared")).toHaveLength(1);
    expect(queriesNaming("kv-policy-shared")).toHaveLength(2);
  });

  it("checks the key vault of the protection's secret in the verifyAccess activity, after reading the secret", async () => {
    // Arrange: the fake Key Vault holds the secret; Resource Graph shows it as an RBAC key vault.
    const secretUri = keyVault.setSecret(
      "crm-connection",
      "postgresql://backup:pw@pg-legacy.postgres.database.azure.com/crm",
    );
    const keyVaultId = fake.addKeyVault({
      resourceGroup: "rg-kv",
      name: "kv-loopback",
      rbac: true,
      vaultUri: `${keyVault.url}/`,
    });
    const activities = createActivities({
      provider: services,
      events: { publish: async () => undefined },
      eventSource: "/pgprotect/test",
    });
    const request: ProtectionRequest = {
      vaultId,
      policyName: "oss-weekly",
      secretUri,
      datasource: {
        ...database("crm"),
        kind: "database",
        datasourceType: DATABASE_DATASOURCE_TYPE,
        serverName: "pg-legacy",
        databaseName: "crm",
        location: "westus",
        tags: {},
      },
    };

    // Act
    const result = (await activities.verifyAccess(request)) as ActivityResult<string[]>;

    // Assert
    expect(keyVault.authorizedRequests).toContain("/secrets/crm-connection/");
    expect(result).toMatchObject({ ok: false, code: "MISSING_REQUIRED_PERMISSIONS" });
    expect(result.ok ? "" : result.message).toContain(`'Key Vault Secrets User' on ${keyVaultId}`);
  });
});
