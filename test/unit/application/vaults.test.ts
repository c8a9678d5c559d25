import { describe, expect, it } from "vitest";
import { coveredVaultIds, existingVaultId } from "../../../src/application/vaults.js";
import { createVaultDirectory } from "../../../src/composition.js";
import { formatVaultId, LOCAL_SCOPE } from "../../../src/domain/protection/ids.js";
import type { Provider } from "../../../src/providers/ports.js";

const vaultId = (vaultName: string) => formatVaultId({ ...LOCAL_SCOPE, vaultName });
const azureVault =
  "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/prod";

/** A provider whose backup service lists the given vaults (the local provider's vaults on disk). */
const listing = (names?: string[]): Provider =>
  ({ backup: names ? { listVaultNames: async () => names } : {} }) as unknown as Provider;

describe("coveredVaultIds", () => {
  it("covers the configured vaults only, whatever the provider lists", async () => {
    // Arrange
    const vaults = createVaultDirectory({
      BACKUP_VAULT_IDS: azureVault,
      PGPROTECT_PROVIDER: "azure",
    });

    // Act
    const covered = await coveredVaultIds({ vaults, provider: listing(["other"]) });

    // Assert
    expect(covered).toEqual([azureVault]);
  });

  it("covers the default vault and every vault the local provider lists, once each", async () => {
    // Arrange
    const vaults = createVaultDirectory({
      BACKUP_VAULT_IDS: undefined,
      PGPROTECT_PROVIDER: "local",
    });

    // Act
    const covered = await coveredVaultIds({
      vaults,
      provider: listing(["pgprotect-vault", "archive"]),
    });

    // Assert
    expect(covered).toEqual([vaultId("pgprotect-vault"), vaultId("archive")]);
  });

  it("covers nothing when no vault is configured and the provider has no default", async () => {
    // Arrange
    const vaults = createVaultDirectory({
      BACKUP_VAULT_IDS: undefined,
      PGPROTECT_PROVIDER: "azure",
    });

    // Act
    const covered = await coveredVaultIds({ vaults, provider: listing() });

    // Assert
    expect(covered).toEqual([]);
  });
});

describe("existingVaultId", () => {
  it("answers a vault named in another case as the vault spells itself", async () => {
    // Arrange
    const vaults = createVaultDirectory({
      BACKUP_VAULT_IDS: undefined,
      PGPROTECT_PROVIDER: "local",
    });

    // Act
    const id = await existingVaultId({ vaults, provider: listing(["archive"]) }, "ARCHIVE");

    // Assert
    expect(id).toBe(vaultId("archive"));
  });

  it("refuses a well-formed vault that does not exist with VaultNotFound and the caller's remedy", async () => {
    // Arrange
    const vaults = createVaultDirectory({
      BACKUP_VAULT_IDS: undefined,
      PGPROTECT_PROVIDER: "local",
    });

    // Act
    const finding = existingVaultId(
      { vaults, provider: listing([]) },
      "nowhere",
      "$.vaultName",
      (name) => `create ${name}`,
    );

    // Assert
    await expect(finding).rejects.toMatchObject({
      code: "VAULT_NOT_FOUND",
      httpStatus: 404,
      recommendedAction: "create nowhere",
    });
  });
});
