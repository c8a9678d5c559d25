/**
 * The Backup vault the template provisions meets the baseline `GET /api/vaults` judges vaults by
 * (`domain/vault/posture.ts`), read from the Bicep text since no Bicep compiler runs here: the
 * module sets each security setting from a parameter, main.bicep passes each one with the
 * baseline as its default, main.parameters.json lets azd set them, and every Bicep parameter a
 * posture warning names exists.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  assessVaultPosture,
  recommendedBaseline,
  type VaultSecuritySettings,
} from "../../../src/domain/vault/posture.js";

const infraDir = fileURLToPath(new URL("../../../infra/", import.meta.url));
const read = (file: string) => readFileSync(join(infraDir, file), "utf8");
const moduleText = read("app/backupVault.bicep");
const mainText = read("main.bicep");

/** A parameter's default in a Bicep file, as written (quotes removed). */
function defaultOf(text: string, param: string): string | undefined {
  return new RegExp(`^param ${param} \\w+ = '?([^'\\n]*)'?$`, "m").exec(text)?.[1];
}

/** The values a parameter's `@allowed` decorator lists. */
function allowedOf(text: string, param: string): string[] {
  const block = new RegExp(`@allowed\\(\\[([^\\]]*)\\]\\)\\s*\\nparam ${param} `).exec(text)?.[1];
  return [...(block ?? "").matchAll(/'([^']+)'/g)].map((m) => m[1] ?? "");
}

/** The vault's `properties` block in the module. */
const vaultProperties =
  /resource vault 'Microsoft\.DataProtection\/backupVaults@[^']+' = \{([\s\S]*)\n\}/.exec(
    moduleText,
  )?.[1] ?? "";

describe("the Backup vault the template provisions", () => {
  it("sets every security setting the posture reads from the module's parameters", () => {
    expect(vaultProperties).toMatch(/datastoreType: 'VaultStore'\s+type: redundancy/);
    expect(vaultProperties).toMatch(
      /softDeleteSettings: \{\s+state: softDeleteState\s+retentionDurationInDays: softDeleteRetentionDays\s+\}/,
    );
    expect(vaultProperties).toMatch(/immutabilitySettings: \{\s+state: immutabilityState\s+\}/);
    expect(vaultProperties).toMatch(
      /crossRegionRestoreSettings: \{\s+state: crossRegionRestoreState\s+\}/,
    );
    expect(vaultProperties).toMatch(
      /crossSubscriptionRestoreSettings: \{\s+state: crossSubscriptionRestoreState\s+\}/,
    );
    expect(vaultProperties).toMatch(/alertsForAllJobFailures: 'Enabled'/);
    expect(moduleText).toMatch(
      /^var crossRegionRestoreState = redundancy == 'GeoRedundant' \? 'Enabled' : 'Disabled'$/m,
    );
  });

  it("allows only values of the baseline for soft delete and immutability", () => {
    expect(allowedOf(moduleText, "softDeleteState")).toEqual(["On", "AlwaysOn"]);
    expect(allowedOf(moduleText, "immutabilityState")).toEqual(["Unlocked", "Locked"]);
    expect(moduleText).toMatch(
      /@minValue\(14\)\s*\n@maxValue\(180\)\s*\nparam softDeleteRetentionDays int/,
    );
  });

  it("defaults, in main.bicep, to a vault the posture finds nothing to warn of but its resource guard", () => {
    // Arrange: the vault as main.bicep's defaults make it (a resource guard is another team's).
    const redundancy = defaultOf(mainText, "backupVaultRedundancy");
    const settings: VaultSecuritySettings = {
      redundancy: redundancy as VaultSecuritySettings["redundancy"],
      immutability: defaultOf(mainText, "backupVaultImmutabilityState") as "Unlocked",
      softDelete: {
        state: defaultOf(mainText, "backupVaultSoftDeleteState") as "On",
        retentionDays: Number(defaultOf(mainText, "backupVaultSoftDeleteRetentionDays")),
      },
      crossRegionRestore: redundancy === "GeoRedundant" ? "Enabled" : "Disabled",
      crossSubscriptionRestore: defaultOf(
        mainText,
        "backupVaultCrossSubscriptionRestoreState",
      ) as "Disabled",
      resourceGuard: { state: "NotProtected", resourceGuardIds: [] },
      jobFailureAlerts: "Enabled",
    };

    // Act
    const posture = assessVaultPosture(settings, { vaultName: "v", resourceGroup: "rg" });

    // Assert
    expect(redundancy).toBe("GeoRedundant");
    expect(settings.softDelete.retentionDays).toBeGreaterThanOrEqual(
      recommendedBaseline.minimumSoftDeleteRetentionDays,
    );
    expect(posture.warnings.map((w) => w.code)).toEqual(["VAULT_RESOURCE_GUARD_MISSING"]);
  });

  it("passes every vault parameter from main.bicep to the module", () => {
    const moduleCall =
      /module backupVault 'app\/backupVault\.bicep'[\s\S]*?\n\}/.exec(mainText)?.[0] ?? "";
    for (const [moduleParam, mainParam] of [
      ["redundancy", "backupVaultRedundancy"],
      ["softDeleteState", "backupVaultSoftDeleteState"],
      ["softDeleteRetentionDays", "backupVaultSoftDeleteRetentionDays"],
      ["immutabilityState", "backupVaultImmutabilityState"],
      ["crossSubscriptionRestoreState", "backupVaultCrossSubscriptionRestoreState"],
    ] as const) {
      expect(moduleCall).toContain(`${moduleParam}: ${mainParam}`);
      expect(allowedOf(mainText, mainParam)).toEqual(allowedOf(moduleText, moduleParam));
    }
  });

  it("lets azd set each vault parameter from the environment, defaulting to the baseline", () => {
    const parameters = (
      JSON.parse(read("main.parameters.json")) as {
        parameters: Record<string, { value: string }>;
      }
    ).parameters;

    for (const param of [
      "backupVaultRedundancy",
      "backupVaultSoftDeleteState",
      "backupVaultSoftDeleteRetentionDays",
      "backupVaultImmutabilityState",
      "backupVaultCrossSubscriptionRestoreState",
    ]) {
      const value = parameters[param]?.value ?? "";
      expect(value, param).toMatch(/^\$\{PGPROTECT_BACKUP_VAULT_[A-Z_]+=[^}]+\}$/);
      expect(value.replace(/^\$\{[A-Z_]+=([^}]+)\}$/, "$1"), param).toBe(
        defaultOf(mainText, param),
      );
    }
  });

  it("names in each posture warning only Bicep parameters that main.bicep declares", () => {
    const weakest: VaultSecuritySettings = {
      redundancy: "LocallyRedundant",
      immutability: "Disabled",
      softDelete: { state: "Off", retentionDays: 7 },
      crossRegionRestore: "Disabled",
      crossSubscriptionRestore: "Enabled",
      resourceGuard: { state: "NotProtected", resourceGuardIds: [] },
      jobFailureAlerts: "Disabled",
    };
    const changes = [
      ...assessVaultPosture(weakest, { vaultName: "v", resourceGroup: "rg" }).warnings,
      ...assessVaultPosture(
        { ...weakest, softDelete: { state: "On", retentionDays: 7 } },
        { vaultName: "v", resourceGroup: "rg" },
      ).warnings,
    ].map((w) => w.change);

    const named = changes.flatMap((change) =>
      [...change.matchAll(/\b(backupVault\w+)\b/g)].map((m) => m[1]),
    );
    expect(named.length).toBeGreaterThan(0);
    for (const param of named) expect(mainText).toMatch(new RegExp(`^param ${param} `, "m"));
  });
});
