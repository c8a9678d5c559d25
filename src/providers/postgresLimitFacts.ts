/**
 * Reads what the service's limits need from a database itself, through the connection protection
 * already checks: its owner, its size and its largest BYTEA values (see
 * `domain/protection/serviceLimits.ts`).
 *
 * @remarks Bounded work on the customer's server: BYTEA lengths come from the values' headers
 * (`octet_length` does not read a stored value), a table of more than {@link fullScanMaxRows}
 * rows is sampled by pages (`TABLESAMPLE SYSTEM`) instead of read whole, at most
 * {@link maxByteaColumns} columns are looked at, and every statement has a time limit.
 */
import type pg from "pg";
import type { PostgresConnectionParams } from "../domain/protection/connectionString.js";
import type { DatabaseLimitFacts, LargestByteaValue } from "../domain/protection/serviceLimits.js";
import { clientConfig, quoteIdent, withClient } from "./local/pgConnection.js";

/** Tables up to this many rows (by the planner's estimate) have every BYTEA value measured. */
export const fullScanMaxRows = 100_000;

/** Rows a sample of a larger table reads at most. */
export const sampleRows = 100_000;

/** BYTEA columns measured at most per database. */
export const maxByteaColumns = 100;

/** The time limit of each statement. */
const statementTimeout = "15s";

/** How long connecting may take: onboarding answers while the caller waits. */
const connectTimeoutMs = 5_000;

interface ByteaColumn {
  readonly schema: string;
  readonly table: string;
  readonly column: string;
  readonly rows: number;
}

/** The largest BYTEA value of one column: all rows of a small table, a sample of a large one. */
async function largestIn(
  client: pg.Client,
  column: ByteaColumn,
): Promise<{ bytes: number | undefined; sampled: boolean }> {
  const table = `${quoteIdent(column.schema)}.${quoteIdent(column.table)}`;
  const value = quoteIdent(column.column);
  const sampled = column.rows > fullScanMaxRows;
  // SYSTEM sampling picks whole pages at random: bounded reads, no full scan.
  const percent = Math.max(0.01, Math.min(100, (sampleRows / Math.max(column.rows, 1)) * 100));
  const sql = sampled
    ? `SELECT max(octet_length(v)) AS bytes FROM (SELECT ${value} AS v FROM ${table} TABLESAMPLE SYSTEM (${percent.toFixed(4)}) LIMIT ${sampleRows}) s`
    : `SELECT max(octet_length(${value})) AS bytes FROM ${table}`;
  const result = await client.query<{ bytes: string | null }>(sql);
  const bytes = result.rows[0]?.bytes;
  return { bytes: bytes === null || bytes === undefined ? undefined : Number(bytes), sampled };
}

/**
 * Reads one database's owner, size and largest BYTEA value.
 *
 * @param params - a connection to the server; `database` names the database read.
 * @throws AppError `DATASOURCE_UNREACHABLE` or `MISSING_DB_PERMISSIONS` when the connection fails.
 */
export async function readDatabaseLimitFacts(
  params: PostgresConnectionParams,
  database: string,
): Promise<DatabaseLimitFacts> {
  return withClient(
    { ...clientConfig(params, database), connectionTimeoutMillis: connectTimeoutMs },
    `Reading ${database} for the service's limits`,
    async (client) => {
      await client.query(`SET statement_timeout = '${statementTimeout}'`);
      const owner = await client.query<{ owner: string; size: string }>(
        `SELECT r.rolname AS owner, pg_database_size(d.oid)::text AS size
           FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba
          WHERE d.datname = current_database()`,
      );
      const columns = await client.query<{
        schema: string;
        table: string;
        column: string;
        rows: string;
      }>(
        `SELECT n.nspname AS schema, c.relname AS table, a.attname AS column,
                greatest(c.reltuples, 0)::bigint::text AS rows
           FROM pg_attribute a
           JOIN pg_class c ON c.oid = a.attrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE a.atttypid = 'bytea'::regtype AND a.attnum > 0 AND NOT a.attisdropped
            AND c.relkind IN ('r', 'm')
            AND n.nspname NOT IN ('pg_catalog', 'information_schema')
            AND n.nspname NOT LIKE 'pg_toast%'
          ORDER BY c.reltuples DESC
          LIMIT ${maxByteaColumns}`,
      );
      let largest: LargestByteaValue | undefined;
      const sampledTables = new Set<string>();
      for (const row of columns.rows) {
        const column = { ...row, rows: Number(row.rows) };
        const found = await largestIn(client, column);
        const name = `${row.schema}.${row.table}`;
        if (found.sampled) sampledTables.add(name);
        if (found.bytes !== undefined && found.bytes > (largest?.bytes ?? -1)) {
          largest = { bytes: found.bytes, table: name, column: row.column };
        }
      }
      const first = owner.rows[0];
      return {
        name: database,
        owner: first?.owner ?? "",
        ...(first ? { sizeBytes: Number(first.size) } : {}),
        ...(largest ? { largestBytea: largest } : {}),
        byteaSampledTables: [...sampledTables],
      };
    },
  );
}

/** Databases a server connection lists (templates and the service's own left out), at most `limit`. */
export async function listUserDatabases(
  params: PostgresConnectionParams,
  limit: number,
): Promise<string[]> {
  return withClient(
    { ...clientConfig(params), connectionTimeoutMillis: connectTimeoutMs },
    "Listing databases for the service's limits",
    async (client) => {
      const result = await client.query<{ datname: string }>(
        `SELECT datname FROM pg_database
        WHERE NOT datistemplate AND datallowconn
          AND datname NOT IN ('azure_maintenance', 'azure_sys')
        ORDER BY datname LIMIT ${limit}`,
      );
      return result.rows.map((row) => row.datname);
    },
  );
}
