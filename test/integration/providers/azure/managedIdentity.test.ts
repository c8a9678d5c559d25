import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAzureServices } from "../../../../src/providers/azure/azureServices.js";
import { FAKE_SUBSCRIPTION_ID, FakeArm } from "../../../support/fakeArm/index.js";
import { FakeManagedIdentity } from "../../../support/fakeArm/fakeManagedIdentity.js";

describe("the Azure provider with its default credential", () => {
  let fake: FakeArm;
  let identity: FakeManagedIdentity;
  const saved = {
    endpoint: process.env["IDENTITY_ENDPOINT"],
    header: process.env["IDENTITY_HEADER"],
  };

  beforeAll(async () => {
    fake = await FakeArm.start({
      subscriptionId: FAKE_SUBSCRIPTION_ID,
      token: "token-from-managed-identity",
    });
    identity = await FakeManagedIdentity.start("token-from-managed-identity");
    // @azure/identity reads these itself, as it does inside Azure Functions.
    process.env["IDENTITY_ENDPOINT"] = identity.endpoint;
    process.env["IDENTITY_HEADER"] = identity.header;
  });

  afterAll(async () => {
    for (const [name, value] of [
      ["IDENTITY_ENDPOINT", saved.endpoint],
      ["IDENTITY_HEADER", saved.header],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await identity.stop();
    await fake.stop();
  });

  it("authenticates with the Function app's managed identity for the configured audience", async () => {
    // Arrange
    const vaultId = fake.addVault("rg", "vault-mi");
    const services = createAzureServices(
      {
        AZURE_SUBSCRIPTION_ID: FAKE_SUBSCRIPTION_ID,
        AZURE_RESOURCE_MANAGER_ENDPOINT: fake.url,
        AZURE_TOKEN_AUDIENCE: "https://management.azure.com",
      },
      undefined,
      { tlsOptions: { ca: fake.ca } },
    );

    // Act
    const vault = await services.backup.getVault(vaultId);

    // Assert
    expect(vault).toMatchObject({
      name: "vault-mi",
      location: "westus",
      principalId: "11111111-2222-3333-4444-555555555555",
    });
    expect(identity.requests.map((r) => r.resource)).toContain("https://management.azure.com");
    expect(fake.violations).toEqual([]);
  });
});
