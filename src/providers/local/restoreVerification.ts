/**
 * Verifies a restore: per table, the row count and a content checksum of the recovery point's
 * data (read from the dump file itself, through `pg_restore --data-only`) against the same of the
 * restored database (through `COPY ... TO STDOUT`); large objects by id and SHA-256 of content;
 * each sequence's value as the dump set it; and, where the backup recorded it, the structure
 * (see `databaseStructure.ts`). The report names what it compared, what it could not compare
 * and what the restore does not carry over (ownership and privileges), so that `verified` never
 * speaks for more than was checked.
 *
 * @remarks Both sides are hashed in COPY text format, row by row, and the row hashes are summed,
 * so the checksum does not depend on row order and memory does not grow with the data. Both sides
 * run with the settings `pg_dump` uses (ISO dates, `postgres` intervals, 3 extra float digits, UTC),
 * which is why backups pin `PGTZ=UTC`.
 */
import { spawn } from "node:child_process";
import { createHash, hash } from "node:crypto";
import path from "node:path";
import type { Readable } from "node:stream";
import type pg from "pg";
import { AppError, type ErrorCode } from "../../domain/errors.js";
import {
  libpqEnvironment,
  type PostgresConnectionParams,
} from "../../domain/protection/connectionString.js";
import type {
  RecordedStructure,
  RestoreVerificationSummary,
} from "../../domain/protection/types.js";
import { compareStructure, describeStructure, STRUCTURE_FORMAT } from "./databaseStructure.js";
import { clientConfig, withClient } from "./pgConnection.js";
import { toolSessionOptions, toolSpawnOptions, ToolFailedError } from "./processes.js";

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
  /** Sequence as the dump names it (e.g. `sales.orders_id_seq`) -> the value the dump sets. */
  readonly sequences: Readonly<Record<string, SequenceValue>>;
}

/** A sequence's state as `setval(name, value, called)` sets it. */
export interface SequenceValue {
  readonly value: string;
  readonly called: boolean;
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
  /** The restored database. */
  readonly database: string;
  /** Every comparison in `checked` found no difference. */
  readonly verified: boolean;
  readonly tables: readonly TableComparison[];
  readonly largeObjectsExpected: number;
  readonly largeObjectsMatching: number;
  readonly sequencesExpected: number;
  readonly sequencesMatching: number;
  /** Objects of the recorded structure compared; undefined when the structure was not compared. */
  readonly structureObjects: number | undefined;
  /** What was compared, one phrase each. */
  readonly checked: readonly string[];
  /** What could not be compared, and why. */
  readonly notChecked: readonly string[];
  /** What the restore does not carry over. */
  readonly notRestored: readonly string[];
  /** One sentence per difference. */
  readonly mismatches: readonly string[];
}

/** A tool the verification runs, for the job to record (a later process stops a stray one). */
export interface VerificationTool {
  readonly pid: number;
  readonly program: "pg_restore" | "psql";
}

/** What {@link verifyRestoredDatabase} compares besides the dump's data, and how it runs. */
export interface VerificationOptions {
  /** The structure the backup recorded; absent for recovery points of earlier versions. */
  readonly structure?: RecordedStructure;
  /** The server's major version, for the session options it knows (see `processes.ts`). */
  readonly serverMajor?: number;
  /** Called when a tool starts (with its pid) and when it has ended (with `undefined`). */
  readonly onTool?: (tool: VerificationTool | undefined) => void;
  /**
   * The dump's fingerprint, when the caller started reading it already ({@link fingerprintDump}):
   * a restore reads it while `pg_restore` loads the database.
   */
  readonly dumpFingerprint?: Promise<DumpFingerprint>;
  /**
   * Tables of the restored database read at a time (1 by default). Only the last tool started is
   * recorded through `onTool`; the others end on their own when the process reading them dies (a
   * write to a closed pipe ends them).
   */
  readonly jobs?: number;
}

/** Sums 128-bit row hashes (as two 64-bit lanes) so that row order does not matter. */
class MultisetHash {
  #high = 0n;
  #low = 0n;
  rows = 0;

