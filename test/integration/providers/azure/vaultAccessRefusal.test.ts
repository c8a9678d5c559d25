import { beforeAll, describe, expect, it } from "vitest";
import {
  backupRoles,
  requiredVaultRoles,
  type VaultAccessChecker,
} from "../../../../src/providers/azure/vaultAccess.js";
import { rejection } from "../../../support/appError.js";
import {
  FAKE_SUBSCRIPTION_ID,
  FAKE_VAULT_PRINCIPAL_ID,
  FakeArm,
  vaultAccessCheckerAgainst,
} from "../../../support/fakeArm/index.js";
import { useFakeArmContractCheck } from "../../../support/fakeArm/hooks.js";
import { addUnprotectedServer, runProtection } from "../../../support/fakeArm/protectionRun.js";

const rg = `/subscriptions/${FAKE_SUBSCRIPTION_ID}/resourceGroups/rg-db`;

describe("a role grant Resource Manager refuses the app's identity, against the fake authorization API", () => {
  let fake: FakeArm;
  let checker: VaultAccessChecker;

  beforeAll(async () => {
    fake = await FakeArm.start({ subscriptionId: FAKE_SUBSCRIPTION_ID });
    checker = vaultAccessCheckerAgainst(fake);
  });

  useFakeArmContractCheck(() => fake);

  it("answers a refused server role with a 403 that is not retried, naming the role, the server, the principal and the command", async () => {
    // Arrange: the app's identity may assign nothing at all.
    fake.roleAssignmentCondition.limitTo([]);
    const principal = "44444444-0000-0000-0000-000000000001";
    const serverId = `${rg}/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg-one`;

    try {
      // Act
      const error = await rejection(
        checker.grantMissingRoles(principal, requiredVaultRoles(serverId)),
      );

      // Assert: one write tried, refused, and the next role not tried after it.
      expect(error).toMatchObject({
        code: "MISSING_REQUIRED_PERMISSIONS",
        httpStatus: 403,
        retryable: false,
        serviceCode: "AuthorizationFailed",
      });
      expect(error.message).toContain(
        `The Backup vault's identity ${principal} lacks 'PostgreSQL Flexible Server Long Term Retention Backup Role' on ${serverId}, and pgprotect's identity may not grant it`,
      );
      expect(error.recommendedAction).toContain(
        `az role assignment create --assignee-object-id ${principal} --assignee-principal-type ServicePrincipal --role "PostgreSQL Flexible Server Long Term Retention Backup Role" --scope ${serverId}`,
      );
      // Not a role the deployment binds to named vaults: no advice to name the vault there.
      expect(error.recommendedAction).not.toContain("existingBackupVaultPrincipalIds");
      expect(
        fake
          .requestsOf("RoleAssignments_PUT")
          .filter((r) => JSON.stringify(r.body).includes(principal))
          .map((r) => r.status),
      ).toEqual([403]);
      expect(fake.roleAssignments().filter((a) => a.principalId === principal)).toEqual([]);
    } finally {
      fake.roleAssignmentCondition.lift();
    }
  });

  it("says which roles it granted before the one refused", async () => {
    // Arrange: the server role may be granted, Reader may not.
    fake.roleAssignmentCondition.limitTo([
      { roleDefinitionGuids: [backupRoles.flexibleServerLtrBackup.id] },
    ]);
    const principal = "44444444-0000-0000-0000-000000000002";
    const serverId = `${rg}/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg-two`;

    try {
      // Act
      const error = await rejection(
        checker.grantMissingRoles(principal, requiredVaultRoles(serverId)),
      );

      // Assert
      expect(error.message).toContain(
        `lacks 'Reader' on ${rg}, and pgprotect's identity may not grant it`,
      );
      expect(error.message).toContain(
        `Meanwhile granted: 'PostgreSQL Flexible Server Long Term Retention Backup Role' on ${serverId}.`,
      );
      expect(
        fake
          .roleAssignments()
          .filter((a) => a.principalId === principal)
          .map((a) => a.scope),
      ).toEqual([serverId]);
    } finally {
      fake.roleAssignmentCondition.lift();
    }
  });

  it("grants Storage Blob Data Contributor to a principal the condition names and refuses it to another", async () => {
    // Arrange: the deployment's clause for the restore role, bound to one vault's identity.
    const named = "44444444-0000-0000-0000-000000000003";
    const other = "44444444-0000-0000-0000-000000000004";
    fake.roleAssignmentCondition.limitTo([
      {
        roleDefinitionGuids: [backupRoles.storageBlobDataContributor.id],
        principalIds: [named],
      },
    ]);
    const account = `/subscriptions/${FAKE_SUBSCRIPTION_ID}/resourceGroups/rg-restore/providers/Microsoft.Storage/storageAccounts/strestore`;
    const needs = [
      {
        roleName: backupRoles.storageBlobDataContributor.name,
        roleDefinitionGuid: backupRoles.storageBlobDataContributor.id,
        scope: account,
      },
    ];

    try {
      // Act
      const granted = await checker.grantMissingRoles(named, needs);
      const error = await rejection(checker.grantMissingRoles(other, needs));

      // Assert
      expect(granted.map((role) => role.roleName)).toEqual(["Storage Blob Data Contributor"]);
      expect(error.message).toContain(
        `The Backup vault's identity ${other} lacks 'Storage Blob Data Contributor' on ${account}`,
      );
      expect(error.recommendedAction).toContain(
        `add the vault's principal id ${other} to the deployment's existingBackupVaultPrincipalIds`,
      );
    } finally {
      fake.roleAssignmentCondition.lift();
    }
  });
});

describe("a protection with AUTO_GRANT_ROLE_ASSIGNMENTS whose grant Resource Manager refuses", () => {
  let fake: FakeArm;

  beforeAll(async () => {
    fake = await FakeArm.start({ subscriptionId: FAKE_SUBSCRIPTION_ID });
  });

  useFakeArmContractCheck(() => fake);

  it("fails at verifying access with the refused role and the command that grants it, and creates no backup instance", async () => {
    // Arrange: the app's identity may grant nothing; the vault's identity holds nothing on the server.
    const server = await addUnprotectedServer(fake, {
      vaultName: "vault-refused",
      resourceGroup: "rg-refused",
      serverName: "pg-refused",
    });
    const { serverId } = server;
    fake.roleAssignmentCondition.limitTo([]);

    try {
      // Act
      const run = await runProtection(server, { autoGrantRoleAssignments: true });

      // Assert
      expect(run.output.outcome).toBe("Failed");
      expect(run.output.error).toMatchObject({ code: "MISSING_REQUIRED_PERMISSIONS" });
      expect(run.output.error?.message).toContain(
        `lacks 'PostgreSQL Flexible Server Long Term Retention Backup Role' on ${serverId}, and pgprotect's identity may not grant it`,
      );
      expect(run.output.error?.recommendedAction).toContain(
        `az role assignment create --assignee-object-id ${FAKE_VAULT_PRINCIPAL_ID} --assignee-principal-type ServicePrincipal --role "PostgreSQL Flexible Server Long Term Retention Backup Role" --scope ${serverId}`,
      );
      // Refused once, not retried as if Resource Manager were out of reach.
      expect(fake.requestsOf("RoleAssignments_PUT").map((r) => r.status)).toEqual([403]);
      expect(run.activities).not.toContain("validateForBackup");
      expect(fake.requestsOf("BackupInstances_CreateOrUpdate")).toEqual([]);
    } finally {
      fake.roleAssignmentCondition.lift();
    }
  });
});
