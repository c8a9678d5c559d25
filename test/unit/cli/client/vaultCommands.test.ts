import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { PassThrough, Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VaultPostureView } from "../../../../src/application/vaultPosture.js";
import { runClientCommand } from "../../../../src/cli/client/clientCli.js";
import { ClientExitCodes } from "../../../../src/cli/client/exitCodes.js";
import {
  assessVaultPosture,
  type VaultSecuritySettings,
} from "../../../../src/domain/vault/posture.js";

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

/** A loopback API answering `GET /api/vaults` and `GET /api/vaults/{name}`. */
function vaultApi(): Server {
  return createServer((request, response) => {
    const name = /^\/api\/vaults\/([^/?]+)/.exec(request.url ?? "")?.[1];
    const body = name ? vaults[name] : { value: Object.values(vaults) };
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify(body));
  });
}

/** Runs a client command in this process and returns its exit code and output. */
async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const code = await runClientCommand(
    args,
    { stdin: Readable.from([]), stdout, stderr, cwd: tmpdir() },
    { env: {} },
  );
  return { code, stdout: out, stderr: err };
}

describe("pgprotect vaults", () => {
  let server: Server;
  let api: string;

  beforeAll(async () => {
    server = vaultApi();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    api = `http://127.0.0.1:${(server.address() as { port: number }).port}/api`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("lists the vaults' posture as a table, then each warning with what to change, and exits 0", async () => {
    // Act
    const answer = await run(["vaults", "--api", api]);

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
    const answer = await run(["vaults", "--output", "json", "--api", api]);

    expect(answer.code).toBe(ClientExitCodes.ok);
    expect(JSON.parse(answer.stdout)).toEqual({ value: Object.values(vaults) });
  });

  it("shows one vault's settings and warnings", async () => {
    const answer = await run(["vaults", "vault-weak", "--api", api]);

    expect(answer.code).toBe(ClientExitCodes.ok);
    expect(answer.stdout).toMatch(/^soft delete\s+Off$/m);
    expect(answer.stdout).toMatch(/^baseline\s+2 warnings$/m);
    expect(answer.stdout).toContain("VAULT_IMMUTABILITY_DISABLED");
  });

  it("with --strict, exits 6 and names the vaults short of the baseline with their codes", async () => {
    const answer = await run(["vaults", "--strict", "--api", api]);

    expect(answer.code).toBe(6);
    expect(answer.stderr).toBe(
      "pgprotect: 1 vault short of the baseline: vault-weak (VAULT_SOFT_DELETE_OFF, VAULT_IMMUTABILITY_DISABLED)\n",
    );
  });

  it("with --strict, exits 0 for a vault that meets the baseline", async () => {
    const answer = await run(["vaults", "vault-hardened", "--strict", "--api", api]);

    expect(answer.code).toBe(ClientExitCodes.ok);
    expect(answer.stderr).toBe("");
  });
});
