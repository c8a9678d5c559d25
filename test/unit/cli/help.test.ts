import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runPgprotect } from "../../support/cliHarness.js";

describe("pgprotect --help", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "pgprotect-help-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("lists the exit codes a script can branch on, and the policy calendar", async () => {
    const run = await runPgprotect(["--help"], dir);

    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/Exit codes: 0 done; 1 .+; 2 wrong command line;/);
    expect(run.stdout).toMatch(/3 the API refused the request, 4 .+,\s+5 no API could be reached/);
    expect(run.stdout).toMatch(/^ {2}policy {6}.*draw \(calendar\)/m);
  });

  it("lists the exit codes in the policy commands' help too", async () => {
    const group = await runPgprotect(["policy", "--help"], dir);
    const command = await runPgprotect(["policy", "simulate", "--help"], dir);

    expect(group.stdout).toMatch(/^ {2}calendar +Draw the retention calendar \(SVG\)/m);
    for (const run of [group, command]) {
      expect(run.exitCode).toBe(0);
      expect(run.stdout).toContain("Exit codes: 0 done; 1 the command failed");
    }
  });
});
