import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, expect, it } from "vitest";
import { EventType } from "../../src/durable/history.js";
import { openDurableStore } from "../../src/durable/store.js";

const writerScript = fileURLToPath(new URL("./groupCommitCrashProcess.ts", import.meta.url));
const instanceCount = 120;

// Node strips the types of the sources; this hook maps their `.js` import specifiers to `.ts`.
const resolveHook = `export async function resolve(s, c, next) {
  try { return await next(s, c); } catch (error) {
    if (error?.code === "ERR_MODULE_NOT_FOUND" && /^(\\.|file:)/.test(s) && s.endsWith(".js")) return next(s.slice(0, -3) + ".ts", c);
    throw error;
  }
}`;
const registerHook = `import { register } from "node:module"; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(resolveHook)}`)});`;

let stateDir: string;

beforeEach(() => {
  stateDir = mkdtempSync(path.join(tmpdir(), "pgprotect-group-commit-crash-"));
});

afterEach(() => {
  rmSync(stateDir, { recursive: true, force: true });
});

/** Runs the writer until it dies; answers its stdout lines and the signal that ended it. */
function runWriter(): Promise<{ lines: string[]; signal: NodeJS.Signals | null }> {
  const child = spawn(
    process.execPath,
    [
      "--disable-warning=ExperimentalWarning",
      "--import",
      `data:text/javascript,${encodeURIComponent(registerHook)}`,
      writerScript,
    ],
    {
      env: {
        ...process.env,
        GROUP_COMMIT_STATE_DIR: stateDir,
        GROUP_COMMIT_INSTANCES: String(instanceCount),
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => {
      if (signal === null) reject(new Error(`the writer exited with ${code}: ${stderr}`));
      else resolve({ lines: stdout.split("\n").filter((line) => line !== ""), signal });
    });
  });
}

it("keeps every acknowledged group and nothing of a group commit killed with SIGKILL mid-batch", async () => {
  const { lines, signal } = await runWriter();
  const wal = path.join(stateDir, "durable-hub.sqlite-wal");
  const walBytesAtCrash = existsSync(wal) ? statSync(wal).size : 0;

  const store = await openDurableStore(stateDir, "hub");
  try {
    const histories = Array.from({ length: instanceCount }, (_, i) => store.getHistory(`i${i}`));
    const queued = store.activities();
    const readyAfterCrash = store.readyInstanceIds(Date.UTC(2031, 0, 1), instanceCount + 1);

    // The first group was acknowledged; the second was being written when the process died,
    // with the earlier episodes of the batch already inside the transaction.
    expect(signal).toBe("SIGKILL");
    expect(lines).toEqual(["COMMITTED 1", "KILLING"]);
    // The WAL file was empty when the group began: the interrupted group's uncommitted pages had
    // reached it.
    expect(walBytesAtCrash).toBeGreaterThan(1024 * 1024);
    // Every episode of the acknowledged group, and not one event of the interrupted one.
    for (const history of histories) {
      expect(history.map((e) => e.EventType)).toEqual([
        EventType.OrchestratorStarted,
        EventType.ExecutionStarted,
        EventType.TaskScheduled,
        EventType.OrchestratorCompleted,
      ]);
    }
    // The activity results recorded in the lost group are lost too: every activity runs again.
    expect(queued).toHaveLength(instanceCount);
    expect(readyAfterCrash).toEqual([]);
    expect(store.listInstances().map((row) => row.status)).toEqual(
      Array.from({ length: instanceCount }, () => "Running"),
    );
  } finally {
    store.close();
  }
}, 60_000);
