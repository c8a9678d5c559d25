/**
 * Streams `pg_dump -Fc` of one database into a new file, computing its SHA-256 on the way and
 * syncing it to disk as it grows and once more before returning. The file is created exclusively
 * (the caller names it in a staging folder); on any failure the partial file is removed.
 *
 * @remarks `pg_dump` writes its output 4 KiB at a time, and each arrives on its own: a write to the
 * file per piece costs more of this process's CPU than the dump's bytes are worth (a round trip
 * through the thread pool each), CPU that the dump's own processes need when several dumps share
 * the cores. The pieces are hashed as they arrive and written out a batch at a time, and where
 * coreutils' `stdbuf` is at hand `pg_dump` runs under it with a 1 MiB buffer on its output, so
 * that a few large pieces arrive instead of many small ones (the same bytes, in the same order).
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { access, open, rm, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { AppError } from "../../domain/errors.js";
import {
  libpqEnvironment,
  type PostgresConnectionParams,
} from "../../domain/protection/connectionString.js";
import { ProviderErrorCodes } from "../ports.js";
import { DUMP_SESSION_ENV, toolSessionOptions, toolSpawnOptions } from "./processes.js";

/** Options of {@link dumpDatabaseToFile}. */
export interface DumpOptions {
  readonly binDir: string;
  readonly params: PostgresConnectionParams;
  readonly database: string;
  /** The file to create; it must not exist. */
  readonly file: string;
  /** Bytes the file may take before the dump fails as if the disk were full. */
  readonly maxBytes?: number;
  /** Aborts the dump (the child is killed). */
  readonly signal?: AbortSignal;
  /** Called with the child's pid once it runs (tests use it to interrupt a dump). */
  readonly onSpawn?: (pid: number) => void;
  /** A snapshot exported by an open transaction (`pg_export_snapshot()`) to dump in. */
  readonly snapshot?: string;
  /** The server's major version, for the session options it knows ({@link toolSessionOptions}). */
  readonly serverMajor?: number;
  /** `pg_dump -Z`: 0 (none) to 9 (smallest); pg_dump's default when absent. */
  readonly compression?: number;
}

/** Bytes written between two syncs while a dump streams, so that the last sync has little left. */
export const SYNC_EVERY_BYTES = 32 * 1024 * 1024;

/** A finished dump file. */
export interface DumpResult {
  readonly sizeBytes: number;
  readonly sha256: string;
}

/** The failure of a dump that would take more than the vault's room (`limit` bytes). */
export function vaultFullError(limit: number): AppError {
  return new AppError(
    ProviderErrorCodes.vaultStorageFull,
    `The vault has no room left for this recovery point (limit ${limit} bytes)`,
    {
      httpStatus: 507,
      recommendedAction:
        "Free space in the vault (delete expired recovery points) or raise its capacity",
    },
  );
}

/** The output buffer `pg_dump` gets under `stdbuf`: large pieces, few wake-ups of this process. */
const TOOL_OUTPUT_BUFFER = "1M";

/** `stdbuf`'s place on each `PATH` looked in. */
const stdbufLookups = new Map<string, Promise<string | undefined>>();

/** Whether a program runs and exits 0. */
function runsCleanly(program: string, args: readonly string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(program, args, { stdio: "ignore" });
    child.once("error", () => resolve(false));
    child.once("close", (code) => resolve(code === 0));
  });
}

/**
 * Where a working `stdbuf` is on the `PATH`, if anywhere (looked up once per `PATH`): one that
 * cannot run a program with its buffer (its library missing) is as good as none.
 */
function stdbufPath(): Promise<string | undefined> {
  const searchPath = process.env.PATH ?? "";
  let lookup = stdbufLookups.get(searchPath);
  if (!lookup) {
    lookup = (async () => {
      for (const folder of searchPath.split(path.delimiter).filter(Boolean)) {
        const candidate = path.join(folder, "stdbuf");
        const executable = await access(candidate, constants.X_OK).then(
          () => true,
          () => false,
        );
        if (executable)
          return (await runsCleanly(candidate, ["-o", TOOL_OUTPUT_BUFFER, "true"]))
            ? candidate
            : undefined;
      }
      return undefined;
    })();
    stdbufLookups.set(searchPath, lookup);
  }
  return lookup;
}

/**
 * The command that runs `program` with `args` and a large buffer on its standard output: under
 * `stdbuf`, which replaces itself with the program (the pid stays the program's), or the program
 * alone where `stdbuf` is missing.
 */
export async function withLargeOutputBuffer(
  program: string,
  args: readonly string[],
): Promise<{ readonly command: string; readonly args: readonly string[] }> {
  const stdbuf = await stdbufPath();
  return stdbuf
    ? { command: stdbuf, args: ["-o", TOOL_OUTPUT_BUFFER, program, ...args] }
    : { command: program, args };
}

/** Bytes gathered before one write to the file: a few writes per MiB instead of hundreds. */
export const WRITE_BATCH_BYTES = 1024 * 1024;

/**
 * Hashes and counts the bytes written to it and appends them to a file, a batch at a time; syncs
 * the file as it grows; fails once more than `limit` bytes came.
 */
class HashingFileWriter extends Writable {
  readonly hash = createHash("sha256");
  bytes = 0;
  readonly #handle: FileHandle;
  readonly #limit: number;
  #batch: Buffer[] = [];
  #batchBytes = 0;
  #written = 0;
  #unsynced = 0;
  /** The sync in the background, written back while the dump goes on. */
  #syncing: Promise<void> = Promise.resolve();
  #syncFailure: unknown;

