import { beforeAll, describe, expect, it } from "vitest";
import {
  createVaultAccessChecker,
  requiredVaultRoles,
} from "../../../../src/providers/azure/vaultAccess.js";
import {
  FAKE_SUBSCRIPTION_ID,
  FakeArm,
  fakeArmCredential,
} from "../../../support/fakeArm/index.js";
import { useFakeArmContractCheck } from "../../../support/fakeArm/hooks.js";

describe("two grants of the same roles at once, against the fake authorization API", () => {
  let fake: FakeArm;

  beforeAll(async () => {
    fake = await FakeArm.start({ subscriptionId: FAKE_SUBSCRIPTION_ID });
  });

  useFakeArmContractCheck(() => fake);

  it("both succeed when Resource Manager answers the second that the assignment already exists, leaving one assignment per role", async () => {
    // Arrange: two protections of databases of one server check the same vault identity at once.
    const principal = "44444444-0000-0000-0000-0000000000c1";
    const serverId = `/subscriptions/${FAKE_SUBSCRIPTION_ID}/resourceGroups/rg-both/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg-both`;
    const checker = () =>
      createVaultAccessChecker({
        credential: fakeArmCredential(),
        subscriptionId: FAKE_SUBSCRIPTION_ID,
        endpoint: fake.url,
        tlsOptions: { ca: fake.ca },
      });
    const [first, second] = [checker(), checker()];
    const needs = requiredVaultRoles(serverId);

    // Act
    const granted = await Promise.all([
      first.grantMissingRoles(principal, needs),
      second.grantMissingRoles(principal, needs),
    ]);

    // Assert: each role granted once, by one of them; the other was told it exists.
    const writes = fake
      .requestsOf("RoleAssignments_PUT")
      .filter((r) => JSON.stringify(r.body).includes(principal));
    expect(writes.map((w) => w.status).filter((status) => status === 409).length).toBeGreaterThan(
      0,
    );
    expect(
      granted
        .flat()
        .map((role) => role.roleName)
        .sort(),
    ).toEqual(needs.map((role) => role.roleName).sort());
    expect(
      fake
        .roleAssignments()
        .filter((a) => a.principalId === principal)
        .map((a) => a.roleDefinitionId.split("/").at(-1))
        .sort(),
    ).toEqual(needs.map((role) => role.roleDefinitionGuid).sort());
    expect(await first.missingRoles(principal, needs)).toEqual([]);
  });
});
