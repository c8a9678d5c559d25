import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  acquireStateLock,
  isProcessAlive,
  processStartTicks,
  STATE_LOCK_FILE,
  StateLockedError,
} from "../../../src/core/stateLock.js";
import { packageDir } from "../../support/nodeModules.js";

const folders: string[] = [];

function folder(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "pgprotect-lock-"));
  folders.push(dir);
  return dir;
}

/** The PID of a process that has exited (and been reaped). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  return Number(child.stdout.toString());
}

function writeLock(dir: string, holder: Record<string, unknown>): void {
  writeFileSync(path.join(dir, STATE_LOCK_FILE), JSON.stringify(holder));
}

afterEach(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("the state folder lock", () => {
  it("claims a free folder with this process's PID and the port, and release removes it", () => {
    const dir = folder();

    const lock = acquireStateLock(dir, { port: 7071 });
    const recorded = JSON.parse(readFileSync(lock.file, "utf8")) as Record<string, unknown>;
    lock.update({ url: "http://127.0.0.1:7071" });
    const updated = JSON.parse(readFileSync(lock.file, "utf8")) as Record<string, unknown>;
    lock.release();

    expect(recorded).toMatchObject({ pid: process.pid, port: 7071 });
    expect(updated).toMatchObject({ pid: process.pid, port: 7071, url: "http://127.0.0.1:7071" });
    expect(existsSync(lock.file)).toBe(false);
  });

  it("refuses a second claim while the holder runs, naming its PID, port and URL, and leaves its lock alone", () => {
    const dir = folder();
    const first = acquireStateLock(dir, { port: 7071 });
    first.update({ url: "http://127.0.0.1:7071" });
    const before = readFileSync(first.file, "utf8");

    let refusal: unknown;
    try {
      acquireStateLock(dir, { port: 7072 });
    } catch (error) {
      refusal = error;
    }

    expect(refusal).toBeInstanceOf(StateLockedError);
    expect((refusal as StateLockedError).code).toBe("RUNTIME_STATE_LOCKED");
    expect((refusal as Error).message).toContain(`PID ${process.pid}, port 7071`);
    expect((refusal as Error).message).toContain("http://127.0.0.1:7071");
    expect((refusal as Error).message).not.toContain("\n");
    expect(readFileSync(first.file, "utf8")).toBe(before);
    first.release();
  });

  it("refuses while another live process holds the lock", async () => {
    const dir = folder();
    const holder = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], {
      stdio: "ignore",
    });
    try {
      writeLock(dir, {
        id: "other",
        pid: holder.pid,
        startedAt: "2026-01-01T00:00:00Z",
        port: 7071,
      });

      expect(() => acquireStateLock(dir)).toThrow(`PID ${holder.pid}, port 7071`);
    } finally {
      holder.kill("SIGKILL");
    }
  });

  it("takes over a lock whose process is gone", () => {
    const dir = folder();
    const gone = deadPid();
    writeLock(dir, { id: "crashed", pid: gone, startedAt: "2026-01-01T00:00:00Z", port: 7071 });

    const lock = acquireStateLock(dir);

    expect(lock.holder.pid).toBe(process.pid);
    expect(JSON.parse(readFileSync(lock.file, "utf8"))).toMatchObject({ pid: process.pid });
    expect(readdirSync(dir).filter((name) => name !== STATE_LOCK_FILE)).toEqual([]);
    lock.release();
  });

  it("takes over a lock whose PID now belongs to another program (another start time)", () => {
    const dir = folder();
    const start = processStartTicks(process.pid);
    // Off Linux there is no start time to compare: nothing to show there.
    expect(start).toBeDefined();
    writeLock(dir, { id: "reused", pid: process.pid, processStart: "1", startedAt: "2026-01-01" });

    const lock = acquireStateLock(dir);

    expect(lock.holder.id).not.toBe("reused");
    lock.release();
  });

  it("takes over an unreadable lock left by a crash", () => {
    const dir = folder();
    writeFileSync(path.join(dir, STATE_LOCK_FILE), "{");

    const lock = acquireStateLock(dir);

    expect(lock.holder.pid).toBe(process.pid);
    lock.release();
  });

  it("passes over a takeover marker whose starter died, and refuses while a live starter holds one", () => {
    const dir = folder();
    const gone = deadPid();
    const stale = JSON.stringify({ id: "crashed", pid: gone, startedAt: "2026-01-01" });
    writeFileSync(path.join(dir, STATE_LOCK_FILE), stale);
    // The marker a takeover of exactly that content claims first.
    const hash = createHash("sha256").update(stale).digest("hex").slice(0, 16);
    const firstMarker = path.join(dir, `${STATE_LOCK_FILE}.takeover-${hash}-1`);
    writeFileSync(firstMarker, JSON.stringify({ pid: deadPid() }));

    const lock = acquireStateLock(dir);
    const markerLeft = existsSync(firstMarker);
    lock.release();
    writeFileSync(path.join(dir, STATE_LOCK_FILE), stale);
    writeFileSync(firstMarker, JSON.stringify({ pid: process.pid }));

    expect(lock.holder.pid).toBe(process.pid);
    expect(markerLeft).toBe(false);
    expect(() => acquireStateLock(dir)).toThrow(StateLockedError);
    expect(readFileSync(path.join(dir, STATE_LOCK_FILE), "utf8")).toBe(stale);
  });

  it("lets exactly one of several starters racing for the same dead lock win", async () => {
    const compiled = path.join(packageDir, "dist", "core", "stateLock.js");
    expect(existsSync(compiled)).toBe(true);
    const dir = folder();
    writeLock(dir, { id: "crashed", pid: deadPid(), startedAt: "2026-01-01T00:00:00Z" });
    const go = path.join(dir, "go");
    // Each racer waits for the same start signal, tries once, reports, and stays alive so that
    // its lock stays live while the others judge it.
    const racer = `
      const { existsSync } = require("node:fs");
      import(${JSON.stringify(compiled)}).then(({ acquireStateLock }) => {
        const wait = () => {
          if (!existsSync(${JSON.stringify(go)})) return setImmediate(wait);
          let result;
          try { acquireStateLock(${JSON.stringify(dir)}); result = "won"; }
          catch (error) { result = error.code ?? error.message; }
          process.stdout.write(result + "\\n");
          setTimeout(() => process.exit(0), 2000);
        };
        wait();
      });`;
    const racers = Array.from({ length: 6 }, () =>
      spawn(process.execPath, ["-e", racer], { stdio: ["ignore", "pipe", "inherit"] }),
    );
    const results = racers.map(
      (child) =>
        new Promise<string>((resolve) => {
          let out = "";
          child.stdout?.on("data", (chunk: Buffer) => (out += chunk.toString()));
          child.once("exit", () => resolve(out.trim()));
        }),
    );
    writeFileSync(go, "");

    const outcomes = await Promise.all(results);

    expect(outcomes.filter((outcome) => outcome === "won")).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome !== "won")).toEqual(
      Array(5).fill("RUNTIME_STATE_LOCKED"),
    );
  });

  it("counts a running process as alive and an exited one as gone", () => {
    expect(isProcessAlive(process.pid, processStartTicks(process.pid))).toBe(true);
    expect(isProcessAlive(deadPid())).toBe(false);
  });
});