  constructor(handle: FileHandle, limit: number) {
    super({ highWaterMark: WRITE_BATCH_BYTES });
    this.#handle = handle;
    this.#limit = limit;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error) => void) {
    this.bytes += chunk.length;
    if (this.bytes > this.#limit) {
      callback(vaultFullError(this.#limit));
      return;
    }
    this.hash.update(chunk);
    this.#batch.push(chunk);
    this.#batchBytes += chunk.length;
    // Taken at once below a batch: the bytes are held here, and the next ones may come.
    if (this.#batchBytes < WRITE_BATCH_BYTES) callback();
    else this.#flush().then(() => callback(), callback);
  }

  override _final(callback: (error?: Error) => void): void {
    this.#flush().then(() => callback(), callback);
  }

  /** Appends the batch to the file; starts a sync in the background once enough is unsynced. */
  async #flush(): Promise<void> {
    const batch = this.#batch;
    const size = this.#batchBytes;
    this.#batch = [];
    this.#batchBytes = 0;
    if (size === 0) return;
    let done = (await this.#handle.writev(batch, this.#written)).bytesWritten;
    if (done < size) {
      // A short write (rare, on a regular file): the rest goes on from where it stopped.
      const rest = Buffer.concat(batch, size);
      while (done < size)
        done += (await this.#handle.write(rest, done, size - done, this.#written + done))
          .bytesWritten;
    }
    this.#written += size;
    this.#unsynced += size;
    if (this.#unsynced >= SYNC_EVERY_BYTES) {
      this.#unsynced = 0;
      // Its failure is kept for the last sync: the kernel reports a write-back error only once.
      this.#syncing = this.#syncing.then(() =>
        this.#handle.datasync().catch((error: unknown) => {
          this.#syncFailure ??= error;
        }),
      );
    }
  }

  /** Waits for the syncs in the background, then syncs the whole file. */
  async sync(): Promise<void> {
    await this.#syncing;
    if (this.#syncFailure !== undefined) throw this.#syncFailure;
    await this.#handle.sync();
  }
}

/** Maps pg_dump's stderr to the service's codes. */
export function dumpFailure(
  database: string,
  exitCode: number | null,
  signal: NodeJS.Signals | null,
  stderr: string,
): AppError {
  const detail =
    stderr.trim().split("\n").slice(-3).join(" / ") ||
    (signal ? `killed by ${signal}` : `exit ${exitCode}`);
  if (
    /password authentication failed|no password supplied|permission denied|role .* does not exist/i.test(
      stderr,
    )
  ) {
    return new AppError(
      ProviderErrorCodes.missingDbPermissions,
      `pg_dump of '${database}' was refused: ${detail}`,
      {
        httpStatus: 400,
        recommendedAction:
          "Check the credentials in the backup instance's secret and the user's privileges",
      },
    );
  }
  return new AppError(
    ProviderErrorCodes.datasourceUnreachable,
    `pg_dump of '${database}' failed: ${detail}`,
    {
      httpStatus: 502,
      retryable: true,
    },
  );
}

/**
 * Dumps one database into `options.file`.
 *
 * @throws AppError `UserErrorMissingDBPermissions`, `UserErrorDatasourceUnreachable`,
 * `UserErrorVaultStorageFull`; the file does not exist afterwards.
 */
export async function dumpDatabaseToFile(options: DumpOptions): Promise<DumpResult> {
  // Credentials go through the environment, never argv (visible to every user in `ps`).
  const connection = libpqEnvironment(options.params, options.database);
  const env = {
    ...process.env,
    ...connection,
    ...DUMP_SESSION_ENV,
    PGCONNECT_TIMEOUT: "15",
    // A dump killed while it waits on a lock must not leave its session waiting on.
    ...toolSessionOptions(connection.PGOPTIONS ?? process.env.PGOPTIONS, options.serverMajor),
  };
  const snapshot = options.snapshot ? [`--snapshot=${options.snapshot}`] : [];
  const compression = options.compression === undefined ? [] : ["-Z", String(options.compression)];
  const args = ["-Fc", "--no-password", ...compression, ...snapshot];
  const command = await withLargeOutputBuffer(path.join(options.binDir, "pg_dump"), args);
  // Created exclusively: only a file this call created may be removed on failure.
  const handle = await open(options.file, "wx", 0o600);
  try {
    const child = spawn(command.command, command.args, {
      ...toolSpawnOptions,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      signal: options.signal,
    });
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
      (resolve) => {
        child.on("close", (code, signal) => resolve({ code, signal }));
      },
    );
    child.on("error", () => undefined);
    const writer = new HashingFileWriter(handle, options.maxBytes ?? Number.POSITIVE_INFINITY);
    try {
      await pipeline(child.stdout, writer);
    } catch (error) {
      child.kill("SIGKILL");
      await exited;
      if (error instanceof AppError) throw error;
      throw dumpFailure(options.database, null, null, `${stderr}\n${(error as Error).message}`);
    }
    const { code, signal } = await exited;
    if (code !== 0) throw dumpFailure(options.database, code, signal, stderr);
    // The data reach the disk before the file may be renamed into the vault.
    await writer.sync();
    await handle.close();
    return { sizeBytes: writer.bytes, sha256: writer.hash.digest("hex") };
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(options.file, { force: true });
    throw error;
  }
}
