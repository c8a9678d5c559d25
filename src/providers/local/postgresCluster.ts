/**
 * A private PostgreSQL cluster for when no server is configured: `initdb` once into a
 * project-local folder, `pg_ctl start` on a free loopback port, `pg_ctl stop -m fast` at the end.
 * Used by `npm start` and by the integration tests.
 *
 * TCP connections authenticate with a password (SCRAM): the superuser's is generated at `initdb`
 * and kept in `superuser.password` (0600) beside the data folder, so other local users cannot
 * connect as the superuser.
 *
 * The cluster keeps its port across restarts (recorded in `port` beside the data folder; for a
 * folder made by an earlier version, the `-p` of the last run in the data folder's
 * `postmaster.opts`), so connection strings written once keep working. A server left running on
 * the folder is stopped only when the process that started it (recorded in `owner.json`) is gone.
 *
 * @remarks `initdb` refuses to run as root, so when this process is root the folder is handed to
 * the `postgres` user and every server tool runs through `runuser -u postgres --`. Every parent of
 * the folder must be searchable by that user.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { chown, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import { AppError } from "../../domain/errors.js";
import { runTool, ToolFailedError } from "./processes.js";

/** The folder Debian installs PostgreSQL 15's server binaries in. */
const DEBIAN_BIN_DIR = "/usr/lib/postgresql/15/bin";

/** Options of {@link startPostgresCluster}. */
export interface PostgresClusterOptions {
  /** Folder holding `data/`, the log and the socket; created when missing. Keep the path short (socket paths are limited to ~100 bytes). */
  readonly folder: string;
  /** Port to listen on; when absent, the port of the previous run, else a free one. */
  readonly port?: number;
  /** Folder of `initdb`/`pg_ctl`; `pg_config --bindir` or Debian's folder by default. */
  readonly binDir?: string;
}

/** A running private cluster. */
export interface PostgresCluster {
  readonly host: "127.0.0.1";
  readonly port: number;
  /** The superuser. */
  readonly user: "postgres";
  /** The superuser's password (`undefined` for a data folder made without one). */
  readonly password: string | undefined;
  readonly dataDir: string;
  readonly binDir: string;
  /** A `postgresql://` URL for one database of the cluster. */
  connectionUrl(database?: string): string;
  /** Stops the server (fast shutdown). Safe to call twice. */
  stop(): Promise<void>;
  /** Stops the server synchronously when this process exits (for `npm start`). */
  stopOnExit(): void;
}

const isRoot = (): boolean => process.getuid?.() === 0;

/** Finds PostgreSQL's binary folder. */
export async function postgresBinDir(): Promise<string> {
  if (existsSync(path.join(DEBIAN_BIN_DIR, "pg_ctl"))) return DEBIAN_BIN_DIR;
  try {
    const { stdout } = await runTool("pg_config", ["--bindir"]);
    return stdout.trim();
  } catch (error) {
    throw new AppError(
      "LOCAL_POSTGRES_NOT_INSTALLED",
      "PostgreSQL server binaries were not found (pg_config --bindir)",
      {
        cause: error,
        recommendedAction:
          "Install PostgreSQL (e.g. apt-get install postgresql) or set DATABASE_URL",
      },
    );
  }
}

/** Asks the kernel for a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("no port assigned"));
      });
    });
  });
}

/** The file recording the port the cluster keeps. */
const PORT_FILE = "port";
/** The file recording the process that started the running server. */
const OWNER_FILE = "owner.json";

/** The port of the previous run: the recorded one, else the `-p` of the last `postmaster.opts`. */
async function previousPort(folder: string, dataDir: string): Promise<number | undefined> {
  const recorded = Number(
    (await readFile(path.join(folder, PORT_FILE), "utf8").catch(() => "")).trim(),
  );
  if (Number.isInteger(recorded) && recorded > 0 && recorded < 65536) return recorded;
  const opts = await readFile(path.join(dataDir, "postmaster.opts"), "utf8").catch(() => "");
  const match = /"-p"\s+"(\d+)"|(?:^|\s)-p\s+(\d+)/.exec(opts);
  const port = Number(match?.[1] ?? match?.[2]);
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
}

