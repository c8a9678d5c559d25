import { beforeAll, describe, expect, it } from "vitest";
import { problemResponse, type ProblemDetails } from "../../../../src/http/problemDetails.js";
import { backupRoles, requiredVaultRoles } from "../../../../src/providers/azure/vaultAccess.js";
import { rejection } from "../../../support/appError.js";
import {
  FAKE_SUBSCRIPTION_ID,
  FAKE_VAULT_PRINCIPAL_ID,
  FakeArm,
  vaultAccessCheckerAgainst,
} from "../../../support/fakeArm/index.js";
import { useFakeArmContractCheck } from "../../../support/fakeArm/hooks.js";
import { addUnprotectedServer, runProtection } from "../../../support/fakeArm/protectionRun.js";
import { FAKE_APP_IDENTITY } from "../../../support/fakeArm/roleAssignmentCondition.js";

const subscription = `/subscriptions/${FAKE_SUBSCRIPTION_ID}`;

/** A custom role's GUID: reads of backups and servers, nothing of Microsoft.Authorization. */
const narrowReader = "6d0a3b7e-2f41-4c8a-9e35-b1c4d7f2a860";

describe("a read Resource Manager refuses the app's identity, through the authorization SDK client", () => {
  let fake: FakeArm;

  beforeAll(async () => {
    fake = await FakeArm.start({ subscriptionId: FAKE_SUBSCRIPTION_ID });
  });

  useFakeArmContractCheck(() => fake);

  it("answers a 403 problem naming the scope and how to grant Reader there, after one request", async () => {
    // Arrange: the app's identity holds Reader on another group, none where the server is.
    const serverId = `${subscription}/resourceGroups/rg-unread/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg-unread`;
    fake.assignRole(
      `${subscription}/resourceGroups/rg-elsewhere`,
      backupRoles.reader.id,
      FAKE_APP_IDENTITY.objectId,
    );
    fake.callerReadAccess.enforce();
    const checker = vaultAccessCheckerAgainst(fake);
    const before = fake.requestsOf("RoleAssignments_GET").length;

    try {
      // Act
      const error = await rejection(
        checker.missingRoles(FAKE_VAULT_PRINCIPAL_ID, requiredVaultRoles(serverId)),
      );
      const problem = JSON.parse(String(problemResponse(error).body)) as ProblemDetails;

      // Assert
      expect(problem).toMatchObject({
        status: 403,
        code: "AUTHORIZATION_FAILED",
        serviceCode: "AuthorizationFailed",
        retryable: false,
      });
      expect(problem.detail).toContain(
        `does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/read' over scope '${serverId}/providers/Microsoft.Authorization'`,
      );
      expect(problem.recommendedAction).toContain(
        `az role assignment create --assignee-object-id ${FAKE_APP_IDENTITY.objectId} --assignee-principal-type ServicePrincipal --role "Reader" --scope ${serverId};`,
      );
      expect(
        fake
          .requestsOf("RoleAssignments_GET")
          .slice(before)
          .map((r) => r.status),
      ).toEqual([403]);
    } finally {
      fake.callerReadAccess.lift();
    }
  });
});

describe("a protection whose role check Resource Manager refuses to let the app read", () => {
  let fake: FakeArm;

  beforeAll(async () => {
    fake = await FakeArm.start({ subscriptionId: FAKE_SUBSCRIPTION_ID });
  });

  useFakeArmContractCheck(() => fake);

  it("fails at verifying access with the refusal, reading once instead of retrying as if Resource Manager were down", async () => {
    // Arrange: Reader on the vault's group; on the server, a custom role that reads its backup
    // instances and the server itself but not who holds which role there.
    const server = await addUnprotectedServer(fake, {
      vaultName: "vault-unread",
      resourceGroup: "rg-server-unread",
      serverName: "pg-server-unread",
    });
    const { serverId } = server;
    fake.assignRole(
      `${subscription}/resourceGroups/rg-backup`,
      backupRoles.reader.id,
      FAKE_APP_IDENTITY.objectId,
    );
    fake.callerReadAccess.defineRole(narrowReader, [
      "Microsoft.DataProtection/*/read",
      "Microsoft.DBforPostgreSQL/*/read",
    ]);
    fake.assignRole(serverId, narrowReader, FAKE_APP_IDENTITY.objectId);
    fake.callerReadAccess.enforce();

    try {
      // Act
      const run = await runProtection(server);

      // Assert
      expect(run.output.outcome).toBe("Failed");
      expect(run.output.error).toMatchObject({
        code: "AUTHORIZATION_FAILED",
        serviceCode: "AuthorizationFailed",
      });
      expect(run.output.error?.message).toContain(
        `perform action 'Microsoft.Authorization/roleAssignments/read' over scope '${serverId}/providers/Microsoft.Authorization'`,
      );
      expect(fake.requestsOf("RoleAssignments_GET").map((r) => r.status)).toEqual([403]);
      expect(run.activities).not.toContain("validateForBackup");
      expect(fake.requestsOf("BackupInstances_CreateOrUpdate")).toEqual([]);
    } finally {
      fake.callerReadAccess.lift();
    }
  });
});
