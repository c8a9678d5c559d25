/**
 * Restores a directory-format dump with its table data verified as it loads: the schema without
 * indexes and constraints first (`pg_restore --section=pre-data`), then every table's data file
 * streamed by this process into the server's `COPY ... FROM STDIN`, several tables at a time, then
 * indexes, constraints and triggers with parallel jobs (`--section=post-data -j`).
 *
 * @remarks What a loaded table's check means: every byte of the table's data file was read once,
 * as it went to the server, through SHA-256, and the digest equals the one the backup recorded for
 * that file in the manifest; the rows of the file (its lines before COPY's end marker) equal the
 * rows the server's own `COPY` reports having stored, in a committed transaction. So the rows the
 * server holds are the backup's rows, received in full; the data are not read back. Large objects
 * and sequence values are loaded by `pg_restore` and compared afterwards as before, and the
 * structure is compared with the one the backup recorded (see `restoreVerification.ts`).
 *
 * Compared with reading each table back after `pg_restore`: the data go through this process once
 * instead of three times (the dump's fingerprint, the load, the read-back), the tables load in
 * parallel, and the indexes are built once all data are in, in parallel. The rows are written frozen
 * (see {@link emptiedInThisTransaction}), so no index build or first VACUUM writes every page again
 * to set hint bits. The check of the recovery point's files before the restore leaves the table
 * data files' content to this load (it checks their presence and size), so a data file is read
 * once in all; a content change found here fails the restore with `RecoveryPointCorrupt` (see
 * `restores.ts`).
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import pLimit from "p-limit";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { PostgresConnectionParams } from "../../domain/protection/connectionString.js";
import type { RecoveryPointFilePart } from "../../domain/protection/types.js";
import { clientConfig, postgresFailure } from "./pgConnection.js";
import { runTool, ToolFailedError, toolSpawnOptions } from "./processes.js";
import type { TableComparison } from "./restoreVerification.js";

/** One table's data entry of the dump's table of contents. */
export interface TableDataEntry {
  /** The entry's line in `pg_restore -l`, as a list file selects it. */
  readonly listLine: string;
  /** The dump id, which names its data file (`<id>.dat.gz` or `<id>.dat`). */
  readonly dumpId: number;
}

/** The dump's table of contents, split into table data and everything else. */
export interface DumpContents {
  readonly tables: readonly TableDataEntry[];
  /** Every other line of the list: what `pg_restore` restores itself. */
  readonly otherLines: readonly string[];
}

/**
 * A table's data file of a directory-format dump (`<dump id>.dat.gz`, or `.dat` uncompressed):
 * what a verified load reads, and hashes as it reads.
 */
export function isTableDataFile(fileName: string): boolean {
  return /^\d+\.dat(\.gz)?$/.test(fileName);
}

/** `<id>; <catalog oid> <oid> TABLE DATA ...`: a table's data entry in `pg_restore -l`. */
const TABLE_DATA_LINE = /^(\d+); \d+ \d+ TABLE DATA /;

/** Lists a directory-format dump's entries (`pg_restore -l`). */
export async function dumpContents(binDir: string, dumpDir: string): Promise<DumpContents> {
  const { stdout } = await runTool(path.join(binDir, "pg_restore"), ["-l", dumpDir]);
  const tables: TableDataEntry[] = [];
  const otherLines: string[] = [];
  for (const line of stdout.split("\n")) {
    const match = TABLE_DATA_LINE.exec(line);
    if (match) tables.push({ listLine: line, dumpId: Number(match[1]) });
    else if (line.trim() !== "" && !line.startsWith(";")) otherLines.push(line);
  }
  return { tables, otherLines };
}

/** The session settings and the `COPY` statement a table's data are loaded with. */
export interface CopyHeader {
  readonly settings: readonly string[];
  readonly copyStatement: string;
  /** The table as the dump names it, e.g. `public.orders`. */
  readonly table: string;
}

const COPY_START = /^COPY (.+?) (?:\(.*\) )?FROM stdin;$/;
/** Statements of `pg_restore`'s script that set the session up; nothing else runs. */
const SESSION_SETTING = /^(SET [a-z_]+ = .+;|SELECT pg_catalog\.set_config\('[a-z_]+', .+\);)$/;

/**
 * Reads the start of `pg_restore`'s script for one table's data entry: its session settings and
 * its `COPY` statement. The tool is stopped once the statement is read: the data come from the
 * file itself.
 */
