import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  formatDatabaseId,
  formatServerId,
  LOCAL_SCOPE,
  resourceIdKey,
  sameResourceId,
} from "../../../../src/domain/protection/ids.js";
import {
  legacyProtectionInstanceId,
  protectionInstanceId,
  serverProtectionInstanceId,
} from "../../../../src/domain/protection/operationIds.js";

const databaseId = (databaseName: string, serverName = "local") =>
  formatDatabaseId({ ...LOCAL_SCOPE, kind: "servers", serverName, databaseName });

/** Any name PostgreSQL could hold: any case, any script, punctuation; no '/' (an id segment). */
const databaseName = fc
  .string({ unit: "grapheme", minLength: 1, maxLength: 30 })
  .filter((name) => !name.includes("/"));

/** The same id with its Azure names (subscription, group, provider, types, server) upper-cased. */
const azurePartsUpperCased = (id: string): string =>
  id.replace(/^.*\/databases\//, (arm) => arm.toUpperCase());

describe("protection operation ids", () => {
  it.each([
    ["Demo", "demo"],
    ["sales-eu", "sales_eu"],
    ["Ventes_Zoë_東京", "Ventes_Zoe_東京"],
  ])("gives %s and %s distinct operations, as PostgreSQL holds two databases", (a, b) => {
    // Act
    const first = protectionInstanceId(databaseId(a));
    const second = protectionInstanceId(databaseId(b));

    // Assert
    expect(first).not.toBe(second);
  });

  it("still knows the shared id earlier versions gave such databases, to look for their operations", () => {
    expect(legacyProtectionInstanceId(databaseId("Demo"))).toBe(
      legacyProtectionInstanceId(databaseId("demo")),
    );
    expect(legacyProtectionInstanceId(databaseId("Ventes_Zoë_東京"))).toBe(
      legacyProtectionInstanceId(databaseId("Ventes_Zoé_東京")),
    );
  });

  it("gives distinct databases distinct ids, whatever their case or characters (property)", () => {
    fc.assert(
      fc.property(databaseName, databaseName, (a, b) => {
        fc.pre(a !== b);
        expect(protectionInstanceId(databaseId(a))).not.toBe(protectionInstanceId(databaseId(b)));
      }),
      { numRuns: 2000 },
    );
  });

  it("gives one database one id, whatever the case of its Azure names (property)", () => {
    fc.assert(
      fc.property(databaseName, (name) => {
        const id = databaseId(name);
        expect(protectionInstanceId(azurePartsUpperCased(id))).toBe(protectionInstanceId(id));
        expect(protectionInstanceId(id)).toBe(protectionInstanceId(id));
      }),
    );
  });

  it("keeps every id a readable, bounded Durable instance id (property)", () => {
    fc.assert(
      fc.property(databaseName, (name) => {
        const id = protectionInstanceId(databaseId(name));
        expect(id).toMatch(/^protect-[a-z0-9-]+-[0-9a-f]{16}$/);
        expect(id.length).toBeLessThanOrEqual(100);
      }),
    );
  });

  it("reads the server and database in an id", () => {
    expect(protectionInstanceId(databaseId("Sales_EU"))).toMatch(
      /^protect-local-sales-eu-[0-9a-f]{16}$/,
    );
  });

  it("keeps a server's whole-server operation apart from its Flexible Server protection", () => {
    const serverId = formatServerId({ ...LOCAL_SCOPE, kind: "flexibleServers", serverName: "pg1" });

    expect(serverProtectionInstanceId(serverId)).toMatch(/^protect-server-pg1-[0-9a-f]{16}$/);
    expect(serverProtectionInstanceId(serverId)).not.toBe(protectionInstanceId(serverId));
    expect(serverProtectionInstanceId(serverId.toUpperCase())).toBe(
      serverProtectionInstanceId(serverId),
    );
  });
});

describe("resource id comparison", () => {
  it("compares Azure names without case and database names exactly", () => {
    expect(sameResourceId(databaseId("demo"), azurePartsUpperCased(databaseId("demo")))).toBe(true);
    expect(sameResourceId(databaseId("Demo"), databaseId("demo"))).toBe(false);
    expect(sameResourceId(databaseId("demo", "PG1"), databaseId("demo", "pg1"))).toBe(true);
    expect(resourceIdKey("not an id")).toBe("not an id");
  });
});