  /** Adds one row: its bytes as the tool wrote them (in the session's client encoding). */
  add(line: Buffer): void {
    // One-shot: a hash object per row would cost more than hashing the row.
    const digest = hash("sha256", line, "buffer");
    this.#high = BigInt.asUintN(64, this.#high + digest.readBigUInt64BE(0));
    this.#low = BigInt.asUintN(64, this.#low + digest.readBigUInt64BE(8));
    this.rows += 1;
  }

  get checksum(): string {
    return `${this.#high.toString(16).padStart(16, "0")}${this.#low.toString(16).padStart(16, "0")}`;
  }
}

/** `\.`, the line that ends a COPY block. */
const END_OF_COPY = Buffer.from("\\.");

/**
 * Calls `onLine` with each line of a tool's output, as bytes and without its line end (`\n` or
 * `\r\n`).
 *
 * @remarks Rows are hashed as bytes: decoding every row to a string, as a line reader does, costs
 * more than hashing it. COPY's text format escapes line ends inside values, so every raw `\n` ends
 * a row.
 */
async function forEachLine(input: Readable, onLine: (line: Buffer) => void): Promise<void> {
  const emit = (line: Buffer) =>
    onLine(line.length > 0 && line[line.length - 1] === 13 ? line.subarray(0, -1) : line);
  // A line not ended yet, in pieces joined once its end comes: a row longer than a chunk (a large
  // value) is copied once, not once per chunk.
  let pending: Buffer[] = [];
  for await (const chunk of input as AsyncIterable<Buffer>) {
    let start = 0;
    for (let end = chunk.indexOf(10, start); end !== -1; end = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, end);
      emit(pending.length === 0 ? piece : Buffer.concat([...pending, piece]));
      pending = [];
      start = end + 1;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  }
  if (pending.length > 0) emit(Buffer.concat(pending));
}

const COPY_START = /^COPY (.+?) (?:\((.*)\) )?FROM stdin;$/;
const LO_OPEN = /^SELECT pg_catalog\.lo_open\('(\d+)', \d+\);$/;
const LO_WRITE = /^SELECT pg_catalog\.lowrite\(0, '\\x([0-9a-f]*)'\);$/;
const LO_CLOSE = /^SELECT pg_catalog\.lo_close\(0\);$/;
const ENCODING = /^SET client_encoding = '([^']+)';$/;
const SETVAL = /^SELECT pg_catalog\.setval\('((?:[^']|'')+)', (-?\d+), (true|false)\);$/;

/** Reads a custom-format dump's data through `pg_restore --data-only -f -` and fingerprints it. */
export async function fingerprintDump(
  binDir: string,
  dumpFile: string,
  onTool?: VerificationOptions["onTool"],
  signal?: AbortSignal,
  /** More arguments of `pg_restore`, e.g. `-L list` to read some entries only. */
  extraArgs: readonly string[] = [],
): Promise<DumpFingerprint> {
  const args = ["--data-only", ...extraArgs, "-f", "-", dumpFile];
  const child = spawn(path.join(binDir, "pg_restore"), args, {
    // Its own process group: a terminal's Ctrl+C reaches the host only (see processes.ts).
    ...toolSpawnOptions,
    stdio: ["ignore", "pipe", "pipe"],
    ...(signal ? { signal } : {}),
  });
  if (child.pid !== undefined) onTool?.({ pid: child.pid, program: "pg_restore" });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });

  const tables: TableFingerprint[] = [];
  const largeObjects: Record<string, string> = {};
  const sequences: Record<string, SequenceValue> = {};
  let clientEncoding = "UTF8";
  let table: { name: string; columns: string; hash: MultisetHash } | undefined;
  let largeObject: { id: string; hash: ReturnType<typeof createHash> } | undefined;

  await forEachLine(child.stdout, (bytes) => {
    if (table) {
      if (bytes.equals(END_OF_COPY)) {
        tables.push({
          table: table.name,
          columns: table.columns,
          rows: table.hash.rows,
          checksum: table.hash.checksum,
        });
        table = undefined;
      } else {
        table.hash.add(bytes);
      }
      return;
    }
    const line = bytes.toString("utf8");
    const copy = COPY_START.exec(line);
    if (copy) {
      table = { name: copy[1] as string, columns: copy[2] ?? "", hash: new MultisetHash() };
      return;
    }
    const open = LO_OPEN.exec(line);
    if (open) {
      largeObject = { id: open[1] as string, hash: createHash("sha256") };
      return;
    }
    const write = LO_WRITE.exec(line);
    if (write && largeObject) {
      largeObject.hash.update(Buffer.from(write[1] as string, "hex"));
      return;
    }
    if (LO_CLOSE.test(line) && largeObject) {
      largeObjects[largeObject.id] = largeObject.hash.digest("hex");
      largeObject = undefined;
      return;
    }
    const setval = SETVAL.exec(line);
    if (setval) {
      sequences[(setval[1] as string).replaceAll("''", "'")] = {
        value: setval[2] as string,
        called: setval[3] === "true",
      };
      return;
    }
    const encoding = ENCODING.exec(line);
    if (encoding) clientEncoding = encoding[1] as string;
  });
  const exitCode = await exited;
  onTool?.(undefined);
  if (exitCode !== 0) throw new ToolFailedError("pg_restore", exitCode, stderr);
  return { clientEncoding, tables, largeObjects, sequences };
}

