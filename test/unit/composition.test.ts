import { describe, expect, it } from "vitest";
import { createVaultDirectory } from "../../src/composition.js";
import { AppError } from "../../src/domain/errors.js";

/** The error `resolve` throws, for its fields. */
function refusal(resolve: () => string): AppError {
  try {
    resolve();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error("resolve answered instead of refusing");
}

describe("createVaultDirectory", () => {
  it("tells an Azure deployment without BACKUP_VAULT_IDS to set it, not to pick from an empty list", () => {
    // Arrange
    const vaults = createVaultDirectory({ PGPROTECT_PROVIDER: "azure" });

    // Act
    const error = refusal(() => vaults.resolve("prod-vault"));

    // Assert
    expect(error.code).toBe("VAULT_NOT_CONFIGURED");
    expect(error.message).toContain("prod-vault");
    expect(error.recommendedAction).not.toContain("one of ,");
    expect(error.recommendedAction).toContain("BACKUP_VAULT_IDS");
  });

  it("names the configured vaults when the one asked for is not among them", () => {
    // Arrange
    const vaults = createVaultDirectory({
      PGPROTECT_PROVIDER: "azure",
      BACKUP_VAULT_IDS:
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/main",
    });

    // Act
    const error = refusal(() => vaults.resolve("prod-vault"));

    // Assert
    expect(error.recommendedAction).toContain("Use one of main");
  });
});
