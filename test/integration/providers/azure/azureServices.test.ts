import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAzureServices } from "../../../../src/providers/azure/azureServices.js";
import {
  ArmRequestThrottle,
  type ThrottleClock,
} from "../../../../src/providers/azure/throttling.js";
import {
  FAKE_SUBSCRIPTION_ID,
  FAKE_VAULT_PRINCIPAL_ID,
  FakeArm,
  fakeArmCredential,
} from "../../../support/fakeArm/index.js";

describe("createAzureServices", () => {
  let fake: FakeArm;

  beforeAll(async () => {
    fake = await FakeArm.start({ subscriptionId: FAKE_SUBSCRIPTION_ID });
  });

  afterAll(async () => {
    await fake.stop();
  });

  it("points the clients at the configured endpoint and audience and shares one set of request buckets", async () => {
    // Arrange
    const vaultId = fake.addVault("rg", "vault-wired");
    const scopes: string[] = [];
    const credential = fakeArmCredential();
    const recording = {
      getToken: async (requested: string | string[]) => {
        scopes.push(...[requested].flat());
        return credential.getToken(requested);
      },
    };
    // A clock that stands still: the buckets do not refill, so what the clients drew stays visible.
    const stopped: ThrottleClock = { now: () => 0, sleep: () => Promise.resolve() };
    const throttle = new ArmRequestThrottle({ clock: stopped });
    const services = createAzureServices(
      {
        AZURE_SUBSCRIPTION_ID: FAKE_SUBSCRIPTION_ID,
        AZURE_RESOURCE_MANAGER_ENDPOINT: fake.url,
        AZURE_TOKEN_AUDIENCE: "https://management.core.chinacloudapi.cn/",
      },
      recording,
      { tlsOptions: { ca: fake.ca }, throttle },
    );
    const before = fake.requests.length;

    // Act
    const policies = await services.backup.listPolicies(vaultId);
    const jobs = await services.jobs.listJobs({ subscriptions: [FAKE_SUBSCRIPTION_ID] });

    // Assert
    expect(policies).toEqual([]);
    expect(jobs).toEqual([]);
    expect(new Set(scopes)).toEqual(new Set(["https://management.core.chinacloudapi.cn/.default"]));
    // Every read sent drew from the one reads bucket of the subscription the services share.
    const reads = fake.requests
      .slice(before)
      .filter(
        (r) =>
          r.method === "GET" &&
          r.path.toLowerCase().startsWith(`/subscriptions/${FAKE_SUBSCRIPTION_ID}/`.toLowerCase()),
      );
    expect(reads.length).toBeGreaterThan(0);
    expect(services.throttle).toBe(throttle);
    expect(
      services.throttle
        .bucketFor(`${fake.url}/subscriptions/${FAKE_SUBSCRIPTION_ID}`, "GET")
        .available(),
    ).toBe(250 - reads.length);
    expect(fake.violations).toEqual([]);
  });

  describe("the vault identity's roles", () => {
    const services = () =>
      createAzureServices(
        {
          AZURE_SUBSCRIPTION_ID: FAKE_SUBSCRIPTION_ID,
          AZURE_RESOURCE_MANAGER_ENDPOINT: fake.url,
          AZURE_TOKEN_AUDIENCE: fake.url,
        },
        fakeArmCredential(),
        { tlsOptions: { ca: fake.ca } },
      );
    const group = `/subscriptions/${FAKE_SUBSCRIPTION_ID}/resourceGroups/rg-roles`;

    it("names the roles the vault's identity lacks on a Flexible Server, then grants them at Resource Manager", async () => {
      // Arrange
      const vaultId = fake.addVault("rg", "vault-roles");
      const serverId = fake.addPostgresServer({
        resourceGroup: "rg-roles",
        name: "pg-roles",
        kind: "flexibleServers",
      });
      const access = services().access;
      const reads = () => fake.requestsOf("RoleAssignments_GET").length;
      const before = reads();

      // Act
      const missing = await access.missingRoles(vaultId, serverId);
      const readsOfOneCheck = reads() - before;
      const granted = await access.grantMissingRoles(vaultId, serverId);
      const after = await access.missingRoles(vaultId, serverId);

      // Assert
      const expected = [
        { roleName: "PostgreSQL Flexible Server Long Term Retention Backup Role", scope: serverId },
        { roleName: "Reader", scope: group },
      ];
      // One read at the server covers its resource group: Resource Manager lists what is above.
      expect(readsOfOneCheck).toBe(1);
      expect(missing).toEqual({ roles: expected, secretPermissions: [], unchecked: [] });
      expect(granted).toEqual({ roles: expected, secretPermissions: [], unchecked: [] });
      expect(after.roles).toEqual([]);
      expect(
        fake
          .roleAssignments()
          .filter((a) => a.principalId === FAKE_VAULT_PRINCIPAL_ID)
          .map((a) => a.scope),
      ).toEqual([serverId, group]);
      expect(fake.violations).toEqual([]);
    });

    it("refuses to check roles of a vault without a managed identity, naming the vault", async () => {
      const vaultId = fake.addVault("rg", "vault-anonymous", { identity: false });
      const before = fake.requests.length;

      const error = await services()
        .access.missingRoles(
          vaultId,
          `${group}/providers/Microsoft.DBforPostgreSQL/flexibleServers/x`,
        )
        .catch((e: unknown) => e);

      expect(error).toMatchObject({ code: "VAULT_IDENTITY_MISSING", httpStatus: 400 });
      expect((error as Error).message).toContain("vault-anonymous");
      expect(
        fake.requests.slice(before).filter((r) => r.operationId.startsWith("RoleAssignments")),
      ).toEqual([]);
    });
  });
});
