/**
 * Dumps one database with `pg_dump -Fd -j N` into a new folder, hashing and syncing every file of
 * it while `pg_dump` writes it: each file is followed from the offset read so far, so the bytes
 * are read once, from the page cache, right behind the writer, and never read again afterwards.
 *
 * @remarks `pg_dump` writes each file of a directory-format dump once, front to back
 * (`toc.dat` first, then one file per table's data, written by the parallel workers), so
 * following a file's growth sees every byte of it. A file that shrinks under the follower was
 * rewritten, which `pg_dump` never does: the dump fails rather than record a wrong digest.
 */
import { spawn } from "node:child_process";
import { createHash, type Hash } from "node:crypto";
import { open, rm, stat, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { AppError } from "../../domain/errors.js";
import { libpqEnvironment } from "../../domain/protection/connectionString.js";
import { fsyncFolder, readdirIfExists } from "../atomicFiles.js";
import { dumpFailure, SYNC_EVERY_BYTES, vaultFullError, type DumpOptions } from "./dumpFile.js";
import { DUMP_SESSION_ENV, signalTool, toolSessionOptions, toolSpawnOptions } from "./processes.js";
import type { RecoveryPointFilePart } from "../../domain/protection/types.js";
import { directoryDigest } from "./recoveryPointIntegrity.js";

/** Options of {@link dumpDatabaseToDirectory}. */
export interface DirectoryDumpOptions extends Omit<DumpOptions, "file"> {
  /** The folder to create (pg_dump creates it); it must not exist. */
  readonly folder: string;
  /** Parallel jobs of `pg_dump -j`. */
  readonly jobs: number;
}

/** A finished directory-format dump: every file with its size and digest. */
export interface DirectoryDumpResult {
  readonly sizeBytes: number;
  /** Digest of the file list (see {@link directoryDigest}). */
  readonly sha256: string;
  readonly parts: readonly RecoveryPointFilePart[];
}

/** How often the folder is looked at for new bytes while pg_dump runs. */
const FOLLOW_INTERVAL_MS = 25;
/** Bytes of one read. */
const READ_CHUNK = 1024 * 1024;

/** One file of the dump, followed as it grows. */
interface FollowedFile {
  readonly name: string;
  readonly handle: FileHandle;
  readonly hash: Hash;
  offset: number;
  unsynced: number;
}

/** Follows every file of a folder as pg_dump writes it. */
class FolderFollower {
  readonly #folder: string;
  readonly #limit: number;
  readonly #files = new Map<string, FollowedFile>();
  readonly #buffer = Buffer.allocUnsafe(READ_CHUNK);
  #bytes = 0;

  constructor(folder: string, limit: number) {
    this.#folder = folder;
    this.#limit = limit;
  }

  /** Reads what every file gained since the last pass; syncs files that gained enough. */
  async pass(): Promise<void> {
    // None while pg_dump has not made the folder yet.
    const names = await readdirIfExists(this.#folder);
    for (const name of names.sort()) {
      let file = this.#files.get(name);
      if (!file) {
        const handle = await open(path.join(this.#folder, name), "r");
        file = { name, handle, hash: createHash("sha256"), offset: 0, unsynced: 0 };
        this.#files.set(name, file);
      }
      await this.#follow(file);
      if (file.unsynced >= SYNC_EVERY_BYTES) {
        // Written back while the dump goes on, so the sync at the end has little left to do.
        await file.handle.datasync();
        file.unsynced = 0;
      }
    }
  }

  async #follow(file: FollowedFile): Promise<void> {
    const { size } = await file.handle.stat();
    if (size < file.offset) {
      throw new AppError(
        "LOCAL_TOOL_FAILED",
        `pg_dump rewrote ${file.name} while it was read (${size} bytes where ${file.offset} were read)`,
        { httpStatus: 500, retryable: true },
      );
    }
    while (file.offset < size) {
      const { bytesRead } = await file.handle.read(
        this.#buffer,
        0,
        Math.min(READ_CHUNK, size - file.offset),
        file.offset,
      );
      if (bytesRead === 0) break;
      file.hash.update(this.#buffer.subarray(0, bytesRead));
      file.offset += bytesRead;
      file.unsynced += bytesRead;
      this.#bytes += bytesRead;
      if (this.#bytes > this.#limit) throw vaultFullError(this.#limit);
    }
  }

  /** The last pass once pg_dump has exited: every file read to its end and synced. */
  async finish(): Promise<DirectoryDumpResult> {
    await this.pass();
    const parts: RecoveryPointFilePart[] = [];
    for (const file of this.#files.values()) {
      const { size } = await stat(path.join(this.#folder, file.name));
      if (size !== file.offset) {
        throw new AppError(
          "LOCAL_TOOL_FAILED",
          `${file.name} changed after pg_dump ended (${size} bytes where ${file.offset} were read)`,
          { httpStatus: 500, retryable: true },
        );
      }
      await file.handle.sync();
      parts.push({ fileName: file.name, sizeBytes: file.offset, sha256: file.hash.digest("hex") });
    }
    await fsyncFolder(this.#folder);
    parts.sort((a, b) => (a.fileName < b.fileName ? -1 : a.fileName > b.fileName ? 1 : 0));
    return { sizeBytes: this.#bytes, sha256: directoryDigest(parts), parts };
  }

  async close(): Promise<void> {
    for (const file of this.#files.values()) await file.handle.close().catch(() => undefined);
  }
}

/**
 * Dumps one database into `options.folder` with `pg_dump -Fd -j`.
 *
 * @throws AppError `UserErrorMissingDBPermissions`, `UserErrorDatasourceUnreachable`,
 * `UserErrorVaultStorageFull`; the folder does not exist afterwards.
 */
export async function dumpDatabaseToDirectory(
  options: DirectoryDumpOptions,
): Promise<DirectoryDumpResult> {
  // Credentials go through the environment, never argv (visible to every user in `ps`).
  const connection = libpqEnvironment(options.params, options.database);
  const env = {
    ...process.env,
    ...connection,
    ...DUMP_SESSION_ENV,
    PGCONNECT_TIMEOUT: "15",
    ...toolSessionOptions(connection.PGOPTIONS ?? process.env.PGOPTIONS, options.serverMajor),
  };
  const args = [
    "-Fd",
    "-j",
    String(options.jobs),
    "-f",
    options.folder,
    "--no-password",
    // Every file is synced here as it is read, and the folder after: pg_dump's own pass over
    // them at its end would be a second one.
    "--no-sync",
    ...(options.compression === undefined ? [] : ["-Z", String(options.compression)]),
    ...(options.snapshot ? [`--snapshot=${options.snapshot}`] : []),
  ];
  const child = spawn(path.join(options.binDir, "pg_dump"), args, {
    ...toolSpawnOptions,
    env,
    stdio: ["ignore", "ignore", "pipe"],
    signal: options.signal,
  });
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  let ended = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("close", (code, signal) => {
      ended = true;
      resolve({ code, signal });
    });
  });
  child.on("error", () => undefined);
  // The workers are the leader's children in its process group: a failure stops them all.
  const stopDump = () => {
    if (child.pid !== undefined && !ended) signalTool(child.pid, "SIGKILL");
  };

  const follower = new FolderFollower(options.folder, options.maxBytes ?? Number.POSITIVE_INFINITY);
  try {
    try {
      while (!ended) {
        await follower.pass();
        await Promise.race([exited, sleep(FOLLOW_INTERVAL_MS)]);
      }
    } catch (error) {
      stopDump();
      await exited;
      throw error;
    }
    const { code, signal } = await exited;
    if (code !== 0) {
      stopDump();
      throw dumpFailure(options.database, code, signal, stderr);
    }
    return await follower.finish();
  } catch (error) {
    await follower.close();
    await rm(options.folder, { recursive: true, force: true });
    throw error;
  } finally {
    await follower.close();
  }
}
