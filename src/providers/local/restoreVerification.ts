/**
 * Verifies a restore: per table, the row count and a content checksum of the recovery point's
 * data (read from the dump file itself, through `pg_restore --data-only`) against the same of the
 * restored database (through `COPY ... TO STDOUT`); large objects by id and SHA-256 of content.
 *
 * @remarks Both sides are hashed in COPY text format, row by row, and the row hashes are summed,
 * so the checksum does not depend on row order and memory does not grow with the data. Both sides
 * run with the settings `pg_dump` uses (ISO dates, `postgres` intervals, 3 extra float digits, UTC),
 * which is why backups pin `PGTZ=UTC`.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import path from "node:path";
import { createInterface } from "node:readline";
import { AppError } from "../../domain/errors.js";
import {
  libpqEnvironment,
  type PostgresConnectionParams,
} from "../../domain/protection/connectionString.js";
import { clientConfig, withClient } from "./pgConnection.js";
import { ToolFailedError } from "./processes.js";

/** Session settings both sides of a comparison use (those `pg_dump` sets, plus a fixed zone). */
export const DUMP_SESSION_ENV = { PGTZ: "UTC" } as const;
const COPY_SESSION_OPTIONS =
  "-c DateStyle=ISO -c IntervalStyle=postgres -c extra_float_digits=3 -c TimeZone=UTC";

/** Row count and order-independent checksum of one table's data. */
export interface TableFingerprint {
  /** The table as the dump names it, e.g. `public.orders` or `s2."Weird Name"`. */
  readonly table: string;
  /** The column list of the dump's COPY statement (without parentheses), empty for none. */
  readonly columns: string;
  readonly rows: number;
  readonly checksum: string;
}

/** What a dump holds: table data and large objects. */
export interface DumpFingerprint {
  readonly clientEncoding: string;
  readonly tables: readonly TableFingerprint[];
  /** Large object id -> hex SHA-256 of its bytes. */
  readonly largeObjects: Readonly<Record<string, string>>;
}

/** One table's comparison. */
export interface TableComparison {
  readonly table: string;
  readonly expectedRows: number;
  readonly actualRows: number;
  readonly expectedChecksum: string;
  readonly actualChecksum: string;
  readonly matches: boolean;
}

/** The outcome of a verification. */
export interface RestoreVerificationReport {
  readonly verified: boolean;
  readonly tables: readonly TableComparison[];
  readonly largeObjectsExpected: number;
  readonly largeObjectsMatching: number;
  /** One sentence per difference. */
  readonly mismatches: readonly string[];
}

/** Sums 128-bit row hashes (as two 64-bit lanes) so that row order does not matter. */
class MultisetHash {
  #high = 0n;
  #low = 0n;
  rows = 0;

  add(line: string): void {
    const digest = createHash("sha256").update(line, "utf8").digest();
    this.#high = BigInt.asUintN(64, this.#high + digest.readBigUInt64BE(0));
    this.#low = BigInt.asUintN(64, this.#low + digest.readBigUInt64BE(8));
    this.rows += 1;
  }

  get checksum(): string {
    return `${this.#high.toString(16).padStart(16, "0")}${this.#low.toString(16).padStart(16, "0")}`;
  }
}

const COPY_START = /^COPY (.+?) (?:\((.*)\) )?FROM stdin;$/;
const LO_OPEN = /^SELECT pg_catalog\.lo_open\('(\d+)', \d+\);$/;
const LO_WRITE = /^SELECT pg_catalog\.lowrite\(0, '\\x([0-9a-f]*)'\);$/;
const LO_CLOSE = /^SELECT pg_catalog\.lo_close\(0\);$/;
const ENCODING = /^SET client_encoding = '([^']+)';$/;

/** Reads a custom-format dump's data through `pg_restore --data-only -f -` and fingerprints it. */
export async function fingerprintDump(binDir: string, dumpFile: string): Promise<DumpFingerprint> {
  const child = spawn(path.join(binDir, "pg_restore"), ["--data-only", "-f", "-", dumpFile], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });

  const tables: TableFingerprint[] = [];
  const largeObjects: Record<string, string> = {};
  let clientEncoding = "UTF8";
  let table: { name: string; columns: string; hash: MultisetHash } | undefined;
  let largeObject: { id: string; hash: ReturnType<typeof createHash> } | undefined;

  for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
    if (table) {
      if (line === "\\.") {
        tables.push({
          table: table.name,
          columns: table.columns,
          rows: table.hash.rows,
          checksum: table.hash.checksum,
        });
        table = undefined;
      } else {
        table.hash.add(line);
      }
      continue;
    }
    const copy = COPY_START.exec(line);
    if (copy) {
      table = { name: copy[1] as string, columns: copy[2] ?? "", hash: new MultisetHash() };
      continue;
    }
    const open = LO_OPEN.exec(line);
    if (open) {
      largeObject = { id: open[1] as string, hash: createHash("sha256") };
      continue;
    }
    const write = LO_WRITE.exec(line);
    if (write && largeObject) {
      largeObject.hash.update(Buffer.from(write[1] as string, "hex"));
      continue;
    }
    if (LO_CLOSE.test(line) && largeObject) {
      largeObjects[largeObject.id] = largeObject.hash.digest("hex");
      largeObject = undefined;
      continue;
    }
    const encoding = ENCODING.exec(line);
    if (encoding) clientEncoding = encoding[1] as string;
  }
  const exitCode = await exited;
  if (exitCode !== 0) throw new ToolFailedError("pg_restore", exitCode, stderr);
  return { clientEncoding, tables, largeObjects };
}

