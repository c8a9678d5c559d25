import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAzureServices } from "../../../../src/providers/azure/azureServices.js";
import {
  FAKE_SUBSCRIPTION_ID,
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
    const services = createAzureServices(
      {
        AZURE_SUBSCRIPTION_ID: FAKE_SUBSCRIPTION_ID,
        AZURE_RESOURCE_MANAGER_ENDPOINT: fake.url,
        AZURE_TOKEN_AUDIENCE: "https://management.core.chinacloudapi.cn/",
      },
      recording,
      { tlsOptions: { ca: fake.ca } },
    );

    // Act
    const policies = await services.backup.listPolicies(vaultId);
    const jobs = await services.jobs.listJobs({ subscriptions: [FAKE_SUBSCRIPTION_ID] });

    // Assert
    expect(policies).toEqual([]);
    expect(jobs).toEqual([]);
    expect(new Set(scopes)).toEqual(new Set(["https://management.core.chinacloudapi.cn/.default"]));
    expect(
      services.throttle
        .bucketFor(`${fake.url}/subscriptions/${FAKE_SUBSCRIPTION_ID}`, "GET")
        .available(),
    ).toBeLessThan(250);
    expect(fake.violations).toEqual([]);
  });
});
