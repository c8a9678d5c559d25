import { describe, expect, it } from "vitest";
import {
  checkDatasourceAccess,
  checkPolicyFits,
  checkVaultRoles,
  resolveDatasource,
} from "../../../src/application/protectionChecks.js";
import { AppError, NotFoundError } from "../../../src/domain/errors.js";
import { compilePolicySpec } from "../../../src/domain/policy/spec.js";
import type { BackupPolicyResource } from "../../../src/domain/policy/types.js";
import {
  formatDatabaseId,
  formatVaultId,
  LOCAL_SCOPE,
} from "../../../src/domain/protection/ids.js";
import type {
  BackupPolicyPort,
  DirectoryDatabase,
  MissingRole,
  ResourceDirectoryPort,
  SecretPort,
  VaultAccessPort,
  VaultAccessReport,
} from "../../../src/providers/ports.js";

const vaultId = formatVaultId({ ...LOCAL_SCOPE, vaultName: "pgprotect-vault" });
const salesId = formatDatabaseId({
  ...LOCAL_SCOPE,
  kind: "servers",
  serverName: "local",
  databaseName: "sales",
});
const sales: DirectoryDatabase = {
  id: salesId,
  name: "sales",
  serverId: salesId.replace(/\/databases\/sales$/, ""),
  serverName: "local",
  location: "local",
  tags: { env: "prod" },
};

/** A directory with one server `local` holding one database `sales`. */
const directory = {
  resolveServer: async (name: string) => {
    if (name !== "local")
      throw new NotFoundError("RESOURCE_NOT_FOUND", `Server '${name}' was not found`);
    return { id: sales.serverId, name, kind: "servers", location: "local", tags: {} };
  },
  resolveDatabase: async (server: string, name: string) => {
    if (server !== "local" || name !== "sales")
      throw new NotFoundError(
        "RESOURCE_NOT_FOUND",
        `Database '${name}' was not found on server '${server}'`,
      );
    return sales;
  },
} as unknown as ResourceDirectoryPort;

const secrets = (values: Record<string, string>): SecretPort => ({
  getSecret: async (uri) =>
    values[uri] ?? Promise.reject(new NotFoundError("SECRET_NOT_FOUND", uri)),
  secretExists: async (uri) => uri in values,
});

const policies = (resources: Record<string, BackupPolicyResource>): BackupPolicyPort =>
  ({
    getPolicy: async (_vault: string, name: string) =>
      resources[name] ??
      Promise.reject(new NotFoundError("RESOURCE_NOT_FOUND", `no policy ${name}`)),
  }) as unknown as BackupPolicyPort;

const weekly: BackupPolicyResource = {
  id: `${vaultId}/backupPolicies/weekly`,
  name: "weekly",
  type: "Microsoft.DataProtection/backupVaults/backupPolicies",
  properties: compilePolicySpec({
    datasourceType: "AzureDatabaseForPostgreSQL",
    schedule: { days: ["Sunday"], time: "22:00" },
    retention: { default: "P3M" },
  }),
};

const rejection = async (promise: Promise<unknown>): Promise<AppError> => {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
};

describe("resolveDatasource", () => {
  it("finds a database by names and by id, alike", async () => {
    const byNames = await resolveDatasource(directory, {
      serverName: "local",
      databaseName: "sales",
    });
    const byId = await resolveDatasource(directory, { datasourceId: salesId });

    expect(byNames).toEqual(byId);
    expect(byNames).toMatchObject({
      kind: "database",
      friendlyName: "local/sales",
      tags: { env: "prod" },
    });
  });

  it("names a missing database DatasourceNotFound, with the directory's message and what to check", async () => {
    const error = await rejection(
      resolveDatasource(directory, { serverName: "local", databaseName: "ghost" }),
    );

    expect(error).toMatchObject({ code: "DATASOURCE_NOT_FOUND", httpStatus: 404 });
    expect(error.message).toContain("ghost");
    expect(error.recommendedAction).toContain("'ghost'");
  });

  it("refuses a reference that names nothing", async () => {
    const error = await rejection(resolveDatasource(directory, {}));

    expect(error).toMatchObject({ code: "DATASOURCE_UNNAMED", httpStatus: 400 });
  });
});

