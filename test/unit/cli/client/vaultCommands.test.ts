import type { IncomingMessage, ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import type { VaultPostureView } from "../../../../src/application/vaultPosture.js";
import { ClientExitCodes } from "../../../../src/cli/client/exitCodes.js";
import {
  assessVaultPosture,
  type VaultSecuritySettings,
} from "../../../../src/domain/vault/posture.js";
import { runClient, useLoopbackApi } from "../../../support/clientCommands.js";

const hardenedSettings: VaultSecuritySettings = {
  redundancy: "GeoRedundant",
  immutability: "Unlocked",
  softDelete: { state: "On", retentionDays: 14 },
  crossRegionRestore: "Enabled",
  crossSubscriptionRestore: "Disabled",
  resourceGuard: { state: "Protected", resourceGuardIds: ["/guards/guard-pg"] },
  jobFailureAlerts: "Enabled",
};

/** A vault as the API answers it, judged by the domain's own rule. */
function view(name: string, settings: VaultSecuritySettings): VaultPostureView {
  const posture = assessVaultPosture(settings, { vaultName: name, resourceGroup: "rg-backup" });
  return {
    name,
    id: `/subscriptions/s/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/${name}`,
    resourceGroup: "rg-backup",
    provider: "azure",
    settings,
    meetsBaseline: posture.meetsBaseline,
    warnings: posture.warnings,
  };
}

const vaults: Record<string, VaultPostureView> = {
  "vault-hardened": view("vault-hardened", hardenedSettings),
  "vault-weak": view("vault-weak", {
    ...hardenedSettings,
    softDelete: { state: "Off", retentionDays: 14 },
    immutability: "Disabled",
  }),
};

/** Answers `GET /api/vaults` and `GET /api/vaults/{name}`. */
function answerVaultRoutes(request: IncomingMessage, response: ServerResponse): void {
  const name = /^\/api\/vaults\/([^/?]+)/.exec(request.url ?? "")?.[1];
  const body = name ? vaults[name] : { value: Object.values(vaults) };
  response.writeHead(200, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

describe("pgprotect vaults", () => {
  const api = useLoopbackApi(answerVaultRoutes);

  it("lists the vaults' posture as a table, then each warning with what to change, and exits 0", async () => {
    // Act
    const answer = await runClient(["vaults", "--api", api.url]);

    // Assert
    expect(answer.code).toBe(ClientExitCodes.ok);
    expect(answer.stdout).toMatch(
      /^NAME\s+PROVIDER\s+REDUNDANCY\s+SOFT DELETE\s+IMMUTABILITY\s+RESOURCE GUARD\s+BASELINE$/m,
    );
    expect(answer.stdout).toMatch(
      /^vault-hardened\s+azure\s+GeoRedundant\s+On, 14 days\s+Unlocked\s+Protected\s+met$/m,
    );
    expect(answer.stdout).toMatch(
      /^vault-weak\s+azure\s+GeoRedundant\s+Off\s+Disabled\s+Protected\s+2 warnings$/m,
    );
    expect(answer.stdout).toMatch(/high\s+VAULT_SOFT_DELETE_OFF\s+softDelete is Off/);
    expect(answer.stdout).toContain(
      "change  az dataprotection backup-vault update --resource-group rg-backup --vault-name vault-weak --immutability-state Unlocked",
    );
    expect(answer.stderr).toBe("");
  });

  it("prints the API's own JSON with --output json", async () => {
    const answer = await runClient(["vaults", "--output", "json", "--api", api.url]);

    expect(answer.code).toBe(ClientExitCodes.ok);
    expect(JSON.parse(answer.stdout)).toEqual({ value: Object.values(vaults) });
  });

  it("shows one vault's settings and warnings", async () => {
    const answer = await runClient(["vaults", "vault-weak", "--api", api.url]);

    expect(answer.code).toBe(ClientExitCodes.ok);
    expect(answer.stdout).toMatch(/^soft delete\s+Off$/m);
    expect(answer.stdout).toMatch(/^baseline\s+2 warnings$/m);
    expect(answer.stdout).toContain("VAULT_IMMUTABILITY_DISABLED");
  });

  it("with --strict, exits 6 and names the vaults short of the baseline with their codes", async () => {
    const answer = await runClient(["vaults", "--strict", "--api", api.url]);

    expect(answer.code).toBe(6);
    expect(answer.stderr).toBe(
      "pgprotect: 1 vault short of the baseline: vault-weak (VAULT_SOFT_DELETE_OFF, VAULT_IMMUTABILITY_DISABLED)\n",
    );
  });

  it("with --strict, exits 0 for a vault that meets the baseline", async () => {
    const answer = await runClient(["vaults", "vault-hardened", "--strict", "--api", api.url]);

    expect(answer.code).toBe(ClientExitCodes.ok);
    expect(answer.stderr).toBe("");
  });
});
