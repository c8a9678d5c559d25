import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  formatDatabaseId,
  formatRecoveryPointId,
  formatServerId,
  formatVaultChildId,
  formatVaultId,
  lastSegment,
  LOCAL_SCOPE,
  parseDatabaseId,
  parseRecoveryPointId,
  parseResourceId,
  parseServerId,
  parseVaultChildId,
  parseVaultId,
  sameResourceId,
} from "../../../../src/domain/protection/ids.js";

const name = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,20}$/);
const scope = fc.record({ subscriptionId: fc.uuid(), resourceGroup: name });

describe("ARM ids of protected resources", () => {
  it("formats a local database id exactly like Azure's", () => {
    expect(
      formatDatabaseId({
        ...LOCAL_SCOPE,
        kind: "servers",
        serverName: "local",
        databaseName: "sales",
      }),
    ).toBe(
      "/subscriptions/00000000-0000-0000-0000-00000000cafe/resourceGroups/pgprotect-local/providers/Microsoft.DBforPostgreSQL/servers/local/databases/sales",
    );
  });

  it("parses back every database, server, vault, job and recovery point id it formats", () => {
    fc.assert(
      fc.property(
        scope,
        name,
        name,
        fc.constantFrom("servers" as const, "flexibleServers" as const),
        (s, a, b, kind) => {
          expect(
            parseDatabaseId(formatDatabaseId({ ...s, kind, serverName: a, databaseName: b })),
          ).toEqual({ ...s, kind, serverName: a, databaseName: b });
          expect(parseServerId(formatServerId({ ...s, kind, serverName: a }))).toEqual({
            ...s,
            kind,
            serverName: a,
          });
          expect(parseVaultId(formatVaultId({ ...s, vaultName: a }))).toEqual({
            ...s,
            vaultName: a,
          });
          const job = { ...s, vaultName: a, childType: "backupJobs" as const, childName: b };
          expect(parseVaultChildId(formatVaultChildId(job), "backupJobs")).toEqual(job);
          const point = { ...s, vaultName: a, backupInstanceName: b, recoveryPointId: a };
          expect(parseRecoveryPointId(formatRecoveryPointId(point))).toEqual(point);
        },
      ),
    );
  });

  it("reads ids whatever their casing, as ARM does", () => {
    const id =
      "/SUBSCRIPTIONS/s/resourcegroups/rg/providers/microsoft.dataprotection/BackupVaults/v1";

    expect(parseVaultId(id)).toEqual({ subscriptionId: "s", resourceGroup: "rg", vaultName: "v1" });
    expect(
      sameResourceId(
        id,
        formatVaultId({ subscriptionId: "S", resourceGroup: "RG", vaultName: "V1" }),
      ),
    ).toBe(true);
    expect(
      parseServerId(
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/FLEXIBLESERVERS/x",
      ).kind,
    ).toBe("flexibleServers");
  });

  it.each([
    ["", "an empty string"],
    [
      "subscriptions/s/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/servers/x",
      "no leading slash",
    ],
    [
      "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/servers/x/",
      "a trailing slash",
    ],
    [
      "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/servers",
      "a type without a name",
    ],
    [
      "/subscriptions/s/groups/rg/providers/Microsoft.DBforPostgreSQL/servers/x",
      "a misspelt resourceGroups",
    ],
  ])("rejects %j (%s) with INVALID_RESOURCE_ID", (id) => {
    expect(() => parseResourceId(id)).toThrow(
      expect.objectContaining({ code: "INVALID_RESOURCE_ID" }),
    );
  });

  it("tells a server id from a database id and a vault child of the wrong type", () => {
    const server = formatServerId({ ...LOCAL_SCOPE, kind: "servers", serverName: "a" });
    const policy = formatVaultChildId({
      ...LOCAL_SCOPE,
      vaultName: "v",
      childType: "backupPolicies",
      childName: "p",
    });

    expect(() => parseDatabaseId(server)).toThrow(
      expect.objectContaining({ code: "INVALID_RESOURCE_ID" }),
    );
    expect(() => parseVaultChildId(policy, "backupJobs")).toThrow(
      expect.objectContaining({ code: "INVALID_RESOURCE_ID" }),
    );
    expect(() => formatVaultId({ ...LOCAL_SCOPE, vaultName: "a/b" })).toThrow(
      expect.objectContaining({ code: "INVALID_RESOURCE_NAME" }),
    );
  });

  it("names what an id names by its last segment, and nothing for an id without one", () => {
    const names = [
      "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/v/backupPolicies/daily",
      "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/v/",
      "local/sales",
      "sales",
      "",
      "//",
    ].map(lastSegment);

    expect(names).toEqual(["daily", "v", "sales", "sales", undefined, undefined]);
  });
});
