import { describe, expect, it } from "vitest";
import {
  keyVaultUriOf,
  missingSecretPermissions,
} from "../../../../src/providers/azure/keyVaultAccess.js";

const principal = "11111111-2222-3333-4444-555555555555";

describe("keyVaultUriOf", () => {
  it("gives the vault URI Resource Manager records, with its trailing slash, for a secret with or without a version", () => {
    expect(keyVaultUriOf("https://kv-hr.vault.azure.net/secrets/hr")).toBe(
      "https://kv-hr.vault.azure.net/",
    );
    expect(keyVaultUriOf("https://kv-hr.vault.azure.net/secrets/hr/0123456789abcdef")).toBe(
      "https://kv-hr.vault.azure.net/",
    );
  });

  it("keeps a sovereign cloud's host", () => {
    expect(keyVaultUriOf("https://kv-cn.vault.azure.cn/secrets/hr")).toBe(
      "https://kv-cn.vault.azure.cn/",
    );
  });

  it("refuses what is not a Key Vault secret URI", () => {
    for (const uri of ["https://kv-hr.vault.azure.net/keys/hr", "kv-hr/secrets/hr"]) {
      expect(() => keyVaultUriOf(uri)).toThrow(
        expect.objectContaining({ code: "INVALID_SECRET_URI" }),
      );
    }
  });
});

describe("missingSecretPermissions", () => {
  it("names list when the identity's access policy gives get only, whatever the case", () => {
    expect(
      missingSecretPermissions(
        [{ objectId: principal.toUpperCase(), permissions: { secrets: ["Get", "Set"] } }],
        principal,
      ),
    ).toEqual(["list"]);
  });

  it("adds up the identity's entries and counts all as every permission", () => {
    expect(
      missingSecretPermissions(
        [
          { objectId: principal, permissions: { secrets: ["get"] } },
          { objectId: principal, permissions: { secrets: ["list"] } },
        ],
        principal,
      ),
    ).toEqual([]);
    expect(
      missingSecretPermissions(
        [{ objectId: principal, permissions: { secrets: ["all"] } }],
        principal,
      ),
    ).toEqual([]);
  });

  it("counts neither another principal's entry nor a compound entry for an application acting as the identity", () => {
    expect(
      missingSecretPermissions(
        [
          {
            objectId: "99999999-0000-0000-0000-000000000000",
            permissions: { secrets: ["get", "list"] },
          },
          {
            objectId: principal,
            applicationId: "aaaaaaaa-0000-0000-0000-000000000000",
            permissions: { secrets: ["get", "list"] },
          },
          { objectId: principal, permissions: { secrets: null } },
        ],
        principal,
      ),
    ).toEqual(["get", "list"]);
  });
});
