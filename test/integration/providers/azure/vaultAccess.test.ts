import { beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../../../src/domain/errors.js";
import { createAzureBackupService } from "../../../../src/providers/azure/azureBackupService.js";
import {
  backupRoles,
  requiredVaultRoles,
  type VaultAccessChecker,
} from "../../../../src/providers/azure/vaultAccess.js";
import {
  FAKE_SUBSCRIPTION_ID,
  FakeArm,
  fakeArmCredential,
  vaultAccessCheckerAgainst,
} from "../../../support/fakeArm/index.js";
import { useFakeArmContractCheck } from "../../../support/fakeArm/hooks.js";

const VAULT_PRINCIPAL = "11111111-2222-3333-4444-555555555555";
const rg = `/subscriptions/${FAKE_SUBSCRIPTION_ID}/resourceGroups/rg-db`;
const flexId = `${rg}/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg-orders`;
const dbId = `${rg}/providers/Microsoft.DBforPostgreSQL/servers/pg-legacy/databases/empdb`;
const keyVaultId = `${rg}/providers/Microsoft.KeyVault/vaults/kv-pg`;

describe("the vault identity's roles against the fake authorization API", () => {
  let fake: FakeArm;
  let checker: VaultAccessChecker;

  beforeAll(async () => {
    fake = await FakeArm.start({ subscriptionId: FAKE_SUBSCRIPTION_ID });
    checker = vaultAccessCheckerAgainst(fake);
  });

  useFakeArmContractCheck(() => fake);

  it("names the Flexible Server role on the server and Reader on its resource group", () => {
    expect(requiredVaultRoles(flexId).map((r) => [r.roleName, r.scope])).toEqual([
      ["PostgreSQL Flexible Server Long Term Retention Backup Role", flexId],
      ["Reader", rg],
    ]);
    expect(requiredVaultRoles(dbId, keyVaultId).map((r) => [r.roleName, r.scope])).toEqual([
      ["Reader", `${rg}/providers/Microsoft.DBforPostgreSQL/servers/pg-legacy`],
      ["Key Vault Secrets User", keyVaultId],
    ]);
  });

  it("reads a Flexible Server's role assignments once, at the server, and still names the missing server role and resource group Reader", async () => {
    // Arrange: a principal holding nothing, so that both requirements are missing.
    const principal = "22222222-0000-0000-0000-000000000000";
    const before = fake.requestsOf("RoleAssignments_GET").length;

    // Act
    const missing = await checker.missingRoles(principal, requiredVaultRoles(flexId));

    // Assert
    const reads = fake.requestsOf("RoleAssignments_GET").slice(before);
    expect(reads.map((r) => r.path)).toEqual([
      `${flexId}/providers/Microsoft.Authorization/roleAssignments`,
    ]);
    expect(missing.map((m) => [m.roleName, m.scope])).toEqual([
      ["PostgreSQL Flexible Server Long Term Retention Backup Role", flexId],
      ["Reader", rg],
    ]);
  });

  it("sees a resource group's Reader through the one read at the server", async () => {
    const principal = "33333333-0000-0000-0000-000000000000";
    fake.assignRole(rg, backupRoles.reader.id, principal);

    const missing = await checker.missingRoles(principal, requiredVaultRoles(flexId));

    expect(missing.map((m) => m.roleName)).toEqual([
      "PostgreSQL Flexible Server Long Term Retention Backup Role",
    ]);
  });

  it("explains each missing role by name and scope", async () => {
    // Arrange: Reader is inherited from the subscription; the backup role is missing.
    fake.assignRole(
      `/subscriptions/${FAKE_SUBSCRIPTION_ID}`,
      backupRoles.reader.id,
      VAULT_PRINCIPAL,
    );

    // Act
    const error = await checker
      .assertRoles(VAULT_PRINCIPAL, requiredVaultRoles(flexId))
      .catch((e: unknown) => e);

    // Assert
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: "MISSING_REQUIRED_PERMISSIONS", httpStatus: 403 });
    expect((error as AppError).message).toContain(
      `'PostgreSQL Flexible Server Long Term Retention Backup Role' on ${flexId}`,
    );
    expect((error as AppError).message).not.toContain("'Reader'");
    expect((error as AppError).recommendedAction).toContain(VAULT_PRINCIPAL);
  });

  it("grants only what is missing to the vault's own identity, after which the check passes", async () => {
    const service = createAzureBackupService({
      credential: fakeArmCredential(),
      client: { endpoint: fake.url, tlsOptions: { ca: fake.ca } },
    });
    const vault = await service.getVault(fake.addVault("rg-backup", "vault-roles"));

    const granted = await checker.grantMissingRoles(
      vault.principalId ?? "",
      requiredVaultRoles(flexId),
    );

    await checker.assertRoles(VAULT_PRINCIPAL, requiredVaultRoles(flexId));
    expect(granted.map((r) => r.roleName)).toEqual([
      "PostgreSQL Flexible Server Long Term Retention Backup Role",
    ]);
    expect(fake.roleAssignments().filter((a) => a.principalId === VAULT_PRINCIPAL)).toHaveLength(2);
  });

  it("does not count another principal's or a sibling scope's assignment", async () => {
    fake.assignRole(
      keyVaultId,
      backupRoles.keyVaultSecretsUser.id,
      "99999999-0000-0000-0000-000000000000",
    );
    fake.assignRole(`${keyVaultId}-other`, backupRoles.keyVaultSecretsUser.id, VAULT_PRINCIPAL);

    const missing = await checker.missingRoles(
      VAULT_PRINCIPAL,
      requiredVaultRoles(dbId, keyVaultId),
    );

    expect(missing.map((m) => m.roleName)).toEqual(["Key Vault Secrets User"]);
  });
});
