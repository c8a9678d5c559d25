import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough, Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLocalCli } from "../../../src/cli/localCli.js";
import { runCli } from "../../../src/cli/main.js";
import type { CliIo } from "../../../src/cli/io.js";
import { LocalSecretStore } from "../../../src/providers/local/secretStore.js";

function capture(stream: PassThrough): () => string {
  let text = "";
  stream.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
  return () => text;
}

describe("pgprotect local secret", () => {
  let cwd: string;

  beforeEach(async () => {
    cwd = await mkdtemp(path.join(tmpdir(), "pgprotect-cli-"));
  });

  afterEach(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  function io(stdinText: string): { io: CliIo; stdout: () => string; stderr: () => string } {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    return {
      io: { stdin: Readable.from([stdinText]), stdout, stderr, cwd },
      stdout: capture(stdout),
      stderr: capture(stderr),
    };
  }

  const cli = () => createLocalCli(() => ({ stateDir: ".pgprotect" }));

  it("stores the value read from stdin and prints only the secret's URI", async () => {
    const run = io("postgresql://backup:Sup3r-S3cret@db:5432/sales\n");

    const code = await cli()(["secret", "set", "sales-db"], run.io);

    expect(code).toBe(0);
    expect(run.stdout()).toBe("https://pgprotect-local.vault.azure.net/secrets/sales-db\n");
    expect(run.stderr()).not.toContain("Sup3r-S3cret");
    const store = new LocalSecretStore({ stateDir: path.join(cwd, ".pgprotect") });
    expect(await store.getSecret(store.uriFor("sales-db"))).toBe(
      "postgresql://backup:Sup3r-S3cret@db:5432/sales",
    );
  });

  it("refuses a value given as an argument, where every user could read it", async () => {
    const run = io("");

    const code = await cli()(["secret", "set", "sales-db", "postgresql://u:pw@h/db"], run.io);

    expect(code).toBe(2);
    expect(run.stderr()).toContain("read from stdin");
    expect(
      await new LocalSecretStore({ stateDir: path.join(cwd, ".pgprotect") }).listSecretUris(),
    ).toEqual([]);
  });

  it("lists URIs without values and reports an empty value or a bad name with its code", async () => {
    await cli()(["secret", "set", "a"], io("value-a").io);
    const list = io("");
    const empty = io("\n");
    const badName = io("x");

    await cli()(["secret", "list"], list.io);
    const emptyCode = await cli()(["secret", "set", "b"], empty.io);
    const badCode = await cli()(["secret", "set", "bad_name"], badName.io);

    expect(list.stdout()).toBe("https://pgprotect-local.vault.azure.net/secrets/a\n");
    expect(emptyCode).toBe(1);
    expect(empty.stderr()).toContain("SECRET_EMPTY");
    expect(badCode).toBe(1);
    expect(badName.stderr()).toContain("INVALID_SECRET_URI");
  });

  it("is reachable as the 'local' command group of pgprotect", async () => {
    const run = io("");

    const code = await runCli(["local", "--help"], run.io);

    expect(code).toBe(0);
    expect(run.stdout()).toContain("secret set NAME");
  });
});

describe("pgprotect local vault create", () => {
  let cwd: string;

  beforeEach(async () => {
    cwd = await mkdtemp(path.join(tmpdir(), "pgprotect-cli-"));
  });

  afterEach(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  function io(): { io: CliIo; stdout: () => string; stderr: () => string } {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    return {
      io: { stdin: Readable.from([]), stdout, stderr, cwd },
      stdout: capture(stdout),
      stderr: capture(stderr),
    };
  }

  const cli = () => createLocalCli(() => ({ stateDir: ".pgprotect" }));

  it("creates the vault's folder and prints the vault's id", async () => {
    const run = io();

    const code = await cli()(["vault", "create", "archive-vault"], run.io);

    expect(code).toBe(0);
    expect(run.stdout()).toMatch(
      /\/providers\/Microsoft\.DataProtection\/backupVaults\/archive-vault\n$/,
    );
    expect(await readdir(path.join(cwd, ".pgprotect", "vaults"))).toEqual(["archive-vault"]);
  });

  it("takes a name in another case as the vault that exists, never a second folder", async () => {
    await cli()(["vault", "create", "archive-vault"], io().io);
    const run = io();

    const code = await cli()(["vault", "create", "ARCHIVE-VAULT"], run.io);

    expect(code).toBe(0);
    expect(run.stdout()).toMatch(/backupVaults\/archive-vault\n$/);
    expect(run.stderr()).toContain("exists already");
    expect(await readdir(path.join(cwd, ".pgprotect", "vaults"))).toEqual(["archive-vault"]);
  });

  it.each(["../escape", "v", "under_score", "a".repeat(51)])(
    "refuses the name %s in one readable line, with a non-zero exit and no folder",
    async (name) => {
      const run = io();

      const code = await cli()(["vault", "create", name], run.io);

      expect(code).toBe(1);
      expect(run.stderr()).toMatch(/^pgprotect local: VAULT_NAME_INVALID: .*2-50 characters.*\n$/);
      expect(run.stderr().trim().split("\n")).toHaveLength(1);
      await expect(readdir(path.join(cwd, ".pgprotect", "vaults"))).rejects.toThrow(/ENOENT/);
    },
  );
});
