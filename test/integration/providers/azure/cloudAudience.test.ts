import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../../../src/config.js";
import { createAzureServices } from "../../../../src/providers/azure/azureServices.js";
import {
  FAKE_SUBSCRIPTION_ID,
  FakeArm,
  fakeArmCredential,
} from "../../../support/fakeArm/index.js";

describe("the token audience the Azure clients ask for, from the settings", () => {
  let fake: FakeArm;

  beforeAll(async () => {
    fake = await FakeArm.start({ subscriptionId: FAKE_SUBSCRIPTION_ID });
  });

  afterAll(async () => {
    await fake.stop();
  });

  it("asks for tokens of the Resource Manager endpoint that alone is set, not of the public cloud", async () => {
    // Arrange: only the endpoint, as a sovereign or private Resource Manager is configured.
    const config = loadConfig({
      PGPROTECT_PROVIDER: "azure",
      AZURE_SUBSCRIPTION_ID: FAKE_SUBSCRIPTION_ID,
      EVENTGRID_TOPIC_ENDPOINT: "https://topic.example/api/events",
      AZURE_RESOURCE_MANAGER_ENDPOINT: fake.url,
    });
    const vaultId = fake.addVault("rg", "vault-sovereign");
    const scopes: string[] = [];
    const credential = fakeArmCredential();
    const services = createAzureServices(
      config,
      {
        getToken: async (requested: string | string[]) => {
          scopes.push(...[requested].flat());
          return credential.getToken(requested);
        },
      },
      { tlsOptions: { ca: fake.ca } },
    );

    // Act: Data Protection and Resource Graph, each with its own client.
    await services.backup.listPolicies(vaultId);
    await services.directory.listServers();

    // Assert
    expect(new Set(scopes)).toEqual(new Set([`${fake.url}/.default`]));
  });
});
