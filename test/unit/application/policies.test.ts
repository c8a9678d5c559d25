import { describe, expect, it } from "vitest";
import { createPolicy, getPolicy, listPolicies } from "../../../src/application/policies.js";
import { createVaultDirectory } from "../../../src/composition.js";
import { AppError } from "../../../src/domain/errors.js";
import { compilePolicySpec } from "../../../src/domain/policy/spec.js";
import type { BackupPolicy, BackupPolicyResource } from "../../../src/domain/policy/types.js";
import { formatVaultId, LOCAL_SCOPE } from "../../../src/domain/protection/ids.js";
import type { Provider } from "../../../src/providers/ports.js";

const vaultId = formatVaultId({ ...LOCAL_SCOPE, vaultName: "pgprotect-vault" });
const weekly = compilePolicySpec({
  datasourceType: "AzureDatabaseForPostgreSQL",
  schedule: { days: ["Sunday"], time: "22:00" },
  retention: { default: "P3M" },
});
const daily = compilePolicySpec({
  datasourceType: "AzureDatabaseForPostgreSQL",
  schedule: { days: ["Monday"], time: "01:00" },
  retention: { default: "P1M" },
});

/** The default local vault with the given policies, in memory; `racing` names one created meanwhile. */
function vaultWith(policies: Record<string, BackupPolicy>, racing?: string) {
  const stored = new Map(
    Object.entries(policies).map(([name, properties]) => [
      name,
      { id: `${vaultId}/backupPolicies/${name}`, name, properties } as BackupPolicyResource,
    ]),
  );
  const provider = {
    backup: {
      listVaultNames: async () => ["pgprotect-vault"],
      listPolicies: async () => [...stored.values()],
      getPolicy: async (_vault: string, name: string) => {
        const found = stored.get(name);
        if (!found) throw new AppError("POLICY_NOT_FOUND", "no such policy", { httpStatus: 404 });
        return found;
      },
      createPolicy: async (_vault: string, name: string, properties: BackupPolicy) => {
        if (name === racing)
          throw new AppError("AZURE_REQUEST_FAILED", "exists", {
            httpStatus: 409,
            serviceCode: "Conflict",
          });
        const created = { id: `${vaultId}/backupPolicies/${name}`, name, properties };
        stored.set(name, created);
        return created;
      },
    },
  } as unknown as Provider;
  const vaults = createVaultDirectory({ BACKUP_VAULT_IDS: undefined, PGPROTECT_PROVIDER: "local" });
  return { deps: { provider, vaults }, stored };
}

describe("createPolicy", () => {
  it("creates a policy under a new name", async () => {
    // Arrange
    const { deps, stored } = vaultWith({});

    // Act
    const outcome = await createPolicy(deps, "pgprotect-vault", "weekly", async () => weekly);

    // Assert
    expect(outcome).toMatchObject({ created: true, vaultName: "pgprotect-vault", name: "weekly" });
    expect(stored.has("weekly")).toBe(true);
  });

  it("answers the existing policy when the same one is asked for under the name in other case", async () => {
    // Arrange
    const { deps } = vaultWith({ weekly });

    // Act
    const outcome = await createPolicy(deps, "pgprotect-vault", "WEEKLY", async () => weekly);

    // Assert
    expect(outcome).toMatchObject({ created: false, name: "weekly" });
  });

  it("refuses other settings under an existing name with a 409 that says what to do", async () => {
    // Arrange
    const { deps } = vaultWith({ weekly });

    // Act
    const refused = createPolicy(deps, "pgprotect-vault", "weekly", async () => daily);

    // Assert
    await expect(refused).rejects.toMatchObject({
      code: "POLICY_UPDATE_NOT_SUPPORTED",
      httpStatus: 409,
      recommendedAction: expect.stringContaining("weekly-v2"),
    });
  });

  it("refuses a name another request created in between as it refuses other settings", async () => {
    // Arrange
    const { deps } = vaultWith({}, "weekly");

    // Act
    const refused = createPolicy(deps, "pgprotect-vault", "weekly", async () => weekly);

    // Assert
    await expect(refused).rejects.toMatchObject({ code: "POLICY_UPDATE_NOT_SUPPORTED" });
  });

  it("answers an unknown vault with a 404 without reading the policy", async () => {
    // Arrange
    const { deps } = vaultWith({});
    let read = false;

    // Act
    const refused = createPolicy(deps, "elsewhere", "weekly", async () => {
      read = true;
      return weekly;
    });

    // Assert
    await expect(refused).rejects.toMatchObject({ code: "VAULT_NOT_FOUND", httpStatus: 404 });
    expect(read).toBe(false);
  });
});

describe("getPolicy and listPolicies", () => {
  it("say which vault has no such policy", async () => {
    // Arrange
    const { deps } = vaultWith({ weekly });

    // Act
    const missing = getPolicy(deps, undefined, "monthly");

    // Assert
    await expect(missing).rejects.toMatchObject({
      code: "POLICY_NOT_FOUND",
      httpStatus: 404,
      message: "The vault 'pgprotect-vault' has no policy 'monthly'",
    });
  });

  it("list a vault's policies by name", async () => {
    // Arrange
    const { deps } = vaultWith({ weekly, daily });

    // Act
    const names = (await listPolicies(deps, undefined)).map((policy) => policy.name);

    // Assert
    expect(names).toEqual(["daily", "weekly"]);
  });
});
