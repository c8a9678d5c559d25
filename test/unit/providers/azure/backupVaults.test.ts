import { describe, expect, it } from "vitest";
import {
  resourceGuardOf,
  vaultSecuritySettingsOf,
} from "../../../../src/providers/azure/backupVaults.js";

describe("vaultSecuritySettingsOf", () => {
  it("reads soft delete's Enabled and Disabled, which the service's own examples answer, as On and Off", () => {
    const enabled = vaultSecuritySettingsOf({
      securitySettings: { softDeleteSettings: { state: "Enabled", retentionDurationInDays: 14 } },
    });
    const disabled = vaultSecuritySettingsOf({
      securitySettings: { softDeleteSettings: { state: "Disabled" } },
    });

    expect(enabled.softDelete).toEqual({ state: "On", retentionDays: 14 });
    expect(disabled.softDelete).toEqual({ state: "Off", retentionDays: null });
  });

  it("takes a value the contract does not list for unknown, whatever else the vault says", () => {
    const settings = vaultSecuritySettingsOf({
      securitySettings: { immutabilitySettings: { state: "SomethingNew" } },
      featureSettings: { crossRegionRestoreSettings: { state: "enabled" } },
    });

    expect(settings.immutability).toBe("unknown");
    // Values ignore case, as the service's enums are strings.
    expect(settings.crossRegionRestore).toBe("Enabled");
  });

  it("reads the redundancy of the VaultStore, where PostgreSQL backups are kept", () => {
    const settings = vaultSecuritySettingsOf({
      storageSettings: [
        { datastoreType: "ArchiveStore", type: "LocallyRedundant" },
        { datastoreType: "VaultStore", type: "GeoRedundant" },
      ],
    });

    expect(settings.redundancy).toBe("GeoRedundant");
  });

  it("reads nothing but unknowns from a vault without properties", () => {
    expect(vaultSecuritySettingsOf(undefined)).toEqual({
      redundancy: "unknown",
      immutability: "unknown",
      softDelete: { state: "unknown", retentionDays: null },
      crossRegionRestore: "unknown",
      crossSubscriptionRestore: "unknown",
      jobFailureAlerts: "unknown",
    });
  });
});

describe("resourceGuardOf", () => {
  it("falls back to the vault's own flag when the proxies could not be listed", () => {
    expect(resourceGuardOf(undefined, true).state).toBe("Protected");
    expect(resourceGuardOf(undefined, false).state).toBe("NotProtected");
    expect(resourceGuardOf(undefined, undefined).state).toBe("unknown");
  });

  it("trusts a listed proxy over a flag that says otherwise", () => {
    expect(
      resourceGuardOf([{ id: "p", properties: { resourceGuardResourceId: "/guard" } }], false),
    ).toEqual({ state: "Protected", resourceGuardIds: ["/guard"] });
  });
});
