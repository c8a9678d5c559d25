import { describe, expect, it } from "vitest";
import { getVaultPosture, listVaultPostures } from "../../../src/application/vaultPosture.js";
import { createVaultDirectory } from "../../../src/composition.js";
import { AppError, NotFoundError } from "../../../src/domain/errors.js";
import type { VaultSecuritySettings } from "../../../src/domain/vault/posture.js";
import type { Provider } from "../../../src/providers/ports.js";
import { rejection } from "../../support/appError.js";

const vaultIdOf = (name: string) =>
  `/subscriptions/s1/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/${name}`;

const geoVault: VaultSecuritySettings = {
  redundancy: "GeoRedundant",
  immutability: "Locked",
  softDelete: { state: "AlwaysOn", retentionDays: 30 },
  crossRegionRestore: "Enabled",
  crossSubscriptionRestore: "PermanentlyDisabled",
  resourceGuard: { state: "Protected", resourceGuardIds: ["/guard"] },
  jobFailureAlerts: "Enabled",
};

/** Dependencies over vaults whose settings `read` answers (or fails with). */
function depsOver(names: string[], read: (vaultName: string) => VaultSecuritySettings) {
  return {
    config: { PGPROTECT_PROVIDER: "azure" as const },
    vaults: createVaultDirectory({
      BACKUP_VAULT_IDS: names.map(vaultIdOf).join(","),
      PGPROTECT_PROVIDER: "azure",
    }),
    provider: {
      backup: {},
      vaultSettings: {
        readVaultSettings: async (vaultId: string) => read(vaultId.split("/").pop() ?? ""),
      },
    } as unknown as Provider,
  };
}

describe("listVaultPostures", () => {
  it("lists every covered vault by name, a vault that cannot be read with its error", async () => {
    // Arrange
    const deps = depsOver(["vault-b", "vault-a"], (name) => {
      if (name === "vault-b")
        throw new AppError("AZURE_REQUEST_FAILED", "Forbidden", { httpStatus: 403 });
      return geoVault;
    });

    // Act
    const postures = await listVaultPostures(deps);

    // Assert
    expect(postures.map((p) => [p.name, p.meetsBaseline, p.error?.code])).toEqual([
      ["vault-a", true, undefined],
      ["vault-b", false, "AZURE_REQUEST_FAILED"],
    ]);
    expect(postures[1]?.settings).toBeNull();
  });

  it("fails the whole listing on a fault of the app's own, rather than hiding it in one vault", async () => {
    const deps = depsOver(["vault-a"], () => {
      throw new TypeError("cannot read properties of undefined");
    });

    const error = await rejection(listVaultPostures(deps));

    expect(error.code).toBe("INTERNAL");
  });
});

describe("getVaultPosture", () => {
  it("answers VAULT_NOT_FOUND for a configured vault the service does not have", async () => {
    const deps = depsOver(["vault-gone"], () => {
      throw new NotFoundError("RESOURCE_NOT_FOUND", "Backup vault 'vault-gone' not found");
    });

    const error = await rejection(getVaultPosture(deps, "vault-gone"));

    expect([error.httpStatus, error.code]).toEqual([404, "VAULT_NOT_FOUND"]);
    expect(error.recommendedAction).toContain("BACKUP_VAULT_IDS");
  });

  it("finds a covered vault whatever the case it is asked in, as Azure names ignore case", async () => {
    const deps = depsOver(["vault-a"], () => geoVault);

    const posture = await getVaultPosture(deps, "VAULT-A");

    expect([posture.name, posture.provider, posture.meetsBaseline]).toEqual([
      "vault-a",
      "azure",
      true,
    ]);
  });
});
