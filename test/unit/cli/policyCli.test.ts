import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runPgprotect } from "../../support/cliHarness.js";

describe("pgprotect policy", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "pgprotect-cli-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("fails with one readable line naming the flag, and prints nothing on stdout", async () => {
    const run = await runPgprotect(
      [
        "policy",
        "trigger",
        "create-schedule",
        "--interval-type",
        "Weekly",
        "--interval-count",
        "2",
        "--schedule-days",
        "2021-08-15T22:00:00",
      ],
      dir,
    );

    expect(run.exitCode).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toContain("--interval-count");
  });

  it("treats a missing required flag and an unknown flag as usage errors (exit 2)", async () => {
    const missing = await runPgprotect(["policy", "get-default-policy-template"], dir);
    const unknown = await runPgprotect(
      [
        "policy",
        "get-default-policy-template",
        "--datasource-type",
        "AzureDatabaseForPostgreSQL",
        "--colour",
        "red",
      ],
      dir,
    );

    expect([missing.exitCode, unknown.exitCode]).toEqual([2, 2]);
    expect(missing.stderr).toContain("--datasource-type");
    expect(unknown.stderr).toContain("--colour");
  });

  it("names the JSON file that is not valid JSON", async () => {
    writeFileSync(path.join(dir, "broken.json"), "{ not json");

    const run = await runPgprotect(["policy", "validate", "--policy", "broken.json"], dir);

    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("--policy: 'broken.json' is not valid JSON");
  });

  it("reads a policy from standard input with --policy -", async () => {
    const template = await runPgprotect(
      ["policy", "get-default-policy-template", "--datasource-type", "AzureDatabaseForPostgreSQL"],
      dir,
    );

    const run = await runPgprotect(["policy", "validate", "--policy", "-"], dir, template.stdout);

    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ valid: true, problems: [] });
  });

  it("exits 1 from validate when the policy breaks a rule, printing the problems as JSON", async () => {
    const run = await runPgprotect(
      [
        "policy",
        "validate",
        "--policy",
        '{"objectType":"BackupPolicy","datasourceTypes":["Microsoft.DBforPostgreSQL/flexibleServers"],"policyRules":[]}',
      ],
      dir,
    );

    expect(run.exitCode).toBe(1);
    expect(JSON.parse(run.stdout).problems.map((p: { code: string }) => p.code)).toEqual([
      "POLICY_BACKUP_RULE_MISSING",
      "RETENTION_DEFAULT_MISSING",
    ]);
  });

  it("compiles a spec file to policy JSON", async () => {
    writeFileSync(
      path.join(dir, "spec.json"),
      JSON.stringify({
        schedule: { days: ["Saturday"], time: "03:00" },
        retention: { default: "P1M" },
      }),
    );

    const run = await runPgprotect(["policy", "compile", "--spec", "spec.json"], dir);

    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout).policyRules[0].trigger.schedule.repeatingTimeIntervals).toEqual([
      "R/2021-08-21T03:00:00+00:00/P1W",
    ]);
  });

  it("lists its commands with --help", async () => {
    const run = await runPgprotect(["policy", "--help"], dir);

    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("retention-rule create-lifecycle");
  });
});

describe("pgprotect policy simulate", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "pgprotect-sim-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const spec = {
    schedule: { days: ["Sunday"], time: "22:00" },
    retention: { default: "P3M", monthly: { vault: "P6M", archive: "P24M" } },
  };

  it("prints a table with every Sunday of the window and the first of each month kept under Monthly", async () => {
    const policy = await runPgprotect(["policy", "compile", "--spec", JSON.stringify(spec)], dir);
    writeFileSync(path.join(dir, "policy.json"), policy.stdout);

    const run = await runPgprotect(
      [
        "policy",
        "simulate",
        "--policy",
        "policy.json",
        "--from",
        "2026-01-01",
        "--to",
        "2026-02-01",
      ],
      dir,
    );

    expect(run.exitCode).toBe(0);
    const rows = run.stdout.split("\n").filter((line) => /^2026-01-\d\d 22:00/.test(line));
    expect(rows.map((r) => r.slice(0, 10))).toEqual([
      "2026-01-04",
      "2026-01-11",
      "2026-01-18",
      "2026-01-25",
    ]);
    expect(rows[0]).toContain("Monthly");
    expect(rows[0]).toContain("2028-07-04 22:00");
    expect(rows[1]).toContain("Default");
  });

  it("answers which recovery points exist at an instant, counting backups from before the window", async () => {
    const policy = await runPgprotect(["policy", "compile", "--spec", JSON.stringify(spec)], dir);
    writeFileSync(path.join(dir, "policy.json"), policy.stdout);

    const run = await runPgprotect(
      [
        "policy",
        "simulate",
        "--policy",
        "policy.json",
        "--from",
        "2026-06-01",
        "--to",
        "2026-06-02",
        "--at",
        "2026-06-01T00:00:00Z",
        "--output",
        "json",
      ],
      dir,
    );

    const answer = JSON.parse(run.stdout);
    // The vault keeps Default backups three months and the first Sunday of each month six; the
    // archive then keeps those 24 more months, reaching back to December 2023.
    expect(answer.at.VaultStore).toContain("2025-12-07T22:00:00.000Z");
    expect(answer.at.VaultStore).toContain("2026-03-08T22:00:00.000Z");
    expect(answer.at.VaultStore).toContain("2026-05-31T22:00:00.000Z");
    expect(answer.at.VaultStore).not.toContain("2026-02-22T22:00:00.000Z");
    expect(answer.at.ArchiveStore).toContain("2025-11-02T22:00:00.000Z");
    expect(answer.at.ArchiveStore).toContain("2023-12-03T22:00:00.000Z");
    expect(answer.at.ArchiveStore).not.toContain("2023-11-05T22:00:00.000Z");
    expect(answer.at.ArchiveStore).toHaveLength(24);
  });

  it("refuses an unknown output format, naming the ones it knows", async () => {
    const run = await runPgprotect(
      ["policy", "simulate", "--policy", "{}", "--output", "yaml"],
      dir,
    );

    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("json or table");
  });
});
