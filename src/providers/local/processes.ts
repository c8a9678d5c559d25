/**
 * Running PostgreSQL's command-line tools: capture their output and turn a non-zero exit into an
 * error carrying stderr (which never contains passwords: those travel in the environment).
 *
 * @remarks Every tool runs in its own process group (`detached`), so a Ctrl+C in the terminal that
 * started the host reaches the host alone: the host then stops gracefully and decides itself what
 * becomes of a running dump or restore. A tool whose parent died keeps running; the backup service
 * records each tool's pid and stops such a stray on recovery ({@link stopStrayTool}).
 */
import { spawn, type SpawnOptions } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { AppError, type ErrorCode } from "../../domain/errors.js";

/** Spawn options every PostgreSQL tool runs with: its own process group. */
export const toolSpawnOptions = { detached: true } as const satisfies SpawnOptions;

/**
 * How often a tool's server session checks that the tool is still connected while a query runs
 * (`client_connection_check_interval`, PostgreSQL 14 and later).
 */
export const clientConnectionCheckInterval = "5s";

/** The first PostgreSQL major version that knows `client_connection_check_interval`. */
const connectionCheckSince = 14;

/**
 * The `PGOPTIONS` a tool's session starts with: the options given already (the connection
 * string's `options`, else the host's `PGOPTIONS`), then `extra`, then, on PostgreSQL 14 and
 * later, `-c client_connection_check_interval` (unless the given options set it).
 *
 * @remarks Without the check, a session whose tool was killed (a stray stopped after a crash)
 * waits on a lock until the lock is released, because PostgreSQL notices a vanished client only
 * when it writes to it. Older servers refuse a parameter they do not know (the connection fails),
 * so the check is added only for a server known to be 14 or later. Later `-c` settings win, so the
 * given options come first and cannot undo the ones the tool needs.
 *
 * @param serverMajor - the server's major version, `undefined` when not known.
 * @returns `{ PGOPTIONS }`, or nothing when there are no options at all.
 */
export function toolSessionOptions(
  given: string | undefined,
  serverMajor: number | undefined,
  extra: readonly string[] = [],
): { PGOPTIONS?: string } {
  // A check interval the user chose stands.
  const check =
    serverMajor !== undefined &&
    serverMajor >= connectionCheckSince &&
    !/client_connection_check_interval/.test(given ?? "")
      ? [`-c client_connection_check_interval=${clientConnectionCheckInterval}`]
      : [];
  const options = [given?.trim() ?? "", ...extra, ...check].filter((o) => o !== "").join(" ");
  return options === "" ? {} : { PGOPTIONS: options };
}

/** The major version of a `server_version` or `server_version_num` text, e.g. 15 of `15.4 (Debian)`. */
export function serverMajorOf(version: string | undefined): number | undefined {
  const text = version?.trim() ?? "";
  if (/^\d{5,6}$/.test(text)) return Math.floor(Number(text) / 10_000);
  const major = /^(\d+)/.exec(text)?.[1];
  return major === undefined ? undefined : Number(major);
}

/** The outcome of a finished tool. */
export interface ToolResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** A tool exited with a non-zero status. */
export class ToolFailedError extends AppError {
  override readonly name = "ToolFailedError";
  readonly exitCode: number | null;
  readonly stderr: string;

