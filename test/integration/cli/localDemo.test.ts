import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough, Readable } from "node:stream";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createLocalCli } from "../../../src/cli/localCli.js";
import { LocalSecretStore } from "../../../src/providers/local/secretStore.js";
import { usePostgresCluster } from "../../support/postgres.js";

const postgres = usePostgresCluster();
const stateDir = mkdtempSync(path.join(tmpdir(), "pgprotect-demo-"));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

async function run(args: string[], databaseUrl?: string) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (c: Buffer) => (out += c.toString()));
  stderr.on("data", (c: Buffer) => (err += c.toString()));
  const code = await createLocalCli(() => ({ stateDir, databaseUrl }))(args, {
    stdin: Readable.from([]),
    stdout,
    stderr,
    cwd: stateDir,
  });
  return { code, out, err };
}

describe("pgprotect local demo", () => {
  it("creates a database with data and stores a secret that connects to it", async () => {
    const result = await run(["demo", "shopdemo"], postgres.cluster.connectionUrl());

    expect(result.code).toBe(0);
    expect(result.out).toContain("https://pgprotect-local.vault.azure.net/secrets/shopdemo");
    const secret = await new LocalSecretStore({ stateDir }).getSecret(
      "https://pgprotect-local.vault.azure.net/secrets/shopdemo",
    );
    const client = new pg.Client({ connectionString: secret });
    await client.connect();
    const rows = await client.query(
      "SELECT (SELECT count(*) FROM shop.customers) + (SELECT count(*) FROM shop.orders) AS n",
    );
    await client.end();
    expect(Number(rows.rows[0].n)).toBe(500);
  });

  it("can run twice without duplicating rows", async () => {
    await run(["demo", "shopdemo"], postgres.cluster.connectionUrl());

    const rows = await postgres.query("shopdemo", "SELECT count(*)::int AS n FROM shop.orders");

    expect(rows[0]?.n).toBe(400);
  });

  it("says to start pgprotect first when no private PostgreSQL runs and no DATABASE_URL is set", async () => {
    const result = await run(["demo"]);

    expect(result.code).toBe(1);
    expect(result.err).toContain("LOCAL_POSTGRES_NOT_RUNNING");
    expect(result.err).toContain("npm start");
  });
});