/** Hashes one table of a live database in COPY text format, through `psql`. */
async function fingerprintTable(
  binDir: string,
  params: PostgresConnectionParams,
  database: string,
  clientEncoding: string,
  table: string,
  columns: string,
): Promise<MultisetHash> {
  const env = {
    ...process.env,
    ...libpqEnvironment(params, database),
    PGCLIENTENCODING: clientEncoding,
    PGOPTIONS: COPY_SESSION_OPTIONS,
  };
  const sql = `COPY ${table}${columns ? ` (${columns})` : ""} TO STDOUT`;
  const child = spawn(path.join(binDir, "psql"), ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });
  const hash = new MultisetHash();
  for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity }))
    hash.add(line);
  const exitCode = await exited;
  if (exitCode !== 0) throw new ToolFailedError("psql", exitCode, stderr);
  return hash;
}

/**
 * Compares a dump's data with a restored database.
 *
 * @param binDir - folder of `pg_restore` and `psql`.
 * @param params - connection to the server holding the restored database.
 */
export async function verifyRestoredDatabase(
  binDir: string,
  dumpFile: string,
  params: PostgresConnectionParams,
  database: string,
): Promise<RestoreVerificationReport> {
  const expected = await fingerprintDump(binDir, dumpFile);
  const tables: TableComparison[] = [];
  const mismatches: string[] = [];
  for (const table of expected.tables) {
    let actual: MultisetHash;
    try {
      actual = await fingerprintTable(
        binDir,
        params,
        database,
        expected.clientEncoding,
        table.table,
        table.columns,
      );
    } catch (error) {
      mismatches.push(
        `${table.table}: cannot be read in the restored database (${(error as Error).message})`,
      );
      tables.push({
        table: table.table,
        expectedRows: table.rows,
        actualRows: 0,
        expectedChecksum: table.checksum,
        actualChecksum: "",
        matches: false,
      });
      continue;
    }
    const matches = actual.rows === table.rows && actual.checksum === table.checksum;
    if (actual.rows !== table.rows)
      mismatches.push(`${table.table}: ${table.rows} rows expected, ${actual.rows} found`);
    else if (!matches)
      mismatches.push(`${table.table}: same row count (${table.rows}) but different content`);
    tables.push({
      table: table.table,
      expectedRows: table.rows,
      actualRows: actual.rows,
      expectedChecksum: table.checksum,
      actualChecksum: actual.checksum,
      matches,
    });
  }

  const expectedObjects = Object.entries(expected.largeObjects);
  let largeObjectsMatching = 0;
  if (expectedObjects.length > 0) {
    await withClient(
      clientConfig(params, database),
      `Reading large objects of '${database}'`,
      async (client) => {
        for (const [id, sha256] of expectedObjects) {
          const result = await client.query<{ data: Buffer | null }>(
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_largeobject_metadata WHERE oid = $1::oid) THEN lo_get($1::oid) END AS data",
            [id],
          );
          const data = result.rows[0]?.data;
          if (!data) mismatches.push(`large object ${id}: missing`);
          else if (createHash("sha256").update(data).digest("hex") !== sha256)
            mismatches.push(`large object ${id}: different content`);
          else largeObjectsMatching += 1;
        }
      },
    );
  }

  return {
    verified: mismatches.length === 0,
    tables,
    largeObjectsExpected: expectedObjects.length,
    largeObjectsMatching,
    mismatches,
  };
}

/** The error a restore job fails with when verification finds differences. */
export function verificationFailure(report: RestoreVerificationReport, code: string): AppError {
  return new AppError(
    code,
    `The restored database differs from the recovery point: ${report.mismatches.slice(0, 5).join("; ")}`,
    {
      httpStatus: 500,
    },
  );
}