describe("checkDatasourceAccess", () => {
  const uri = "https://pgprotect-local.vault.azure.net/secrets/sales";
  const database = { kind: "database", friendlyName: "local/sales" } as const;

  it("passes a secret holding a PostgreSQL connection string", async () => {
    const checks = await checkDatasourceAccess(
      secrets({ [uri]: "postgresql://u:p@db:5432/sales" }),
      database,
      uri,
    );

    expect(checks).toEqual([
      "the secret exists",
      "the secret holds a PostgreSQL connection string",
    ]);
  });

  it("answers a missing secret with 404 SecretNotFound and how to create it", async () => {
    const error = await rejection(checkDatasourceAccess(secrets({}), database, uri));

    expect(error).toMatchObject({ code: "SECRET_NOT_FOUND", httpStatus: 404 });
    expect(error.recommendedAction).toContain("connection string");
  });

  it("answers a database without a secretUri with 400 SecretNotFound", async () => {
    const error = await rejection(checkDatasourceAccess(secrets({}), database, undefined));

    expect(error).toMatchObject({ code: "SECRET_REQUIRED", httpStatus: 400 });
  });

  it("refuses a secret that is no connection string, without echoing its value", async () => {
    const error = await rejection(
      checkDatasourceAccess(secrets({ [uri]: "hunter2-not-a-url" }), database, uri),
    );

    expect(error.httpStatus).toBe(400);
    expect(error.message).not.toContain("hunter2");
  });

  it("needs no secret for a whole Flexible Server", async () => {
    const checks = await checkDatasourceAccess(
      secrets({}),
      { kind: "server", friendlyName: "pg1" },
      undefined,
    );

    expect(checks).toEqual(["the vault's managed identity reads the server"]);
  });
});

describe("checkPolicyFits", () => {
  it("passes a policy of the vault made for the datasource's type", async () => {
    await expect(
      checkPolicyFits(
        policies({ weekly }),
        vaultId,
        "weekly",
        "Microsoft.DBforPostgreSQL/servers/databases",
      ),
    ).resolves.toContain("weekly");
  });

  it("answers a missing policy with 404 PolicyNotFound naming the PUT that creates it", async () => {
    const error = await rejection(
      checkPolicyFits(
        policies({}),
        vaultId,
        "monthly",
        "Microsoft.DBforPostgreSQL/servers/databases",
      ),
    );

    expect(error).toMatchObject({ code: "POLICY_NOT_FOUND", httpStatus: 404 });
    expect(error.recommendedAction).toBe(
      "Create it first: PUT /api/vaults/pgprotect-vault/policies/monthly",
    );
  });

  it("answers a policy made for another kind of datasource with 400 PolicyDatasourceTypeMismatch", async () => {
    const error = await rejection(
      checkPolicyFits(
        policies({ weekly }),
        vaultId,
        "weekly",
        "Microsoft.DBforPostgreSQL/flexibleServers",
      ),
    );

    expect(error).toMatchObject({ code: "POLICY_DATASOURCE_TYPE_MISMATCH", httpStatus: 400 });
  });
});

