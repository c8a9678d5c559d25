import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runClient } from "../../../support/clientCommands.js";

describe("shell completion for pgprotect", () => {
  let folder: string;
  let bashScript: string;

  beforeAll(async () => {
    folder = mkdtempSync(path.join(tmpdir(), "pgprotect-completion-"));
    bashScript = path.join(folder, "pgprotect.bash");
    writeFileSync(bashScript, (await runClient(["completion", "bash"])).stdout);
  });

  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  /** What bash offers for the words typed so far (the last one being completed). */
  function bashOffers(...words: string[]): string[] {
    const script = `source '${bashScript}'; COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _pgprotect; printf '%s\\n' "\${COMPREPLY[@]}"`;
    return execFileSync("bash", ["-c", script], { encoding: "utf8" }).split("\n").filter(Boolean);
  }

  it("completes command names, the client's and the others", () => {
    expect(bashOffers("pgprotect", "")).toEqual(
      expect.arrayContaining([
        "protect",
        "backup",
        "restore",
        "jobs",
        "instances",
        "status",
        "policies",
        "completion",
        "policy",
        "host",
        "local",
      ]),
    );
    expect(bashOffers("pgprotect", "po")).toEqual(["policies", "policy"]);
  });

  it("completes a command's options from its definition, and the fixed values of an option", () => {
    expect(bashOffers("pgprotect", "jobs", "--w")).toEqual(["--watch"]);
    expect(bashOffers("pgprotect", "jobs", "--status", "")).toEqual([
      "InProgress",
      "Completed",
      "Failed",
      "Cancelled",
    ]);
    expect(bashOffers("pgprotect", "backup", "x", "--output", "j")).toEqual(["json"]);
    expect(bashOffers("pgprotect", "completion", "")).toEqual(["bash", "zsh"]);
  });

  it("completes the lifecycle commands and their options", () => {
    expect(bashOffers("pgprotect", "")).toEqual(
      expect.arrayContaining([
        "stop",
        "suspend",
        "resume",
        "change-policy",
        "delete",
        "undelete",
        "deleted",
      ]),
    );
    expect(bashOffers("pgprotect", "stop", "x", "--del")).toEqual(["--delete-data"]);
    expect(bashOffers("pgprotect", "change-policy", "x", "--po")).toEqual(["--policy"]);
    expect(bashOffers("pgprotect", "suspend", "x", "--w")).toEqual(["--wait"]);
    expect(bashOffers("pgprotect", "deleted", "--output", "")).toEqual(["table", "json"]);
  });

  it("prints a zsh script that describes every command and registers itself with compdef", async () => {
    const zsh = (await runClient(["completion", "zsh"])).stdout;

    expect(zsh.startsWith("#compdef pgprotect\n")).toBe(true);
    expect(zsh).toContain("'jobs:List backup and restore jobs, newest first, or watch them'");
    expect(zsh).toContain("'--status[]:value:(InProgress Completed Failed Cancelled)'");
    expect(zsh).toContain("compdef _pgprotect pgprotect");
  });

  it("refuses another shell as a usage error", async () => {
    const answer = await runClient(["completion", "fish"]);

    expect(answer.code).toBe(2);
    expect(answer.stderr).toMatch(/^pgprotect: .*'fish'.*bash, zsh/);
  });
});
