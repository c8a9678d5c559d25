/**
 * One host per state folder: an exclusive lock file (`host.lock`) naming the host that holds it
 * (PID, port, URL, start time).
 *
 * @remarks A first claim links a complete file into place (`link` fails when the name exists), so
 * a lock is never seen half-written. A lock whose process is gone (a crashed or killed host) is
 * taken over, and two starters racing for the same dead lock must not both win: each takeover
 * first claims a marker named after the exact content it judged dead (`host.lock.takeover-<hash>-<n>`,
 * created exclusively), then checks the lock still holds that content before replacing it. Only one
 * starter can hold a given marker, and a marker whose holder died too is passed over to the next
 * number, so a crash in the middle of a takeover never blocks the folder.
 */
import { createHash, randomUUID } from "node:crypto";
import {
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { RuntimeError } from "../errors.js";

/** The lock's file name inside the state folder. */
export const STATE_LOCK_FILE = "host.lock";

/** Markers a takeover may pass over (each left by a starter that died mid-takeover). */
const MAX_TAKEOVER_MARKERS = 50;

/** What a lock file says about its holder. */
export interface StateLockHolder {
  /** Distinguishes one claim from another by the same PID. */
  readonly id: string;
  readonly pid: number;
  /** The process's start time in clock ticks since boot (Linux), to tell a reused PID apart. */
  readonly processStart?: string;
  readonly startedAt: string;
  readonly port?: number;
  readonly url?: string;
  readonly workerPid?: number;
}

/** A held lock. */
export interface StateLock {
  readonly file: string;
  readonly holder: StateLockHolder;
  /** Records what became known after the claim (the port listened on, the URL, the worker). */
  update(details: Pick<StateLockHolder, "port" | "url" | "workerPid">): void;
  /** Removes the lock when it is still this claim's. Safe to call twice. */
  release(): void;
}

/** Raised when another live host holds the state folder. */
export class StateLockedError extends RuntimeError {
  override readonly name = "StateLockedError";
  /** The live holder, when the lock could be read. */
  readonly holder: StateLockHolder | undefined;
  constructor(message: string, holder: StateLockHolder | undefined) {
    // The message itself says what to do: the CLI prints the message and code only.
    super("RUNTIME_STATE_LOCKED", message, { httpStatus: 409 });
    this.holder = holder;
  }
}

/** Fields of `/proc/<pid>/stat` after the command name, or undefined off Linux or for no such process. */
function procStatFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may itself hold spaces or parentheses.
    return stat
      .slice(stat.lastIndexOf(")") + 2)
      .trim()
      .split(" ");
  } catch {
    return undefined;
  }
}

/** A process's start time in clock ticks since boot (Linux), or undefined where unknown. */
export function processStartTicks(pid: number): string | undefined {
  // Field 22 of /proc/<pid>/stat; the slice above starts at field 3.
  return procStatFields(pid)?.[19];
}

/**
 * Whether a process is running: it exists, is not a zombie and, when its start time was recorded,
 * started then (so a PID reused by another program does not count).
 */
export function isProcessAlive(pid: number, processStart?: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const fields = procStatFields(pid);
  if (fields === undefined) return true;
  if (fields[0] === "Z" || fields[0] === "X") return false;
  return processStart === undefined || fields[19] === processStart;
}