describe("checkVaultRoles", () => {
  const lacking: MissingRole[] = [
    { roleName: "Reader", scope: "/subscriptions/s/resourceGroups/rg-db" },
    { roleName: "Backup Role", scope: `${sales.serverId}` },
  ];
  const keyVaultId =
    "/subscriptions/s/resourceGroups/rg-kv/providers/Microsoft.KeyVault/vaults/kv-hr";
  const secretUri = "https://kv-hr.vault.azure.net/secrets/hr";
  /**
   * An access port whose identity lacks `missing` until they are granted, and whatever else
   * `beyond` reports (an access policy, what it left unchecked); it records the secret URIs asked.
   */
  const access = (
    missing: MissingRole[],
    beyond: Partial<Omit<VaultAccessReport, "roles">> = {},
  ) => {
    const granted: MissingRole[] = [];
    const asked: (string | undefined)[] = [];
    const report = (roles: MissingRole[]): VaultAccessReport => ({
      roles,
      secretPermissions: beyond.secretPermissions ?? [],
      unchecked: beyond.unchecked ?? [],
    });
    const port: VaultAccessPort = {
      missingRoles: async (_vault, _datasource, uri) => {
        asked.push(uri);
        return report(missing.filter((m) => !granted.includes(m)));
      },
      grantMissingRoles: async (_vault, _datasource, uri) => {
        asked.push(uri);
        const now = missing.filter((m) => !granted.includes(m));
        granted.push(...now);
        return report(now);
      },
    };
    return { port, granted, asked };
  };
  const datasource = { datasourceId: salesId, friendlyName: "local/sales" };

  it("passes when the vault's identity holds every role", async () => {
    const checks = await checkVaultRoles(access([]).port, vaultId, datasource, false);

    expect(checks).toEqual(["the vault pgprotect-vault's identity holds its roles on local/sales"]);
  });

  it("fails naming each missing role and its scope, with what to do, when it may not grant them", async () => {
    // Arrange
    const { port, granted } = access(lacking);

    // Act
    const error = await checkVaultRoles(port, vaultId, datasource, false).catch((e: unknown) => e);

    // Assert
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: "MISSING_REQUIRED_PERMISSIONS", httpStatus: 403 });
    expect((error as AppError).message).toContain(
      "'Reader' on /subscriptions/s/resourceGroups/rg-db",
    );
    expect((error as AppError).message).toContain(`'Backup Role' on ${sales.serverId}`);
    expect((error as AppError).recommendedAction).toMatch(
      /^Assign .* AUTO_GRANT_ROLE_ASSIGNMENTS=true/,
    );
    expect(granted).toEqual([]);
  });

  it("grants the missing roles and reports each one when allowed to", async () => {
    const { port, granted } = access(lacking);

    const checks = await checkVaultRoles(port, vaultId, datasource, true);

    expect(granted).toEqual(lacking);
    expect(checks).toEqual([
      "granted the vault pgprotect-vault's identity 'Reader' on /subscriptions/s/resourceGroups/rg-db",
      `granted the vault pgprotect-vault's identity 'Backup Role' on ${sales.serverId}`,
    ]);
  });

  it("asks the port about the database's secret, so that its key vault is checked too", async () => {
    const { port, asked } = access([]);

    await checkVaultRoles(port, vaultId, datasource, false, secretUri);
    await checkVaultRoles(port, vaultId, datasource, true, secretUri);

    expect(asked).toEqual([secretUri, secretUri]);
  });

  it("fails naming the key vault and the secret permissions its access policy lacks, with the command that adds them", async () => {
    // Arrange
    const { port } = access([], {
      secretPermissions: [{ keyVaultId, principalId: "p-1", permissions: ["list"] }],
    });

    // Act
    const error = await checkVaultRoles(port, vaultId, datasource, false, secretUri).catch(
      (e: unknown) => e,
    );

    // Assert
    expect(error).toMatchObject({ code: "MISSING_REQUIRED_PERMISSIONS", httpStatus: 403 });
    expect((error as AppError).message).toContain(
      `secret permissions list in the access policy of the key vault ${keyVaultId}`,
    );
    expect((error as AppError).recommendedAction).toMatch(/^Add get and list secret permissions/);
    expect((error as AppError).recommendedAction).toContain(
      "az keyvault set-policy --name kv-hr --object-id p-1 --secret-permissions get list --subscription s",
    );
  });

  it("names missing roles and a lacking access policy in one error", async () => {
    const { port } = access(lacking, {
      secretPermissions: [{ keyVaultId, principalId: "p-1", permissions: ["get", "list"] }],
    });

    const error = await checkVaultRoles(port, vaultId, datasource, false, secretUri).catch(
      (e: unknown) => e,
    );

    expect((error as AppError).message).toContain(
      "'Reader' on /subscriptions/s/resourceGroups/rg-db",
    );
    expect((error as AppError).message).toContain("secret permissions get, list");
    expect((error as AppError).recommendedAction).toMatch(
      /^Assign .*AUTO_GRANT_ROLE_ASSIGNMENTS=true.*; add get and list secret permissions .*az keyvault set-policy/,
    );
  });

  it("still fails on a lacking access policy when it may grant roles, saying what it granted", async () => {
    const { port, granted } = access(lacking, {
      secretPermissions: [{ keyVaultId, principalId: "p-1", permissions: ["get"] }],
    });

    const error = await checkVaultRoles(port, vaultId, datasource, true, secretUri).catch(
      (e: unknown) => e,
    );

    expect(granted).toEqual(lacking);
    expect(error).toMatchObject({ code: "MISSING_REQUIRED_PERMISSIONS", httpStatus: 403 });
    expect((error as AppError).message).toContain("secret permissions get in the access policy");
    expect((error as AppError).message).toContain(
      "granted the vault pgprotect-vault's identity 'Reader' on /subscriptions/s/resourceGroups/rg-db",
    );
    expect((error as AppError).recommendedAction).not.toContain("Assign");
  });

  it("passes with what it left to the service's validation", async () => {
    const unchecked =
      "the key vault https://kv-hr.vault.azure.net/ is not visible in Resource Graph: its permissions are left to the service's validation";
    const { port } = access([], { unchecked: [unchecked] });

    const checks = await checkVaultRoles(port, vaultId, datasource, false, secretUri);

    expect(checks).toEqual([
      "the vault pgprotect-vault's identity holds its roles on local/sales",
      unchecked,
    ]);
  });
});
