import { describe, expect, it } from "vitest";
import {
  autoProtectDecision,
  autoProtectTargetOf,
  readResourceWriteEvent,
} from "../../../../src/domain/plans/autoProtect.js";

const sub = "/subscriptions/00000000-0000-0000-0000-00000000cafe/resourceGroups/rg/providers";
const databaseId = `${sub}/Microsoft.DBforPostgreSQL/servers/pg1/databases/sales`;
const flexibleId = `${sub}/Microsoft.DBforPostgreSQL/flexibleServers/pg2`;
const settings = { tagName: "pgprotect-policy", keyVaultName: "kv-app" };

describe("reading resource write events", () => {
  it("reads a CloudEvent's type and the resource from its data", () => {
    const event = {
      specversion: "1.0",
      id: "e1",
      type: "Microsoft.Resources.ResourceWriteSuccess",
      source: "/subscriptions/x",
      subject: databaseId,
      data: {
        resourceUri: databaseId,
        operationName: "Microsoft.DBforPostgreSQL/servers/databases/write",
      },
    };

    expect(readResourceWriteEvent(event)).toEqual({
      id: "e1",
      type: "Microsoft.Resources.ResourceWriteSuccess",
      resourceId: databaseId,
      operationName: "Microsoft.DBforPostgreSQL/servers/databases/write",
    });
  });

  it("reads an Event Grid schema event, and a tags write as a write of the tagged resource", () => {
    const event = {
      id: "e2",
      eventType: "Microsoft.Resources.ResourceWriteSuccess",
      subject: `${flexibleId}/providers/Microsoft.Resources/tags/default`,
      data: {},
    };

    expect(readResourceWriteEvent(event)).toMatchObject({
      type: "Microsoft.Resources.ResourceWriteSuccess",
      resourceId: flexibleId,
    });
  });

  it("gives nothing for what is not an event", () => {
    expect(readResourceWriteEvent("hello")).toBeUndefined();
    expect(readResourceWriteEvent({ id: "x" })).toBeUndefined();
  });
});

describe("deciding what to protect", () => {
  it("protects a tagged database with the tagged policy and its conventional secret", () => {
    const decision = autoProtectDecision(
      autoProtectTargetOf(databaseId),
      { "pgprotect-policy": "weekly" },
      settings,
    );

    expect(decision).toEqual({
      action: "protect",
      request: {
        datasourceId: databaseId,
        policyName: "weekly",
        secretUri: "https://kv-app.vault.azure.net/secrets/pg1-sales",
      },
    });
  });

  it("takes the secret from the pgprotect-secret tag, as a name or a full URI", () => {
    const byName = autoProtectDecision(
      autoProtectTargetOf(databaseId),
      { "PgProtect-Policy": "weekly", "pgprotect-secret": "sales-conn" },
      settings,
    );
    const byUri = autoProtectDecision(
      autoProtectTargetOf(databaseId),
      {
        "pgprotect-policy": "weekly",
        "pgprotect-secret": "https://other.vault.azure.net/secrets/s",
      },
      settings,
    );

    expect(byName).toMatchObject({
      request: { secretUri: "https://kv-app.vault.azure.net/secrets/sales-conn" },
    });
    expect(byUri).toMatchObject({
      request: { secretUri: "https://other.vault.azure.net/secrets/s" },
    });
  });

  it("protects a tagged Flexible Server whole, with no secret", () => {
    expect(
      autoProtectDecision(
        autoProtectTargetOf(flexibleId),
        { "pgprotect-policy": "flex-weekly" },
        settings,
      ),
    ).toEqual({
      action: "protect",
      request: { datasourceId: flexibleId, policyName: "flex-weekly" },
    });
  });

  it("ignores untagged resources and other resource types, saying why", () => {
    const untagged = autoProtectDecision(autoProtectTargetOf(databaseId), { owner: "a" }, settings);
    const storage = autoProtectDecision(
      autoProtectTargetOf(`${sub}/Microsoft.Storage/storageAccounts/st1`),
      { "pgprotect-policy": "weekly" },
      settings,
    );
    const singleServer = autoProtectDecision(
      autoProtectTargetOf(`${sub}/Microsoft.DBforPostgreSQL/servers/pg1`),
      { "pgprotect-policy": "weekly" },
      settings,
    );

    expect(untagged).toEqual({
      action: "ignore",
      reason: `${databaseId} has no 'pgprotect-policy' tag`,
    });
    expect(storage).toMatchObject({
      action: "ignore",
      reason: expect.stringContaining("not a PostgreSQL resource"),
    });
    const flexibleDatabase = autoProtectDecision(
      autoProtectTargetOf(`${flexibleId}/databases/app`),
      { "pgprotect-policy": "weekly" },
      settings,
    );
    expect(flexibleDatabase).toMatchObject({
      action: "ignore",
      reason: expect.stringContaining("tag the server"),
    });
    expect(singleServer).toMatchObject({
      action: "ignore",
      reason: expect.stringContaining("databases one by one"),
    });
  });
});
