import { beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../../../src/domain/errors.js";
import {
  createAzureServices,
  type AzureServices,
} from "../../../../src/providers/azure/azureServices.js";
import {
  FAKE_SUBSCRIPTION_ID,
  FakeArm,
  fakeArmCredential,
} from "../../../support/fakeArm/index.js";
import { useFakeArmContractCheck } from "../../../support/fakeArm/hooks.js";

describe("AzureResourceDirectory against the fake Resource Manager and Resource Graph", () => {
  let fake: FakeArm;
  let services: AzureServices;
  let flexId: string;
  let singleId: string;

  beforeAll(async () => {
    fake = await FakeArm.start({ subscriptionId: FAKE_SUBSCRIPTION_ID });
    flexId = fake.addPostgresServer({
      resourceGroup: "rg-db",
      name: "pg-orders",
      kind: "flexibleServers",
      tags: { backup: "weekly" },
      databases: ["orders", "postgres"],
    });
    singleId = fake.addPostgresServer({
      resourceGroup: "rg-old",
      name: "pg-legacy",
      kind: "servers",
      databases: ["empdb", "hrdb", "payroll"],
    });
    services = createAzureServices(
      {
        AZURE_SUBSCRIPTION_ID: FAKE_SUBSCRIPTION_ID,
        AZURE_RESOURCE_MANAGER_ENDPOINT: fake.url,
        AZURE_TOKEN_AUDIENCE: fake.url,
      },
      fakeArmCredential(),
      { tlsOptions: { ca: fake.ca } },
    );
  });

  useFakeArmContractCheck(() => fake);

  it("resolves a server by name, with its kind, location and tags", async () => {
    const server = await services.directory.resolveServer("PG-ORDERS");

    expect(server).toEqual({
      id: flexId,
      name: "pg-orders",
      kind: "flexibleServers",
      location: "westus",
      tags: { backup: "weekly" },
    });
  });

  it("resolves a database through the server's provider, and reports a missing one as not found", async () => {
    const database = await services.directory.resolveDatabase("pg-legacy", "hrdb");
    const missing = await services.directory
      .resolveDatabase("pg-legacy", "nope")
      .catch((e: unknown) => e);

    expect(database).toMatchObject({
      id: `${singleId}/databases/hrdb`,
      name: "hrdb",
      serverId: singleId,
      serverName: "pg-legacy",
    });
    expect(missing).toBeInstanceOf(AppError);
    expect((missing as AppError).httpStatus).toBe(404);
  });

  it("lists databases across pages, leaving out the service's own", async () => {
    const all = await services.directory.listDatabases();
    const legacy = await services.directory.listDatabases(singleId);

    expect(all.map((d) => d.name).sort()).toEqual([
      "empdb",
      "hrdb",
      "orders",
      "payroll",
      "postgres",
    ]);
    expect(legacy.map((d) => d.name)).toEqual(["empdb", "hrdb", "payroll"]);
  });

  it("reads tags of a server, and of a database as its server's", async () => {
    expect(await services.directory.getTags(flexId)).toEqual({ backup: "weekly" });
    expect(await services.directory.getTags(`${singleId}/databases/empdb`)).toEqual({});
  });

  it("reports every server as created first, then only new servers and tag changes", async () => {
    // Arrange
    const first = await services.directory.changesSince();
    fake.setTags(singleId, { backup: "monthly" });
    const newId = fake.addPostgresServer({
      resourceGroup: "rg-db",
      name: "pg-new",
      kind: "flexibleServers",
    });

    // Act
    const second = await services.directory.changesSince(first.watermark);
    const third = await services.directory.changesSince(second.watermark);

    // Assert
    expect(first.changes.map((c) => [c.resourceId, c.reason])).toEqual([
      [flexId, "created"],
      [singleId, "created"],
    ]);
    expect(second.changes.map((c) => [c.resourceId, c.reason, c.operationName])).toEqual([
      [newId, "created", "Microsoft.DBforPostgreSQL/flexibleServers/write"],
      [singleId, "tagsChanged", "Microsoft.DBforPostgreSQL/servers/write"],
    ]);
    expect(second.changes[1]?.tags).toEqual({ backup: "monthly" });
    expect(third.changes).toEqual([]);
  });

  it("refuses a watermark it did not give out", async () => {
    await expect(services.directory.changesSince("not-a-watermark")).rejects.toMatchObject({
      code: "INVALID_WATERMARK",
    });
  });
});
