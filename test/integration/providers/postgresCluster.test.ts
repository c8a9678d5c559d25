import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import {
  startPostgresCluster,
  type PostgresCluster,
} from "../../../src/providers/local/postgresCluster.js";
import { canConnect, usePostgresCluster } from "../../support/postgres.js";

describe("private PostgreSQL cluster", () => {
  const pgFixture = usePostgresCluster();
  const folders: string[] = [];

  afterAll(async () => {
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });

  it("accepts connections on 127.0.0.1 only and runs PostgreSQL 15 with UTF-8", async () => {
    const rows = await pgFixture.query<{ version: string; encoding: string; listen: string }>(
      "postgres",
      "select current_setting('server_version_num') as version, pg_encoding_to_char(encoding) as encoding, current_setting('listen_addresses') as listen from pg_database where datname = 'postgres'",
    );

    expect(rows[0]?.version).toMatch(/^15/);
    expect(rows[0]?.encoding).toBe("UTF8");
    expect(rows[0]?.listen).toBe("127.0.0.1");
  });

  it("refuses the superuser over TCP without the generated password", async () => {
    const withoutPassword = `postgresql://postgres@127.0.0.1:${pgFixture.cluster.port}/postgres`;
    const wrongPassword = `postgresql://postgres:wrong@127.0.0.1:${pgFixture.cluster.port}/postgres`;

    expect(await canConnect(withoutPassword)).toBe(false);
    expect(await canConnect(wrongPassword)).toBe(false);
    expect(await canConnect(pgFixture.cluster.connectionUrl())).toBe(true);
  });

  it("keeps its data folder across a stop and a new start, and accepts nothing once stopped", async () => {
    // Arrange
    const folder = await mkdtemp(path.join(tmpdir(), "pgc-"));
    folders.push(folder);
    let cluster: PostgresCluster = await startPostgresCluster({ folder });
    const client = new pg.Client({ connectionString: cluster.connectionUrl() });
    await client.connect();
    await client.query("create database kept");
    await client.end();

    // Act
    await cluster.stop();
    const reachableWhileStopped = await canConnect(cluster.connectionUrl());
    cluster = await startPostgresCluster({ folder });
    const reachableAgain = await canConnect(cluster.connectionUrl("kept"));
    const passwordFileMode = (await stat(path.join(folder, "superuser.password"))).mode & 0o777;
    await cluster.stop();

    // Assert
    expect(reachableWhileStopped).toBe(false);
    expect(reachableAgain).toBe(true);
    expect(passwordFileMode).toBe(0o600);
  });
});