  constructor(
    tool: string,
    exitCode: number | null,
    stderr: string,
    code: ErrorCode = "LOCAL_TOOL_FAILED",
  ) {
    super(
      code,
      `${tool} failed (exit ${exitCode ?? "signal"}): ${stderr.trim().split("\n").slice(-3).join(" / ")}`,
      {
        httpStatus: 500,
      },
    );
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** Options for {@link runTool}. */
export interface RunToolOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Text written to the tool's stdin. */
  readonly input?: string;
  /** Called with the tool's pid once it runs (the backup service records it in the job). */
  readonly onSpawn?: (pid: number) => void;
}

/** Output kept per stream; a tool writing more fails rather than exhausting memory. */
const maxOutputBytes = 64 * 1024 * 1024;

/**
 * Runs a tool to completion.
 *
 * @throws ToolFailedError when it exits non-zero, is killed, or cannot start.
 */
export function runTool(
  file: string,
  args: readonly string[],
  options: RunToolOptions = {},
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args], {
      ...toolSpawnOptions,
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    let stdout = "";
    let stderr = "";
    let overflow = false;
    const collect = (append: (chunk: string) => void) => (chunk: string) => {
      if (stdout.length + stderr.length > maxOutputBytes) {
        overflow = true;
        child.kill("SIGKILL");
        return;
      }
      append(chunk);
    };
    child.stdout?.setEncoding("utf8").on(
      "data",
      collect((chunk) => (stdout += chunk)),
    );
    child.stderr?.setEncoding("utf8").on(
      "data",
      collect((chunk) => (stderr += chunk)),
    );
    child.on("error", (error) => reject(new ToolFailedError(file, null, error.message)));
    child.on("close", (exitCode, signal) => {
      if (exitCode === 0 && !overflow) resolve({ stdout, stderr });
      else
        reject(
          new ToolFailedError(
            file,
            exitCode,
            overflow ? `${stderr}\noutput exceeded ${maxOutputBytes} bytes` : stderr || `${signal}`,
          ),
        );
    });
    if (child.stdin) {
      child.stdin.on("error", () => undefined);
      child.stdin.end(options.input);
    }
  });
}

/** The program a live process runs (the base name of its argv[0]), or `undefined` when it is gone. */
export async function programOf(pid: number): Promise<string | undefined> {
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8");
    const argv0 = cmdline.split("\0")[0] ?? "";
    return argv0 === "" ? undefined : path.basename(argv0);
  } catch {
    return undefined;
  }
}

/**
 * Whether a process runs. A zombie does not: a process whose parent died stays one where nothing
 * reaps it (a container whose init does not), and it answers signals all the same.
 */
export async function processIsRunning(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // `pid (comm) state ...`; comm may hold spaces and parentheses, the state follows the last ')'.
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    // No /proc (not Linux): the signal check is all there is.
    return true;
  }
}

/** Sends a signal to a tool's process group (it leads one), ignoring one that is gone. */
export function signalTool(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/**
 * What {@link stopStrayTool} found: no such tool at the pid, the tool stopped, or the tool still
 * running after the wait (a process in uninterruptible sleep ends only when its I/O does).
 */
export type StrayToolOutcome = "notRunning" | "stopped" | "stillRunning";

/** Options of {@link stopStrayTool}. */
export interface StopStrayToolOptions {
  /** Sends the signal; {@link signalTool} when absent. */
  readonly signal?: (pid: number, signal: NodeJS.Signals) => void;
  /** How long to wait for the tool to be gone after the signal. */
  readonly waitMs?: number;
}

/** Milliseconds between two looks at a stopping tool. */
const strayPollMs = 20;

/**
 * Stops a tool left running by a process that died, when the pid still runs that program (a pid
 * reused by something else is left alone), and waits for it to be gone (2 s by default).
 *
 * @param program - the tool's base name, e.g. `pg_dump`.
 */
export async function stopStrayTool(
  pid: number,
  program: string,
  options: StopStrayToolOptions = {},
): Promise<StrayToolOutcome> {
  if ((await programOf(pid)) !== program) return "notRunning";
  (options.signal ?? signalTool)(pid, "SIGKILL");
  const polls = Math.ceil((options.waitMs ?? 2_000) / strayPollMs);
  for (let waited = 0; waited < polls; waited += 1) {
    if ((await programOf(pid)) !== program) return "stopped";
    await new Promise((resolve) => setTimeout(resolve, strayPollMs));
  }
  return (await programOf(pid)) === program ? "stillRunning" : "stopped";
}

/**
 * Session settings of a `pg_dump`, so that what a restore's verification reads back compares with
 * it (those `pg_dump` sets, plus a fixed zone).
 */
export const DUMP_SESSION_ENV = { PGTZ: "UTC" } as const;