/** Fails in one line, with what to do, when something else listens on the cluster's port. */
function assertPortFree(port: number, folder: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        new AppError(
          "LOCAL_POSTGRES_PORT_TAKEN",
          `Port ${port} of the private PostgreSQL under ${folder} is taken by another program (${error.code ?? error.message})`,
          {
            cause: error,
            httpStatus: 503,
            recommendedAction: `Free port ${port}, or set LOCAL_POSTGRES_PORT to a free port (connection strings naming the private PostgreSQL keep working)`,
          },
        ),
      );
    });
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve()));
  });
}

/** The recorded starter of the server on a folder. */
interface ClusterOwner {
  readonly pid: number;
  readonly processStart?: string;
}

/** Fields of Linux's `/proc/<pid>/stat` from the state on (field 3), or undefined elsewhere. */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name before them is in parentheses and may hold spaces.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** A process's start time in clock ticks since boot (field 22), to tell a reused PID apart. */
function processStartTicks(pid: number): string | undefined {
  return procStat(pid)?.[19];
}

/** Whether the owner still runs (not a zombie, and not another program that reused its PID). */
function ownerIsAlive(owner: ClusterOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const fields = procStat(owner.pid);
  if (fields === undefined) return true;
  if (fields[0] === "Z" || fields[0] === "X") return false;
  return owner.processStart === undefined || fields[19] === owner.processStart;
}

async function readOwner(folder: string): Promise<ClusterOwner | undefined> {
  try {
    const owner = JSON.parse(await readFile(path.join(folder, OWNER_FILE), "utf8")) as ClusterOwner;
    return typeof owner.pid === "number" ? owner : undefined;
  } catch {
    return undefined;
  }
}

/** Runs a server tool as the cluster's owner. */
function asOwner(binary: string, args: readonly string[]): [string, string[]] {
  return isRoot() ? ["runuser", ["-u", "postgres", "--", binary, ...args]] : [binary, [...args]];
}

