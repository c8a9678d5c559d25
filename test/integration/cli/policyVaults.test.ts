import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { defaultPolicyTemplate } from "../../../src/domain/policy/template.js";
import { runPgprotect } from "../../support/cliHarness.js";

/** `pgprotect policy create|show|list` and the vaults they work in: a policy never makes a vault. */
describe("pgprotect policy commands that name a local vault", () => {
  let workDir: string;
  const vaultsFolder = () => path.join(workDir, ".pgprotect", "vaults");
  const vaultFolders = () => (existsSync(vaultsFolder()) ? readdirSync(vaultsFolder()) : []);
  const create = (vaultName: string, policyName = "weekly") =>
    runPgprotect(
      [
        "policy",
        "create",
        "--backup-policy-name",
        policyName,
        "--policy",
        "policy.json",
        "-g",
        "rg",
        "--vault-name",
        vaultName,
      ],
      workDir,
    );

  beforeEach(() => {
    workDir = mkdtempSync(path.join(tmpdir(), "pgprotect-policy-vaults-"));
    writeFileSync(
      path.join(workDir, "policy.json"),
      JSON.stringify(defaultPolicyTemplate("AzureDatabaseForPostgreSQL")),
    );
  });

  afterEach(() => rmSync(workDir, { recursive: true, force: true }));

  it("refuses a vault that does not exist in one line naming the command that creates it, and creates nothing", async () => {
    const run = await create("NoSuchVault");

    expect(run.exitCode).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(run.stderr).toContain("There is no vault 'NoSuchVault'");
    expect(run.stderr).toContain("pgprotect local vault create NoSuchVault");
    expect(vaultFolders()).toEqual([]);
  });

  it("refuses show and list in a vault that does not exist the same way", async () => {
    const show = await runPgprotect(
      ["policy", "show", "--name", "weekly", "-g", "rg", "--vault-name", "NoSuchVault"],
      workDir,
    );
    const list = await runPgprotect(
      ["policy", "list", "-g", "rg", "--vault-name", "NoSuchVault"],
      workDir,
    );

    expect([show.exitCode, list.exitCode]).toEqual([1, 1]);
    expect(show.stderr).toContain("pgprotect local vault create NoSuchVault");
    expect(list.stderr).toContain("pgprotect local vault create NoSuchVault");
    expect(vaultFolders()).toEqual([]);
  });

  it("creates the policy in a vault made by pgprotect local vault create, named in any case", async () => {
    await runPgprotect(["local", "vault", "create", "TestBkpVault"], workDir);

    const run = await create("TESTBKPVAULT");

    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).id).toMatch(
      /\/backupVaults\/TestBkpVault\/backupPolicies\/weekly$/,
    );
    expect(vaultFolders()).toEqual(["TestBkpVault"]);
  });

  it("creates the policy in the default vault pgprotect-vault when no vault is configured, as the HTTP API does", async () => {
    const run = await create("PGPROTECT-VAULT");

    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).id).toMatch(
      /\/backupVaults\/pgprotect-vault\/backupPolicies\/weekly$/,
    );
  });

  it("refuses a vault name outside the service's rule in one line", async () => {
    const run = await create("../escape");

    expect(run.exitCode).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(run.stderr).toContain("is not a valid vault name");
    expect(vaultFolders()).toEqual([]);
  });
});
