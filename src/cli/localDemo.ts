/**
 * `pgprotect local demo [NAME]`: a demo database with data on the local provider's server (the
 * running private cluster, or DATABASE_URL), and its connection string stored as a secret, so a
 * newcomer can protect, back up and restore something real in a few commands.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { AppError } from "../domain/errors.js";
import { LocalSecretStore } from "../providers/local/secretStore.js";

/** Where the demo goes. */
export interface DemoOptions {
  readonly stateDir: string;
  readonly databaseUrl?: string | undefined;
  /** Database and secret name. */
  readonly name: string;
}

/** What the demo made. */
export interface DemoDatabase {
  readonly databaseName: string;
  readonly secretUri: string;
  readonly rows: number;
}

/** The server URL: DATABASE_URL, or the private cluster the running app started under the state folder. */
async function serverUrl(options: DemoOptions): Promise<string> {
  if (options.databaseUrl) return options.databaseUrl;
  const folder = path.join(options.stateDir, "postgres");
  const pid = await readFile(path.join(folder, "data", "postmaster.pid"), "utf8").catch(
    () => undefined,
  );
  const port = Number(pid?.split("\n")[3]);
  const password = (
    await readFile(path.join(folder, "superuser.password"), "utf8").catch(() => "")
  ).trim();
  if (!pid || !Number.isInteger(port) || port <= 0) {
    throw new AppError(
      "LOCAL_POSTGRES_NOT_RUNNING",
      `No private PostgreSQL is running under ${folder}`,
      {
        recommendedAction:
          "Start pgprotect first with `npm start` (it starts the private PostgreSQL), or set DATABASE_URL",
      },
    );
  }
  return `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/**
 * Creates (or refills) the demo database with a few hundred rows of varied data and stores its
 * connection string as a secret.
 */
export async function createDemoDatabase(options: DemoOptions): Promise<DemoDatabase> {
  if (!/^[a-z][a-z0-9_]{0,40}$/.test(options.name)) {
    throw new AppError(
      "DEMO_NAME_INVALID",
      `'${options.name}' is not a simple database name (lower-case letters, digits, _)`,
      {
        httpStatus: 400,
      },
    );
  }
  const url = await serverUrl(options);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [
      options.name,
    ]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${options.name}"`);
  } finally {
    await admin.end();
  }
  const databaseUrl = withDatabase(url, options.name);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`
      CREATE SCHEMA IF NOT EXISTS shop;
      CREATE TABLE IF NOT EXISTS shop.customers (id int PRIMARY KEY, name text NOT NULL, city text, joined timestamptz NOT NULL);
      CREATE TABLE IF NOT EXISTS shop.orders (id int PRIMARY KEY, customer_id int REFERENCES shop.customers (id), total numeric(10,2), items jsonb, placed_at timestamptz);
      TRUNCATE shop.orders, shop.customers;
      INSERT INTO shop.customers
        SELECT g, 'Customer ' || g, (ARRAY['Zürich','São Paulo','Kraków','Dublin'])[1 + g % 4], timestamptz '2024-01-01' + g * interval '1 day'
        FROM generate_series(1, 100) g;
      INSERT INTO shop.orders
        SELECT g, 1 + g % 100, round((g * 7.31)::numeric % 500, 2), jsonb_build_object('sku', 'SKU-' || g, 'qty', 1 + g % 5), timestamptz '2025-01-01' + g * interval '3 hours'
        FROM generate_series(1, 400) g;
    `);
  } finally {
    await client.end();
  }
  const store = new LocalSecretStore({ stateDir: options.stateDir });
  const secretUri = await store.setSecret(options.name, databaseUrl);
  return { databaseName: options.name, secretUri, rows: 500 };
}