/** Hashes one table of a live database in COPY text format, through `psql`. */
async function fingerprintTable(
  binDir: string,
  params: PostgresConnectionParams,
  database: string,
  clientEncoding: string,
  table: string,
  columns: string,
  options: VerificationOptions,
): Promise<MultisetHash> {
  const connection = libpqEnvironment(params, database);
  const env = {
    ...process.env,
    ...connection,
    PGCLIENTENCODING: clientEncoding,
    ...toolSessionOptions(connection.PGOPTIONS ?? process.env.PGOPTIONS, options.serverMajor, [
      COPY_SESSION_OPTIONS,
    ]),
  };
  const sql = `COPY ${table}${columns ? ` (${columns})` : ""} TO STDOUT`;
  const child = spawn(path.join(binDir, "psql"), ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], {
    ...toolSpawnOptions,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid !== undefined) options.onTool?.({ pid: child.pid, program: "psql" });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });
  const rows = new MultisetHash();
  await forEachLine(child.stdout, (line) => rows.add(line));
  const exitCode = await exited;
  options.onTool?.(undefined);
  if (exitCode !== 0) throw new ToolFailedError("psql", exitCode, stderr);
  return rows;
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
  options: VerificationOptions = {},
): Promise<RestoreVerificationReport> {
  const expected = await (options.dumpFingerprint ??
    fingerprintDump(binDir, dumpFile, options.onTool));
  /** One table's comparison, and what differs (if anything). */
  const compareTable = async (
    table: TableFingerprint,
  ): Promise<{ comparison: TableComparison; mismatch?: string }> => {
    let actual: MultisetHash;
    try {
      actual = await fingerprintTable(
        binDir,
        params,
        database,
        expected.clientEncoding,
        table.table,
        table.columns,
        options,
      );
    } catch (error) {
      return {
        comparison: {
          table: table.table,
          expectedRows: table.rows,
          actualRows: 0,
          expectedChecksum: table.checksum,
          actualChecksum: "",
          matches: false,
        },
        mismatch: `${table.table}: cannot be read in the restored database (${(error as Error).message})`,
      };
    }
    const matches = actual.rows === table.rows && actual.checksum === table.checksum;
    const comparison = {
      table: table.table,
      expectedRows: table.rows,
      actualRows: actual.rows,
      expectedChecksum: table.checksum,
      actualChecksum: actual.checksum,
      matches,
    };
    if (actual.rows !== table.rows)
      return {
        comparison,
        mismatch: `${table.table}: ${table.rows} rows expected, ${actual.rows} found`,
      };
    if (!matches)
      return {
        comparison,
        mismatch: `${table.table}: same row count (${table.rows}) but different content`,
      };
    return { comparison };
  };
  // Tables are read `jobs` at a time; the report keeps the dump's order.
  const compared: { comparison: TableComparison; mismatch?: string }[] = [];
  let next = 0;
  const reader = async (): Promise<void> => {
    while (next < expected.tables.length) {
      const index = next;
      next += 1;
      compared[index] = await compareTable(expected.tables[index] as TableFingerprint);
    }
  };
  const readers = Math.max(1, Math.min(options.jobs ?? 1, expected.tables.length));
  await Promise.all(Array.from({ length: readers }, reader));
  const rows = compared.reduce((sum, c) => sum + c.comparison.expectedRows, 0);
  return completeReport(params, database, expected, compared, options, [
    `rows and content of ${compared.length} tables (${rows} rows)`,
  ]);
}

