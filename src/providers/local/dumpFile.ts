/**
 * Streams `pg_dump -Fc` of one database into a new file, computing its SHA-256 on the way and
 * syncing it to disk as it grows and once more before returning. The file is created exclusively
 * (the caller names it in a staging folder); on any failure the partial file is removed.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createWriteStream, fdatasync } from "node:fs";
import { open, rm } from "node:fs/promises";
import path from "node:path";
import { Transform, type TransformCallback } from "node:stream";
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

/** Counts and hashes bytes passing through; fails once more than `limit` bytes passed. */
class HashingCounter extends Transform {
  readonly hash = createHash("sha256");
  bytes = 0;

  constructor(
    private readonly limit: number,
    private readonly onBytes: (count: number) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      callback(vaultFullError(this.limit));
      return;
    }
    this.hash.update(chunk);
    this.onBytes(chunk.length);
    callback(null, chunk);
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
  const output = createWriteStream(options.file, { flags: "wx", mode: 0o600 });
  // Only a file this call created may be removed on failure.
  let created = false;
  // The descriptor while the stream holds it open: a sync must not reach a descriptor reused since.
  let descriptor: number | undefined;
  output.once("open", (fd: number) => {
    created = true;
    descriptor = fd;
  });
  output.once("close", () => (descriptor = undefined));
  const snapshot = options.snapshot ? [`--snapshot=${options.snapshot}`] : [];
  const compression = options.compression === undefined ? [] : ["-Z", String(options.compression)];
  const args = ["-Fc", "--no-password", ...compression, ...snapshot];
  const child = spawn(path.join(options.binDir, "pg_dump"), args, {
    ...toolSpawnOptions,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    signal: options.signal,
  });
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("close", (code, signal) => resolve({ code, signal }));
  });
  child.on("error", () => undefined);

  // Written back while the dump streams: the sync before the rename then has little left to do.
  let unsynced = 0;
  let syncing = Promise.resolve();
  const syncAsItGrows = (count: number) => {
    unsynced += count;
    if (unsynced < SYNC_EVERY_BYTES || descriptor === undefined) return;
    unsynced = 0;
    syncing = syncing.then(
      () =>
        new Promise<void>((resolve) => {
          if (descriptor === undefined) resolve();
          else fdatasync(descriptor, () => resolve());
        }),
    );
  };
  const counter = new HashingCounter(options.maxBytes ?? Number.POSITIVE_INFINITY, syncAsItGrows);
  try {
    try {
      await pipeline(child.stdout, counter, output);
    } catch (error) {
      child.kill("SIGKILL");
      await exited;
      if (error instanceof AppError) throw error;
      throw dumpFailure(options.database, null, null, `${stderr}\n${(error as Error).message}`);
    }
    const { code, signal } = await exited;
    await syncing;
    if (code !== 0) throw dumpFailure(options.database, code, signal, stderr);
    // The data reach the disk before the file may be renamed into the vault.
    const handle = await open(options.file, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    return { sizeBytes: counter.bytes, sha256: counter.hash.digest("hex") };
  } catch (error) {
    output.destroy();
    if (created) await rm(options.file, { force: true });
    throw error;
  }
}