async function copyHeaderOf(
  binDir: string,
  dumpDir: string,
  listFile: string,
): Promise<CopyHeader> {
  const child = spawn(
    path.join(binDir, "pg_restore"),
    ["--data-only", "-L", listFile, "-f", "-", dumpDir],
    { ...toolSpawnOptions, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const settings: string[] = [];
  let pending = "";
  try {
    for await (const chunk of child.stdout.setEncoding("utf8") as AsyncIterable<string>) {
      pending += chunk;
      let end = pending.indexOf("\n");
      while (end !== -1) {
        const line = pending.slice(0, end);
        pending = pending.slice(end + 1);
        const copy = COPY_START.exec(line);
        if (copy) return { settings, copyStatement: line, table: copy[1] as string };
        if (SESSION_SETTING.test(line)) settings.push(line);
        end = pending.indexOf("\n");
      }
    }
    throw new ToolFailedError("pg_restore", null, `no COPY statement in ${listFile}: ${stderr}`);
  } finally {
    child.kill("SIGKILL");
    await closed;
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * Counts the rows that pass and lets through only those before COPY's end marker (a line `\.`,
 * which `pg_dump` writes after a table's data and a client's `COPY FROM STDIN` must not send).
 *
 * @remarks COPY's text format escapes line ends and backslashes inside values, so every raw line
 * end ends a row and a line `\.` can only be the marker. The start of a line is held back while
 * it is no longer than the marker and its end has not come.
 */
export class CopyRows extends Transform {
  rows = 0;
  #ended = false;
  /** The start of a line not ended yet, while it may still be the marker (at most 2 bytes). */
  #held: Buffer = EMPTY;
  /** The line not ended yet is longer than the marker, and its bytes were passed on. */
  #longLine = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.#ended) return done();
    const data = this.#held.length > 0 ? Buffer.concat([this.#held, chunk]) : chunk;
    this.#held = EMPTY;
    let start = 0;
    let longLine = this.#longLine;
    for (let end = data.indexOf(10); end !== -1; end = data.indexOf(10, start)) {
      if (!longLine && end - start === 2 && data[start] === 92 && data[start + 1] === 46) {
        if (start > 0) this.push(data.subarray(0, start));
        this.#ended = true;
        return done();
      }
      this.rows += 1;
      start = end + 1;
      longLine = false;
    }
    if (!longLine && data.length - start <= 2) {
      this.#held = Buffer.from(data.subarray(start));
      this.#longLine = false;
      if (start > 0) this.push(data.subarray(0, start));
    } else {
      this.#longLine = true;
      this.push(data);
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    // Data that end without a line end: the last row is passed on as it is, for COPY to judge.
    if (!this.#ended && (this.#held.length > 0 || this.#longLine)) this.rows += 1;
    if (this.#held.length > 0) this.push(this.#held);
    done();
  }
}

/** The `COPY` header of one table's data entry, through a list file in `scratch`. */
async function copyHeaderFor(
  binDir: string,
  dumpDir: string,
  scratch: string,
  entry: TableDataEntry,
): Promise<CopyHeader> {
  const listFile = path.join(scratch, `${entry.dumpId}.list`);
  await writeFile(listFile, `${entry.listLine}\n`, { mode: 0o600 });
  try {
    return await copyHeaderOf(binDir, dumpDir, listFile);
  } finally {
    await rm(listFile, { force: true });
  }
}

/**
 * Reads every table's `COPY` header with one `pg_restore`: they need the dump's table of contents
 * only, so they are read while the schema is restored, and the loads then start at once.
 *
 * @remarks `pg_restore --data-only -f -` prints each entry's `COPY` statement and then the
 * entry's data file as it is. It runs over a scratch folder holding the dump's `toc.dat` and an
 * empty file in place of each table's data file, so it reads no data and ends at once; a `-L`
 * list gives the entries in the order their statements then come. Each table gets the session
 * settings printed before its statement, as `pg_restore`'s one session would have them. Should the
 * statements not pair with the list (not one `COPY` per entry), each header is read on its own,
 * from the dump, as before (one tool per table, `concurrency` at a time).
 */
export function copyHeaders(
  binDir: string,
  dumpDir: string,
  scratch: string,
  entries: readonly TableDataEntry[],
  concurrency: number,
): Map<number, Promise<CopyHeader>> {
  const all = readAllCopyHeaders(binDir, dumpDir, scratch, entries).catch(() => undefined);
  const limit = pLimit(Math.max(1, concurrency));
  const headers = new Map<number, Promise<CopyHeader>>();
  for (const [index, entry] of entries.entries()) {
    const header = all.then(
      (read) => read?.[index] ?? limit(() => copyHeaderFor(binDir, dumpDir, scratch, entry)),
    );
    // A failure is the load's to report, when it asks for the header.
    header.catch(() => undefined);
    headers.set(entry.dumpId, header);
  }
  return headers;
}

/** `-- Data for Name: <name>; Type: TABLE DATA; Schema: <schema>; Owner: ...` in a script. */
const DATA_HEADER = /^-- Data for Name: (.*); Type: TABLE DATA; Schema: (.*); Owner: /;

/** Every entry's header in the list's order, or undefined when they do not pair with it. */
async function readAllCopyHeaders(
  binDir: string,
  dumpDir: string,
  scratch: string,
  entries: readonly TableDataEntry[],
): Promise<CopyHeader[] | undefined> {
  if (entries.length === 0) return [];
  const folder = await mkdtemp(path.join(scratch, "headers-"));
  await copyFile(path.join(dumpDir, "toc.dat"), path.join(folder, "toc.dat"));
  // `<id>.dat` is opened before `<id>.dat.gz`: an empty one stands for either.
  await Promise.all(entries.map((e) => writeFile(path.join(folder, `${e.dumpId}.dat`), "")));
  const listFile = path.join(folder, "tables.list");
  await writeFile(listFile, `${entries.map((e) => e.listLine).join("\n")}\n`, { mode: 0o600 });
  const { stdout } = await runTool(path.join(binDir, "pg_restore"), [
    "--data-only",
    "-L",
    listFile,
    "-f",
    "-",
    folder,
  ]);
  const headers: CopyHeader[] = [];
  // The settings so far, as the script's one session would have them at each statement.
  const settings: string[] = [];
  for (const line of stdout.split("\n")) {
    const named = DATA_HEADER.exec(line);
    if (named) {
      // Each statement must be the one of the list's entry at its place.
      const entry = entries[headers.length];
      if (!entry?.listLine.includes(` TABLE DATA ${named[2]} ${named[1]} `)) return undefined;
      continue;
    }
    const copy = COPY_START.exec(line);
    if (copy) {
      headers.push({ settings: [...settings], copyStatement: line, table: copy[1] as string });
    } else if (SESSION_SETTING.test(line)) settings.push(line);
  }
  return headers.length === entries.length ? headers : undefined;
}

/** Hashes what passes through. */
class Digest extends Transform {
  readonly #hash = createHash("sha256");
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#hash.update(chunk);
    done(null, chunk);
  }
  hex(): string {
    return this.#hash.digest("hex");
  }
}

/** Options of {@link loadTablesVerified}. */
export interface VerifiedLoadOptions {
  readonly binDir: string;
  readonly dumpDir: string;
  /** The dump's files as the manifest records them (name, size, SHA-256). */
  readonly parts: readonly RecoveryPointFilePart[];
  readonly params: PostgresConnectionParams;
  readonly database: string;
  readonly contents: DumpContents;
  /** Tables loaded at a time. */
  readonly jobs: number;
  /** A scratch folder for list files. */
  readonly scratch: string;
  /** Headers read beforehand ({@link copyHeaders}), by dump id; the others are read on the way. */
  readonly headers?: ReadonlyMap<number, Promise<CopyHeader>>;
  /** `-c name=value` options every session starts with (as the tools' `PGOPTIONS`). */
  readonly sessionOptions?: string | undefined;
}

/**
 * Empties a plain table in the open transaction (`TRUNCATE ONLY`), so that its `COPY` may write
 * its rows frozen; returns false, touching nothing, for any other target.
 *
 * @remarks The table was created empty by this restore's pre-data moments ago and nobody else
 * uses the new database, so the truncation removes nothing; it gives the table a new file in this
 * transaction, which is what `COPY ... FREEZE` requires. Frozen rows are visible to all at once
 * and their pages are marked all-visible as they are written, so the index builds that read the
 * table next do not set hint bits on every row and write every page of it a second time, and the
 * first VACUUM has nothing to freeze. If wal_level is `minimal`, the server skips the WAL of the
 * rows too, as it does for `pg_restore -j`, which truncates likewise. A partitioned table (the
 * target of a dump made with `--load-via-partition-root`) is not truncated: that would empty the
 * partitions other loads fill.
 */
async function emptiedInThisTransaction(client: pg.Client, table: string): Promise<boolean> {
  const found = await client.query<{ relkind: string }>(
    "SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass($1)",
    [table],
  );
  if (found.rows[0]?.relkind !== "r") return false;
  // The name is the dump's own quoted, schema-qualified one, as pg_restore would send it.
  await client.query(`TRUNCATE ONLY ${table}`);
  return true;
}

/** Loads one table's data file into the server, hashing and counting what it sends. */
async function loadTable(
  options: VerifiedLoadOptions,
  entry: TableDataEntry,
): Promise<TableComparison & { readonly mismatch?: string }> {
  const header = await (options.headers?.get(entry.dumpId) ??
    copyHeaderFor(options.binDir, options.dumpDir, options.scratch, entry));
  const part = options.parts.find(
    (p) => p.fileName === `${entry.dumpId}.dat.gz` || p.fileName === `${entry.dumpId}.dat`,
  );
  if (!part) {
    return {
      table: header.table,
      expectedRows: 0,
      actualRows: 0,
      expectedChecksum: "",
      actualChecksum: "",
      matches: false,
      mismatch: `${header.table}: its data file (${entry.dumpId}.dat.gz) is not in the recovery point's manifest`,
    };
  }
  const client = new pg.Client({
    ...clientConfig(options.params, options.database),
    ...(options.sessionOptions ? { options: options.sessionOptions } : {}),
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    for (const setting of header.settings) await client.query(setting);
    await client.query("BEGIN");
    const freeze = await emptiedInThisTransaction(client, header.table);
    const digest = new Digest();
    const rows = new CopyRows();
    const copy = client.query(
      copyFrom(
        header.copyStatement.replace(
          / FROM stdin;$/,
          freeze ? " FROM STDIN WITH (FREEZE)" : " FROM STDIN",
        ),
      ),
    );
    const stages = [
      createReadStream(path.join(options.dumpDir, part.fileName), { highWaterMark: 256 * 1024 }),
      digest,
      ...(part.fileName.endsWith(".gz") ? [createGunzip({ chunkSize: 256 * 1024 })] : []),
      rows,
      copy,
    ] as const;
    await pipeline(stages as unknown as [NodeJS.ReadableStream, ...NodeJS.WritableStream[]]);
    const stored = Number(copy.rowCount ?? -1);
    await client.query("COMMIT");
    const actualChecksum = digest.hex();
    const matches = stored === rows.rows && actualChecksum === part.sha256;
    return {
      table: header.table,
      expectedRows: rows.rows,
      actualRows: stored,
      expectedChecksum: part.sha256,
      actualChecksum,
      matches,
      ...(stored !== rows.rows
        ? { mismatch: `${header.table}: ${rows.rows} rows in the recovery point, ${stored} stored` }
        : actualChecksum !== part.sha256
          ? {
              mismatch: `${header.table}: its data file read while loading differs from what the backup recorded (SHA-256 ${actualChecksum}, recorded ${part.sha256})`,
            }
          : {}),
    };
  } catch (error) {
    throw postgresFailure(error, `Loading ${header.table} into '${options.database}'`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Loads every table's data, `jobs` at a time (largest files first, so that the last to end is a
 * small one), and returns each table's check in the dump's order.
 *
 * @remarks Once a load has failed or found its data file changed, no new table's load starts (the
 * loads under way end): the restore fails then whatever the others would find, and the sooner it
 * does, the sooner its database is dropped. The checks returned are then those of the tables
 * loaded, the changed one among them; a failure is thrown at once (the database's drop ends the
 * loads still under way).
 */
export async function loadTablesVerified(
  options: VerifiedLoadOptions,
): Promise<Array<TableComparison & { readonly mismatch?: string }>> {
  const sizeOf = (entry: TableDataEntry) =>
    options.parts.find((p) => p.fileName.startsWith(`${entry.dumpId}.dat`))?.sizeBytes ?? 0;
  const order = options.contents.tables
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => sizeOf(b.entry) - sizeOf(a.entry));
  const results: Array<TableComparison & { readonly mismatch?: string }> = [];
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < order.length) {
      const { entry, index } = order[next++] as (typeof order)[number];
      try {
        const loaded = await loadTable(options, entry);
        results[index] = loaded;
        if (loaded.actualChecksum !== loaded.expectedChecksum) failed = true;
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const workers = Math.max(1, Math.min(options.jobs, order.length));
  await Promise.all(Array.from({ length: workers }, worker));
  // Without holes where a table was not loaded.
  return results.filter((result) => result !== undefined);
}
