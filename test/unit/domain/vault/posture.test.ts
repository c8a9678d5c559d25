import { describe, expect, it } from "vitest";
import { isErrorCode } from "../../../../src/domain/errorCodes.js";
import {
  assessVaultPosture,
  type VaultSecuritySettings,
} from "../../../../src/domain/vault/posture.js";

const vault = { vaultName: "vault-pg", resourceGroup: "rg-backup" };

/** A vault that meets the baseline, for tests to weaken one setting at a time. */
const hardened: VaultSecuritySettings = {
  redundancy: "GeoRedundant",
  immutability: "Unlocked",
  softDelete: { state: "On", retentionDays: 14 },
  crossRegionRestore: "Enabled",
  crossSubscriptionRestore: "Disabled",
  resourceGuard: {
    state: "Protected",
    resourceGuardIds: [
      "/subscriptions/x/resourceGroups/rg/providers/Microsoft.DataProtection/resourceGuards/guard",
    ],
  },
  jobFailureAlerts: "Enabled",
};

const unknownEverywhere: VaultSecuritySettings = {
  redundancy: "unknown",
  immutability: "unknown",
  softDelete: { state: "unknown", retentionDays: null },
  crossRegionRestore: "unknown",
  crossSubscriptionRestore: "unknown",
  resourceGuard: { state: "unknown", resourceGuardIds: [] },
  jobFailureAlerts: "unknown",
};

const codesOf = (settings: VaultSecuritySettings) =>
  assessVaultPosture(settings, vault).warnings.map((w) => w.code);

