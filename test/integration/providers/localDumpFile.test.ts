import { createHash } from "node:crypto";
import { access, chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseConnectionString } from "../../../src/domain/protection/connectionString.js";
import {
  dumpDatabaseToFile,
  withLargeOutputBuffer,
  WRITE_BATCH_BYTES,
} from "../../../src/providers/local/dumpFile.js";
import { runTool } from "../../../src/providers/local/processes.js";
import { usePostgresCluster } from "../../support/postgres.js";

/** Rows of random text: about 6 MiB that compression cannot shrink, so the dump is as large. */
const incompressibleRows =
  "CREATE TABLE noise AS SELECT g AS id, encode(gen_random_bytes(750), 'base64') AS body FROM generate_series(1, 6000) AS g";

describe("local provider: a database's dump written into one file", () => {
  const pgFixture = usePostgresCluster();
  let folder: string;
  const searchPath = process.env.PATH;

  beforeAll(async () => {
    folder = await mkdtemp(path.join(tmpdir(), "pgp-dumpfile-"));
    await pgFixture.query("postgres", "CREATE DATABASE noisy");
    await pgFixture.query("noisy", "CREATE EXTENSION pgcrypto");
    await pgFixture.query("noisy", incompressibleRows);
  });

  afterEach(() => {
    process.env.PATH = searchPath;
  });

  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  const optionsFor = (file: string) => ({
    binDir: pgFixture.cluster.binDir,
    params: parseConnectionString(pgFixture.cluster.connectionUrl("noisy")),
    database: "noisy",
    file,
  });

  it("records the size and SHA-256 of every byte of a dump many write batches long, and pg_restore reads the file", async () => {
    // Arrange
    const file = path.join(folder, "whole.dump");

    // Act
    const result = await dumpDatabaseToFile(optionsFor(file));

    // Assert
    const bytes = await readFile(file);
    expect(result.sizeBytes).toBeGreaterThan(4 * WRITE_BATCH_BYTES);
    expect(result.sizeBytes).toBe(bytes.length);
    expect(result.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
    const listing = await runTool(path.join(pgFixture.cluster.binDir, "pg_restore"), [
      "--list",
      file,
    ]);
    expect(listing.stdout).toContain("TABLE DATA public noise");
  });

  it("dumps the same bytes where stdbuf is not on the PATH", async () => {
    // Arrange: a PATH of one empty folder.
    const emptyFolder = await mkdtemp(path.join(folder, "bin-"));
    process.env.PATH = emptyFolder;
    const file = path.join(folder, "unbuffered.dump");

    // Act
    const result = await dumpDatabaseToFile(optionsFor(file));

    // Assert
    const listing = await runTool(path.join(pgFixture.cluster.binDir, "pg_restore"), [
      "--list",
      file,
    ]);
    expect(listing.stdout).toContain("TABLE DATA public noise");
    expect(result.sha256).toBe(
      createHash("sha256")
        .update(await readFile(file))
        .digest("hex"),
    );
  });

  it("runs the tool under stdbuf where the PATH has a working one, and alone where it has none or a broken one", async () => {
    // Arrange: a folder with a stdbuf that runs programs, one with a stdbuf that fails, one without.
    const stdbufIn = async (prefix: string, script: string) => {
      const bin = await mkdtemp(path.join(folder, prefix));
      await writeFile(path.join(bin, "stdbuf"), script);
      await chmod(path.join(bin, "stdbuf"), 0o755);
      return bin;
    };
    const working = await stdbufIn("working-", "#!/bin/sh\nexit 0\n");
    const broken = await stdbufIn(
      "broken-",
      "#!/bin/sh\necho 'failed to find libstdbuf.so' >&2\nexit 125\n",
    );
    const without = await mkdtemp(path.join(folder, "without-"));

    // Act
    const commandWith = async (searchPath: string) => {
      process.env.PATH = searchPath;
      return withLargeOutputBuffer("/opt/pg/bin/pg_dump", ["-Fc"]);
    };
    const buffered = await commandWith(working);
    const withBroken = await commandWith(broken);
    const alone = await commandWith(without);

    // Assert
    expect(buffered).toEqual({
      command: path.join(working, "stdbuf"),
      args: ["-o", "1M", "/opt/pg/bin/pg_dump", "-Fc"],
    });
    expect(withBroken).toEqual({ command: "/opt/pg/bin/pg_dump", args: ["-Fc"] });
    expect(alone).toEqual({ command: "/opt/pg/bin/pg_dump", args: ["-Fc"] });
  });

  it("fails with VAULT_STORAGE_FULL once the dump outgrows its room mid-batch, and leaves no file", async () => {
    // Arrange: room for two and a half batches of a dump four times as long.
    const file = path.join(folder, "bounded.dump");

    // Act
    const outcome = dumpDatabaseToFile({
      ...optionsFor(file),
      maxBytes: Math.floor(2.5 * WRITE_BATCH_BYTES),
    });

    // Assert
    await expect(outcome).rejects.toMatchObject({ code: "VAULT_STORAGE_FULL" });
    await expect(access(file)).rejects.toMatchObject({ code: "ENOENT" });
  });
});