async function postgresUserIds(): Promise<{ uid: number; gid: number }> {
  const { stdout: uid } = await runTool("id", ["-u", "postgres"]);
  const { stdout: gid } = await runTool("id", ["-g", "postgres"]);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

/**
 * Fails early, with the folder to fix, when a parent of the cluster folder is closed to the
 * server's user (initdb's own message names only the file it could not open).
 */
async function assertReachableBy(folder: string, uid: number): Promise<void> {
  for (let dir = path.dirname(folder); ; dir = path.dirname(dir)) {
    const info = await stat(dir);
    const searchable = info.uid === uid ? (info.mode & 0o100) !== 0 : (info.mode & 0o001) !== 0;
    if (!searchable) {
      throw new AppError(
        "LOCAL_POSTGRES_FOLDER_UNREACHABLE",
        `The PostgreSQL server user cannot reach ${folder}: ${dir} is closed to it`,
        { recommendedAction: `chmod o+x ${dir}, or put the cluster folder elsewhere` },
      );
    }
    if (dir === path.dirname(dir)) return;
  }
}

/** The port of a server already running on a data folder, from its `postmaster.pid` (line 4). */
async function runningPort(dataDir: string): Promise<number | undefined> {
  try {
    const lines = (await readFile(path.join(dataDir, "postmaster.pid"), "utf8")).split("\n");
    const port = Number(lines[3]);
    return Number.isInteger(port) && port > 0 ? port : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts (initialising when needed) a private cluster listening on 127.0.0.1 only, on the port of
 * its previous run unless `options.port` names another.
 *
 * @remarks A server left running on the same folder by a process that is gone (a crash) is stopped
 * first, so the returned handle always owns the server it stops. One whose starter still runs is
 * never touched: the start fails with `LOCAL_POSTGRES_IN_USE`.
 * @throws AppError `LOCAL_POSTGRES_PORT_TAKEN` when another program listens on the port.
 */
export async function startPostgresCluster(
  options: PostgresClusterOptions,
): Promise<PostgresCluster> {
  const folder = path.resolve(options.folder);
  const dataDir = path.join(folder, "data");
  const logFile = path.join(folder, "postgres.log");
  const binDir = options.binDir ?? (await postgresBinDir());
  const tool = (name: string): string => path.join(binDir, name);

  await mkdir(path.dirname(folder), { recursive: true });
  await mkdir(folder, { recursive: true, mode: 0o700 });
  if (isRoot()) {
    const owner = await postgresUserIds();
    const info = await stat(folder);
    if (info.uid !== owner.uid) await chown(folder, owner.uid, owner.gid);
    await assertReachableBy(folder, owner.uid);
  }

  const passwordFile = path.join(folder, "superuser.password");
  if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
    const password = randomBytes(24).toString("base64url");
    await writeFile(passwordFile, password, { mode: 0o600 });
    // initdb reads the password as the cluster's owner, from a copy it owns, removed right after.
    const initPasswordFile = path.join(
      folder,
      `.initdb-password-${randomBytes(4).toString("hex")}`,
    );
    await writeFile(initPasswordFile, password, { mode: 0o600 });
    try {
      if (isRoot()) {
        const owner = await postgresUserIds();
        await chown(initPasswordFile, owner.uid, owner.gid);
      }
      await runTool(
        ...asOwner(tool("initdb"), [
          "-D",
          dataDir,
          "--auth-local=peer",
          "--auth-host=scram-sha-256",
          `--pwfile=${initPasswordFile}`,
          "-U",
          "postgres",
          "--encoding=UTF8",
          "--locale=C",
          "--no-sync",
        ]),
      );
    } finally {
      await rm(initPasswordFile, { force: true });
    }
  } else if ((await runningPort(dataDir)) !== undefined) {
    const owner = await readOwner(folder);
    if (owner && owner.pid !== process.pid && ownerIsAlive(owner)) {
      throw new AppError(
        "LOCAL_POSTGRES_IN_USE",
        `The private PostgreSQL under ${folder} belongs to the running process ${owner.pid} (port ${(await runningPort(dataDir)) ?? "?"}); it was left alone`,
        {
          httpStatus: 503,
          recommendedAction: `Stop process ${owner.pid} (the host using this state folder) first, or use another PGPROTECT_STATE_DIR`,
        },
      );
    }
    // A server from a crashed earlier run; stopping fails harmlessly when the pid file is stale.
    await runTool(...asOwner(tool("pg_ctl"), ["-D", dataDir, "-m", "fast", "-w", "stop"])).catch(
      () => undefined,
    );
  }

  const port = options.port ?? (await previousPort(folder, dataDir)) ?? (await freePort());
  await assertPortFree(port, folder);
  const serverOptions = `-p ${port} -k ${folder} -c listen_addresses=127.0.0.1`;
  try {
    await runTool(
      ...asOwner(tool("pg_ctl"), [
        "-D",
        dataDir,
        "-o",
        serverOptions,
        "-l",
        logFile,
        "-w",
        "-t",
        "60",
        "start",
      ]),
    );
  } catch (error) {
    const log = await readFile(logFile, "utf8").catch(() => "");
    throw new AppError(
      "LOCAL_POSTGRES_START_FAILED",
      `PostgreSQL did not start on port ${port}: ${log.trim().split("\n").slice(-3).join(" / ")}`,
      {
        cause: error,
      },
    );
  }
  const ownerFile = path.join(folder, OWNER_FILE);
  const pidStart = processStartTicks(process.pid);
  await writeFile(
    ownerFile,
    `${JSON.stringify({ pid: process.pid, ...(pidStart === undefined ? {} : { processStart: pidStart }) })}\n`,
    { mode: 0o600 },
  );
  await writeFile(path.join(folder, PORT_FILE), `${port}\n`, { mode: 0o644 });
  // pg_ctl -w waited for the postmaster; pg_isready confirms it accepts TCP connections.
  await runTool(tool("pg_isready"), ["-h", "127.0.0.1", "-p", String(port), "-t", "30"]);

  const password = await readFile(passwordFile, "utf8").then(
    (text) => text.trim(),
    () => undefined,
  );
  let stopped = false;
  const stopArgs = ["-D", dataDir, "-m", "fast", "-w", "stop"];
  const cluster: PostgresCluster = {
    host: "127.0.0.1",
    port,
    user: "postgres",
    password,
    dataDir,
    binDir,
    connectionUrl: (database = "postgres") =>
      `postgresql://postgres${password ? `:${encodeURIComponent(password)}` : ""}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await runTool(...asOwner(tool("pg_ctl"), stopArgs));
      } catch (error) {
        if (!(error instanceof ToolFailedError && /not running|No such file/i.test(error.stderr)))
          throw error;
      }
      await rm(ownerFile, { force: true });
    },
    stopOnExit() {
      process.once("exit", () => {
        if (stopped) return;
        stopped = true;
        const [file, args] = asOwner(tool("pg_ctl"), stopArgs);
        try {
          execFileSync(file, args, { stdio: "ignore" });
          rmSync(ownerFile, { force: true });
        } catch {
          // The process is exiting; there is nobody left to tell.
        }
      });
    },
  };
  return cluster;
}