describe("assessVaultPosture", () => {
  it("finds nothing to warn of in a vault that meets the baseline", () => {
    // Arrange, Act
    const posture = assessVaultPosture(hardened, vault);

    // Assert
    expect(posture.warnings).toEqual([]);
    expect(posture.meetsBaseline).toBe(true);
  });

  it("accepts locked immutability and always-on soft delete with a longer retention", () => {
    expect(
      codesOf({
        ...hardened,
        immutability: "Locked",
        softDelete: { state: "AlwaysOn", retentionDays: 90 },
        crossSubscriptionRestore: "PermanentlyDisabled",
      }),
    ).toEqual([]);
  });

  it("warns of soft delete off and immutability disabled, high first, each saying what to change", () => {
    // Arrange
    const weak: VaultSecuritySettings = {
      ...hardened,
      softDelete: { state: "Off", retentionDays: 14 },
      immutability: "Disabled",
    };

    // Act
    const posture = assessVaultPosture(weak, vault);

    // Assert
    expect(posture.meetsBaseline).toBe(false);
    expect(posture.warnings.map((w) => [w.code, w.severity, w.found])).toEqual([
      ["VAULT_SOFT_DELETE_OFF", "high", "Off"],
      ["VAULT_IMMUTABILITY_DISABLED", "high", "Disabled"],
    ]);
    const [softDelete, immutability] = posture.warnings;
    expect(softDelete?.change).toContain(
      "az dataprotection backup-vault update --resource-group rg-backup --vault-name vault-pg --soft-delete-state On --retention-duration-in-days 14",
    );
    expect(softDelete?.change).toContain("backupVaultSoftDeleteState");
    expect(softDelete?.why).toMatch(/ransomware/);
    expect(immutability?.change).toContain("--immutability-state Unlocked");
    expect(immutability?.change).toContain("backupVaultImmutabilityState");
  });

  it("warns of a soft-delete retention shorter than the baseline's, naming both", () => {
    const [warning] = assessVaultPosture(
      { ...hardened, softDelete: { state: "On", retentionDays: 7 } },
      vault,
    ).warnings;

    expect(warning).toMatchObject({
      code: "VAULT_SOFT_DELETE_RETENTION_SHORT",
      found: "7 days",
      recommended: "14 days or more",
    });
  });

  it("takes the minimum retention from the baseline it is given", () => {
    const settings = { ...hardened, softDelete: { state: "On" as const, retentionDays: 14 } };

    expect(
      assessVaultPosture(settings, vault, { minimumSoftDeleteRetentionDays: 30 }).warnings.map(
        (w) => w.code,
      ),
    ).toEqual(["VAULT_SOFT_DELETE_RETENTION_SHORT"]);
  });

  it("rates locally redundant storage high and zone-redundant medium, for the loss of a region", () => {
    const local = assessVaultPosture({ ...hardened, redundancy: "LocallyRedundant" }, vault);
    const zone = assessVaultPosture({ ...hardened, redundancy: "ZoneRedundant" }, vault);

    expect(local.warnings).toEqual([
      expect.objectContaining({ code: "VAULT_NOT_GEO_REDUNDANT", severity: "high" }),
    ]);
    expect(zone.warnings).toEqual([
      expect.objectContaining({ code: "VAULT_NOT_GEO_REDUNDANT", severity: "medium" }),
    ]);
    expect(local.warnings[0]?.why).toMatch(/region/);
    expect(local.warnings[0]?.change).toContain("backupVaultRedundancy = 'GeoRedundant'");
  });

  it("asks for cross-region restore only of a geo-redundant vault", () => {
    expect(codesOf({ ...hardened, crossRegionRestore: "Disabled" })).toEqual([
      "VAULT_CROSS_REGION_RESTORE_DISABLED",
    ]);
    expect(
      codesOf({ ...hardened, redundancy: "LocallyRedundant", crossRegionRestore: "Disabled" }),
    ).toEqual(["VAULT_NOT_GEO_REDUNDANT"]);
  });

  it("warns of a missing resource guard, restores into other subscriptions, and alerts off", () => {
    expect(
      codesOf({
        ...hardened,
        resourceGuard: { state: "NotProtected", resourceGuardIds: [] },
        crossSubscriptionRestore: "Enabled",
        jobFailureAlerts: "Disabled",
      }),
    ).toEqual([
      "VAULT_RESOURCE_GUARD_MISSING",
      "VAULT_CROSS_SUBSCRIPTION_RESTORE_ENABLED",
      "VAULT_JOB_FAILURE_ALERTS_DISABLED",
    ]);
  });

  it("reports every setting the vault's answer leaves out as unknown, never as safe", () => {
    // Arrange, Act
    const posture = assessVaultPosture(unknownEverywhere, vault);

    // Assert: cross-region restore is judged only once the vault is known to be geo-redundant.
    expect(posture.meetsBaseline).toBe(false);
    expect(posture.warnings.map((w) => [w.code, w.setting, w.found])).toEqual([
      ["VAULT_SETTING_UNKNOWN", "redundancy", "unknown"],
      ["VAULT_SETTING_UNKNOWN", "softDelete", "unknown"],
      ["VAULT_SETTING_UNKNOWN", "immutability", "unknown"],
      ["VAULT_SETTING_UNKNOWN", "resourceGuard", "unknown"],
      ["VAULT_SETTING_UNKNOWN", "crossSubscriptionRestore", "unknown"],
      ["VAULT_SETTING_UNKNOWN", "jobFailureAlerts", "unknown"],
    ]);
  });

  it("reports a soft delete that is on but states no retention as an unknown retention", () => {
    expect(
      assessVaultPosture({ ...hardened, softDelete: { state: "On", retentionDays: null } }, vault)
        .warnings,
    ).toEqual([
      expect.objectContaining({
        code: "VAULT_SETTING_UNKNOWN",
        setting: "softDelete.retentionDays",
      }),
    ]);
  });

  it("judges the local vault by what applies to one disk: its redundancy and immutability only", () => {
    // Arrange
    const localVault: VaultSecuritySettings = {
      redundancy: "LocalDisk",
      immutability: "NotAvailable",
      softDelete: { state: "On", retentionDays: 14 },
      crossRegionRestore: "NotAvailable",
      crossSubscriptionRestore: "NotAvailable",
      resourceGuard: { state: "NotAvailable", resourceGuardIds: [] },
      jobFailureAlerts: "NotAvailable",
    };

    // Act
    const posture = assessVaultPosture(localVault, { ...vault, local: true });

    // Assert
    expect(posture.warnings.map((w) => [w.code, w.found])).toEqual([
      ["VAULT_NOT_GEO_REDUNDANT", "LocalDisk"],
      ["VAULT_IMMUTABILITY_DISABLED", "NotAvailable"],
    ]);
    expect(posture.warnings.every((w) => !w.change.includes("az dataprotection"))).toBe(true);
  });

  it("states every warning with a code of the catalogue and every part filled in", () => {
    const all = [
      ...assessVaultPosture(unknownEverywhere, vault).warnings,
      ...assessVaultPosture(
        {
          redundancy: "LocallyRedundant",
          immutability: "Disabled",
          softDelete: { state: "Off", retentionDays: null },
          crossRegionRestore: "Disabled",
          crossSubscriptionRestore: "Enabled",
          resourceGuard: { state: "NotProtected", resourceGuardIds: [] },
          jobFailureAlerts: "Disabled",
        },
        vault,
      ).warnings,
    ];

    for (const warning of all) {
      expect(isErrorCode(warning.code)).toBe(true);
      for (const part of [warning.found, warning.recommended, warning.why, warning.change])
        expect(part.length).toBeGreaterThan(0);
    }
  });
});
