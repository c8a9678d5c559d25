/**
 * The local vault's security posture through the HTTP API on the local runtime, and through the
 * real `pgprotect vaults` command in a child process: an honest posture of one folder on one disk.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPgprotect } from "../support/hostProcess.js";
import { startLocalApp, type LocalApp } from "../support/localApp.js";
import { usePostgresCluster } from "../support/postgres.js";

const postgres = usePostgresCluster();

interface Posture {
  readonly name: string;
  readonly provider: string;
  readonly meetsBaseline: boolean;
  readonly settings: Record<string, unknown>;
  readonly warnings: ReadonlyArray<{ readonly code: string; readonly found: string }>;
}

describe("the local vault's posture, over HTTP and the pgprotect command", () => {
  let app: LocalApp;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    app = await startLocalApp({ postgres, name: "vault-posture-local" });
    env = { PATH: process.env.PATH, PGPROTECT_STATE_DIR: app.stateDir };
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
  });

  it("states the local vault as it is: one disk, soft delete as the local lifecycle keeps it, no immutability", async () => {
    // Act
    const answer = await app.api("GET", "vaults/pgprotect-vault");

    // Assert
    expect(answer.status).toBe(200);
    const posture = answer.body as unknown as Posture;
    expect(posture).toMatchObject({
      name: "pgprotect-vault",
      provider: "local",
      meetsBaseline: false,
      settings: {
        redundancy: "LocalDisk",
        immutability: "NotAvailable",
        softDelete: { state: "On", retentionDays: 14 },
        crossRegionRestore: "NotAvailable",
        resourceGuard: { state: "NotAvailable", resourceGuardIds: [] },
      },
    });
    expect(posture.warnings.map((w) => [w.code, w.found])).toEqual([
      ["VAULT_NOT_GEO_REDUNDANT", "LocalDisk"],
      ["VAULT_IMMUTABILITY_DISABLED", "NotAvailable"],
    ]);
  });

  it("lists the local provider's vaults", async () => {
    const answer = await app.api("GET", "vaults");

    expect(answer.status).toBe(200);
    expect((answer.body.value as Posture[]).map((v) => [v.name, v.provider])).toEqual([
      ["pgprotect-vault", "local"],
    ]);
  });

  it("shows the posture with pgprotect vaults, exiting 0 despite warnings, and 6 with --strict", async () => {
    // Act
    const shown = await runPgprotect(["vaults"], env);
    const strict = await runPgprotect(["vaults", "pgprotect-vault", "--strict"], env);

    // Assert
    expect(shown.code, shown.output).toBe(0);
    expect(shown.stdout).toMatch(
      /^pgprotect-vault\s+local\s+LocalDisk\s+On, 14 days\s+NotAvailable\s+NotAvailable\s+2 warnings$/m,
    );
    expect(shown.stdout).toContain("VAULT_NOT_GEO_REDUNDANT");
    expect(strict.code, strict.output).toBe(6);
    expect(strict.stderr).toContain(
      "pgprotect: 1 vault short of the baseline: pgprotect-vault (VAULT_NOT_GEO_REDUNDANT, VAULT_IMMUTABILITY_DISABLED)",
    );
  });
});
