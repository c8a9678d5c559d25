import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validatePolicy } from "../../../src/domain/policy/validation.js";
import { runPgprotect, splitCommandLine } from "../../support/cliHarness.js";

const seed = readFileSync("test/fixtures/seed/backup-postgresql-databases-azure-cli.md", "utf8");
const policySection = seed.slice(
  seed.indexOf("## Create a backup policy"),
  seed.indexOf("## Configure backup"),
);

interface SeedStep {
  readonly commandLine: string;
  /** The JSON the seed prints right after the command, if it shows any. */
  readonly shownOutput?: unknown;
}

/** Every `az dataprotection backup-policy` command of the seed's policy section, with the output it shows. */
function seedSteps(): SeedStep[] {
  const steps: SeedStep[] = [];
  for (const block of policySection.matchAll(/```azurecli[^\n]*\n([\s\S]*?)```/g)) {
    const lines = (block[1] ?? "").split("\n");
    for (let i = 0; i < lines.length; i += 1) {
      const line = lines[i]?.trim() ?? "";
      if (!line.startsWith("az dataprotection backup-policy")) continue;
      const following: string[] = [];
      for (let j = i + 1; j < lines.length && !lines[j]?.trim().startsWith("az "); j += 1)
        following.push(lines[j] ?? "");
      const text = following.join("\n").trim();
      steps.push({
        commandLine: line,
        ...(text.startsWith("{") || text.startsWith("[") ? { shownOutput: JSON.parse(text) } : {}),
      });
    }
  }
  return steps;
}

describe("the seed's policy workflow run with pgprotect policy", () => {
  let workDir: string;
  const outputs = new Map<string, unknown>();

  beforeAll(async () => {
    workDir = mkdtempSync(path.join(tmpdir(), "pgprotect-seed-"));
    // The seed's vault exists before its policy is created, as in Azure.
    expect(
      (await runPgprotect(["local", "vault", "create", "TestBkpVault"], workDir)).exitCode,
    ).toBe(0);
    for (const step of seedSteps()) {
      const { args, redirectTo } = splitCommandLine(
        step.commandLine.replace("az dataprotection backup-policy", "pgprotect policy"),
      );
      const run = await runPgprotect(args.slice(1), workDir);
      outputs.set(step.commandLine, { run, step });
      // The seed edits a saved copy of the template; a reader saves it as OSSPolicy.json first.
      if (step.commandLine.includes("get-default-policy-template"))
        writeFileSync(path.join(workDir, "OSSPolicy.json"), run.stdout);
      if (redirectTo)
        writeFileSync(path.join(workDir, redirectTo.replace(/^\.\\/, "")), run.stdout);
    }
  });

  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it("finds every policy command of the seed's policy section", () => {
    const names = seedSteps().map((s) => s.commandLine.split(" ").slice(2, 5).join(" "));

    expect(names.length).toBe(11);
    expect(names).toContain("backup-policy create --backup-policy-name");
    expect(names).toContain("backup-policy get-default-policy-template --datasource-type");
    expect(names.filter((n) => n.startsWith("backup-policy tag set")).length).toBe(2);
  });

  it("runs every command successfully, with nothing on stderr", () => {
    for (const [line, value] of outputs) {
      const { run } = value as { run: { exitCode: number; stderr: string } };
      expect({ line, exitCode: run.exitCode, stderr: run.stderr }).toEqual({
        line,
        exitCode: 0,
        stderr: "",
      });
    }
  });

  it("prints exactly the JSON the seed shows wherever the seed shows output", () => {
    const shown = [...outputs.values()].filter(
      (v) => (v as { step: SeedStep }).step.shownOutput !== undefined,
    );

    expect(shown.length).toBe(2);
    for (const value of shown) {
      const { run, step } = value as { run: { stdout: string }; step: SeedStep };
      expect(JSON.parse(run.stdout)).toEqual(step.shownOutput);
    }
  });

  it("ends with a policy that keeps monthly backups six months in the vault and 24 in the archive, and validates clean", () => {
    const final = JSON.parse(
      readFileSync(path.join(workDir, "AddedRetentionRuleAndTag.JSON"), "utf8"),
    );

    const monthlyRule = final.policyRules.find((r: { name: string }) => r.name === "Monthly");
    const monthlyTag = final.policyRules[0].trigger.taggingCriteria.find(
      (t: { tagInfo: { tagName: string } }) => t.tagInfo.tagName === "Monthly",
    );
    expect(final.policyRules[0].trigger.schedule.repeatingTimeIntervals).toEqual([
      "R/2021-08-15T22:00:00+00:00/P1W",
      "R/2021-08-18T22:00:00+00:00/P1W",
      "R/2021-08-20T22:00:00+00:00/P1W",
    ]);
    expect(
      monthlyRule.lifecycles.map(
        (l: { deleteAfter: { duration: string } }) => l.deleteAfter.duration,
      ),
    ).toEqual(["P6M", "P24M"]);
    expect(monthlyRule.lifecycles[0].targetDataStoreCopySettings[0].copyAfter.objectType).toBe(
      "CopyOnExpiryOption",
    );
    expect(monthlyTag.taggingPriority).toBe(15);
    expect(monthlyTag.tagInfo.id).toBe("Monthly_");
    expect(monthlyTag.criteria).toEqual([
      { daysOfTheWeek: ["Sunday", "Friday"], objectType: "ScheduleBasedBackupCriteria" },
    ]);
    expect(validatePolicy(final).problems).toEqual([]);
  });

  it("creates the final policy in the local vault, where the service's tag ids come back", async () => {
    const shown = await runPgprotect(
      [
        "policy",
        "show",
        "--name",
        "FinalOSSPolicy",
        "--resource-group",
        "testBkpVaultRG",
        "--vault-name",
        "TestBkpVault",
      ],
      workDir,
    );

    const resource = JSON.parse(shown.stdout);
    expect(shown.exitCode).toBe(0);
    expect(resource.id).toMatch(
      /\/resourceGroups\/testBkpVaultRG\/providers\/Microsoft\.DataProtection\/backupVaults\/TestBkpVault\/backupPolicies\/FinalOSSPolicy$/i,
    );
    expect(
      resource.properties.policyRules.find((r: { name: string }) => r.name === "Monthly"),
    ).toBeDefined();
  });
});

describe("the seed's osspol5 policy as the service returns it", () => {
  const shown =
    policySection.length > 0 ? seed.slice(seed.indexOf("## Run an on-demand backup")) : "";
  const json =
    /```azurecli[^\n]*\naz dataprotection backup-policy show[^\n]*\n([\s\S]*?)```/.exec(
      shown,
    )?.[1] ?? "";
  const original = JSON.parse(json) as Record<string, unknown>;

  it("validates clean, nulls and all", () => {
    const result = validatePolicy(structuredClone(original));

    expect(result.problems).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("round-trips unchanged through an edit that changes nothing", async () => {
    const workDir = mkdtempSync(path.join(tmpdir(), "pgprotect-osspol5-"));
    writeFileSync(path.join(workDir, "osspol5.json"), JSON.stringify(original));

    const run = await runPgprotect(
      [
        "policy",
        "trigger",
        "set",
        "--policy",
        "osspol5.json",
        "--schedule",
        "R/2020-04-04T20:00:00+00:00/P1W",
        "R/2020-04-01T20:00:00+00:00/P1W",
      ],
      workDir,
    );

    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toEqual(original);
    rmSync(workDir, { recursive: true, force: true });
  });
});
