import { describe, expect, it } from "vitest";
import {
  requiredVaultRoles,
  scopesToList,
  type RoleRequirement,
} from "../../../../src/providers/azure/vaultAccess.js";

const rg = "/subscriptions/s1/resourceGroups/rg-db";
const flexId = `${rg}/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg-orders`;
const serverId = `${rg}/providers/Microsoft.DBforPostgreSQL/servers/pg-legacy`;
const keyVaultId = "/subscriptions/s1/resourceGroups/rg-kv/providers/Microsoft.KeyVault/vaults/kv";

const at = (scope: string): RoleRequirement => ({
  roleName: "Reader",
  roleDefinitionGuid: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
  scope,
});

describe("scopesToList", () => {
  it("lists a Flexible Server's roles at the server alone, since that read shows its resource group's too", () => {
    expect(scopesToList(requiredVaultRoles(flexId))).toEqual([flexId]);
  });

  it("lists a Single Server database's roles at the server and at its key vault, neither above the other", () => {
    expect(scopesToList(requiredVaultRoles(`${serverId}/databases/hr`, keyVaultId))).toEqual([
      serverId,
      keyVaultId,
    ]);
  });

  it("lists one scope once, whatever its case or trailing slash", () => {
    expect(scopesToList([at(flexId), at(`${flexId.toUpperCase()}/`)])).toEqual([flexId]);
  });

  it("does not take a sibling whose name starts alike for a descendant", () => {
    expect(scopesToList([at(rg), at(`${rg}-other`)])).toEqual([rg, `${rg}-other`]);
  });

  it("lists nothing for no requirements", () => {
    expect(scopesToList([])).toEqual([]);
  });
});