/**
 * Verifies a database whose tables were checked as they loaded (`verifiedLoad.ts`): their
 * comparisons are taken as they are; large objects, sequence values and structure are compared
 * as {@link verifyRestoredDatabase} compares them.
 *
 * @param others - the fingerprint of the dump's entries other than table data (large objects,
 * sequence values).
 */
export async function verifyLoadedDatabase(
  params: PostgresConnectionParams,
  database: string,
  loaded: readonly (TableComparison & { readonly mismatch?: string })[],
  others: DumpFingerprint,
  options: Pick<VerificationOptions, "structure"> = {},
): Promise<RestoreVerificationReport> {
  const rows = loaded.reduce((sum, table) => sum + table.expectedRows, 0);
  return completeReport(
    params,
    database,
    others,
    loaded.map(({ mismatch, ...comparison }) => ({
      comparison,
      ...(mismatch ? { mismatch } : {}),
    })),
    options,
    [
      `rows of ${loaded.length} tables (${rows} rows) as the server's COPY stored them while they loaded`,
      `content of ${loaded.length} tables: every byte of their data files as loaded, against the SHA-256 the backup recorded`,
    ],
  );
}

/** The report from the tables' comparisons and the rest of the checks, done now. */
async function completeReport(
  params: PostgresConnectionParams,
  database: string,
  expected: Pick<DumpFingerprint, "largeObjects" | "sequences">,
  compared: readonly { comparison: TableComparison; mismatch?: string }[],
  options: Pick<VerificationOptions, "structure">,
  tablesChecked: readonly string[],
): Promise<RestoreVerificationReport> {
  const tables = compared.map((c) => c.comparison);
  const mismatches = compared.flatMap((c) => (c.mismatch ? [c.mismatch] : []));

  const expectedObjects = Object.entries(expected.largeObjects);
  const expectedSequences = Object.entries(expected.sequences);
  const recorded = options.structure;
  const comparable = recorded?.format === STRUCTURE_FORMAT ? recorded : undefined;
  let largeObjectsMatching = 0;
  let sequencesMatching = 0;
  await withClient(clientConfig(params, database), `Verifying '${database}'`, async (client) => {
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
    for (const [name, value] of expectedSequences) {
      const actual = await sequenceValue(client, name);
      if (!actual) mismatches.push(`sequence ${name}: missing`);
      else if (actual.value !== value.value || actual.called !== value.called)
        mismatches.push(
          `sequence ${name}: ${describeSequence(value)} expected, ${describeSequence(actual)} found`,
        );
      else sequencesMatching += 1;
    }
    if (comparable) {
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      try {
        mismatches.push(...compareStructure(comparable, await describeStructure(client)));
      } finally {
        await client.query("ROLLBACK").catch(() => undefined);
      }
    }
  });

  const checked = [
    ...tablesChecked,
    `${expectedObjects.length} large objects`,
    `values of ${expectedSequences.length} sequences`,
  ];
  const notChecked: string[] = [];
  if (comparable) {
    checked.push(
      `structure: ${Object.keys(comparable.objects).length} objects (schemas, tables, columns with types, nullability and defaults, indexes, constraints, views, functions, triggers, sequences, types, rules, policies, extensions)`,
    );
  } else {
    notChecked.push(
      recorded
        ? `structure: the recovery point recorded it in format ${recorded.format}, which this version does not read`
        : "structure: the recovery point was made before backups recorded it, so only data, large objects and sequence values were compared",
    );
  }
  return {
    database,
    verified: mismatches.length === 0,
    tables,
    largeObjectsExpected: expectedObjects.length,
    largeObjectsMatching,
    sequencesExpected: expectedSequences.length,
    sequencesMatching,
    structureObjects: comparable ? Object.keys(comparable.objects).length : undefined,
    checked,
    notChecked,
    notRestored: notRestored(params, recorded),
    mismatches,
  };
}

