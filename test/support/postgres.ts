/**
 * A private PostgreSQL cluster for one test file: started in `beforeAll` in a fresh temporary
 * folder, stopped and removed in `afterAll`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import {
  startPostgresCluster,
  type PostgresCluster,
} from "../../src/providers/local/postgresCluster.js";

/** Access to the file's cluster once `beforeAll` ran. */
export interface PostgresFixture {
  /** The running cluster (throws before `beforeAll`). */
  readonly cluster: PostgresCluster;
  /** Runs SQL as the superuser in one database and returns the rows. */
  query<Row extends Record<string, unknown> = Record<string, unknown>>(
    database: string,
    sql: string,
    values?: unknown[],
  ): Promise<Row[]>;
}

/** Starts a private cluster for the calling test file. */
export function usePostgresCluster(): PostgresFixture {
  let cluster: PostgresCluster | undefined;
  let folder: string | undefined;

  beforeAll(async () => {
    // Short path: the server's Unix socket lives in this folder.
    folder = await mkdtemp(path.join(tmpdir(), "pgp-"));
    cluster = await startPostgresCluster({ folder });
  });

  afterAll(async () => {
    await cluster?.stop();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  return {
    get cluster(): PostgresCluster {
      if (!cluster) throw new Error("the PostgreSQL cluster is not started yet");
      return cluster;
    },
    async query<Row extends Record<string, unknown>>(
      database: string,
      sql: string,
      values?: unknown[],
    ) {
      if (!cluster) throw new Error("the PostgreSQL cluster is not started yet");
      const client = new pg.Client({ connectionString: cluster.connectionUrl(database) });
      await client.connect();
      try {
        return (await client.query<Row>(sql, values)).rows;
      } finally {
        await client.end();
      }
    },
  };
}

/** Whether a connection with `url` opens (within 5 s), as a client would find out. */
export async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    await client.end().catch(() => undefined);
    return false;
  }
}