function parseHolder(text: string): StateLockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<StateLockHolder>;
    return typeof value.pid === "number" && typeof value.id === "string"
      ? (value as StateLockHolder)
      : undefined;
  } catch {
    return undefined;
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Creates `file` with `text` only when no file has that name; false when one has. */
function createExclusive(file: string, text: string): boolean {
  const temporary = `${file}.${process.pid}.${randomUUID()}.tmp`;
  writeFileSync(temporary, text, { mode: 0o644 });
  try {
    linkSync(temporary, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    unlinkSync(temporary);
  }
}

function replace(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.${randomUUID()}.tmp`;
  writeFileSync(temporary, text, { mode: 0o644 });
  renameSync(temporary, file);
}

function describeHolder(holder: StateLockHolder | undefined): string {
  if (!holder) return "an unreadable lock";
  const port = holder.port === undefined ? "" : `, port ${holder.port}`;
  const url = holder.url === undefined ? "" : ` (${holder.url})`;
  return `PID ${holder.pid}${port}${url}, started ${holder.startedAt}`;
}

function digest(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/**
 * Claims a dead lock whose content is `stale`. Returns false when the lock changed meanwhile
 * (the caller looks again).
 *
 * @throws StateLockedError when another live starter is taking the same lock over.
 */
function takeOver(file: string, stale: string, mine: string): boolean {
  const hash = digest(stale);
  const markerText = JSON.stringify({
    pid: process.pid,
    processStart: processStartTicks(process.pid),
  });
  let marker: string | undefined;
  for (let n = 1; n <= MAX_TAKEOVER_MARKERS && marker === undefined; n += 1) {
    const candidate = `${file}.takeover-${hash}-${n}`;
    if (createExclusive(candidate, markerText)) {
      marker = candidate;
      break;
    }
    const holder = JSON.parse(readText(candidate) ?? "{}") as {
      pid?: number;
      processStart?: string;
    };
    if (holder.pid !== undefined && isProcessAlive(holder.pid, holder.processStart)) {
      throw new StateLockedError(
        `Another host (PID ${holder.pid}) is taking over the state folder ${path.dirname(file)}`,
        undefined,
      );
    }
  }
  if (marker === undefined) {
    throw new RuntimeError(
      "RUNTIME_STATE_LOCK_FAILED",
      `Could not take over ${file}: too many abandoned takeovers; remove ${file}.takeover-* and start again`,
    );
  }
  try {
    // Holding the marker, this starter alone may replace exactly the content it judged dead.
    if (readText(file) !== stale) return false;
    replace(file, mine);
    return true;
  } finally {
    for (const name of readdirSync(path.dirname(file))) {
      if (name.startsWith(`${STATE_LOCK_FILE}.takeover-${hash}-`)) {
        try {
          unlinkSync(path.join(path.dirname(file), name));
        } catch {
          // Another starter removed it first.
        }
      }
    }
  }
}

/**
 * Takes the state folder's lock for this process, taking over a lock whose host is gone.
 *
 * @param otherFolder - what the refusal tells the user to change, e.g. the app setting that names
 *   the folder.
 * @throws StateLockedError naming the live host (PID, port, URL) that holds it.
 */
export function acquireStateLock(
  dir: string,
  details: Pick<StateLockHolder, "port" | "url"> = {},
  otherFolder = "state folder",
): StateLock {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, STATE_LOCK_FILE);
  const processStart = processStartTicks(process.pid);
  let holder: StateLockHolder = {
    id: randomUUID(),
    pid: process.pid,
    ...(processStart === undefined ? {} : { processStart }),
    startedAt: new Date().toISOString(),
    ...details,
  };
  const mine = `${JSON.stringify(holder, null, 2)}\n`;
  let acquired = false;
  // Each turn either claims the lock, refuses, or sees the lock change under it (then looks again).
  for (let attempt = 0; attempt < 20 && !acquired; attempt += 1) {
    if (createExclusive(file, mine)) {
      acquired = true;
      break;
    }
    const current = readText(file);
    if (current === undefined) continue;
    const currentHolder = parseHolder(current);
    if (currentHolder && isProcessAlive(currentHolder.pid, currentHolder.processStart)) {
      throw new StateLockedError(
        `Another host is running on the state folder ${dir}: ${describeHolder(currentHolder)}; stop it first, or give this host another ${otherFolder}`,
        currentHolder,
      );
    }
    acquired = takeOver(file, current, mine);
  }
  if (!acquired) {
    throw new RuntimeError("RUNTIME_STATE_LOCK_FAILED", `Could not take the lock ${file}`);
  }
  let released = false;
  return {
    file,
    get holder() {
      return holder;
    },
    update(more) {
      if (released || parseHolder(readText(file) ?? "")?.id !== holder.id) return;
      holder = { ...holder, ...more };
      replace(file, `${JSON.stringify(holder, null, 2)}\n`);
    },
    release() {
      if (released) return;
      released = true;
      if (parseHolder(readText(file) ?? "")?.id === holder.id) unlinkSync(file);
    },
  };
}