/** A sequence's state in words. */
function describeSequence(value: SequenceValue): string {
  return value.called ? `last value ${value.value}` : `next value ${value.value}`;
}

/** A sequence's state in the restored database, or undefined when there is no such sequence. */
async function sequenceValue(client: pg.Client, name: string): Promise<SequenceValue | undefined> {
  // The name comes from the dump; the catalogue resolves and quotes it before it is used in SQL.
  const found = await client.query<{ name: string }>(
    "SELECT c.oid::pg_catalog.regclass::text AS name FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass($1) AND c.relkind = 'S'",
    [name],
  );
  const resolved = found.rows[0]?.name;
  if (!resolved) return undefined;
  const state = await client.query<{ value: string; called: boolean }>(
    `SELECT last_value::text AS value, is_called AS called FROM ${resolved}`,
  );
  const row = state.rows[0];
  return row ? { value: row.value, called: row.called } : undefined;
}

/**
 * What a restore leaves out, plainly: `pg_restore` runs with `--no-owner --no-acl`.
 *
 * @remarks Ownership and privileges name roles, which live in the server, not in the database's
 * dump: on another server a role of the same name may be other people, and a missing one would
 * fail the restore. So the restore does not apply them and says which roles the backup had, for
 * a DBA to re-apply where they mean the same.
 */
function notRestored(
  params: PostgresConnectionParams,
  recorded: RecordedStructure | undefined,
): string[] {
  const user = params.user ? `'${params.user}'` : "the user the restore connected as";
  const roles = (names: readonly string[]) => names.map((n) => `'${n}'`).join(", ");
  const owners = recorded?.owners.length
    ? `; in the backup they belonged to ${roles(recorded.owners)}`
    : "";
  const grantees = !recorded
    ? ""
    : recorded.grantees.length > 0
      ? `; the backup granted privileges to ${roles(recorded.grantees)}`
      : "; the backup granted none beyond its owners'";
  return [
    `ownership: pg_restore runs with --no-owner, so every restored object belongs to ${user}${owners}`,
    `privileges: pg_restore runs with --no-acl, so no GRANT, REVOKE or default privilege of the backup was applied${grantees}`,
  ];
}

/** Differences a job record lists at most. */
const MISMATCHES_SHOWN = 100;

/** The job's summary of a verification (the job JSON's `restoreVerification`). */
export function verificationSummary(report: RestoreVerificationReport): RestoreVerificationSummary {
  return {
    verified: report.verified,
    tables: report.tables.length,
    rows: report.tables.reduce((sum, t) => sum + t.actualRows, 0),
    largeObjects: report.largeObjectsMatching,
    // A restore into a very different database must not swell the job record without bound.
    mismatches:
      report.mismatches.length > MISMATCHES_SHOWN
        ? [
            ...report.mismatches.slice(0, MISMATCHES_SHOWN),
            `... and ${report.mismatches.length - MISMATCHES_SHOWN} more differences`,
          ]
        : report.mismatches,
    checked: report.checked,
    notChecked: report.notChecked,
    notRestored: report.notRestored,
  };
}

/** The error a restore job fails with when verification finds differences. */
export function verificationFailure(report: RestoreVerificationReport, code: ErrorCode): AppError {
  const more = report.mismatches.length > 5 ? ` (and ${report.mismatches.length - 5} more)` : "";
  return new AppError(
    code,
    `The restored database '${report.database}' differs from the recovery point: ${report.mismatches.slice(0, 5).join("; ")}${more}. It is kept for inspection.`,
    {
      httpStatus: 500,
      recommendedAction: `Read restoreVerification.mismatches, then drop database '${report.database}' or keep it knowingly`,
    },
  );
}
