import { spawn, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { afterAll, describe, expect, it } from "vitest";
import {
  processIsRunning,
  programOf,
  runTool,
  stopStrayTool,
} from "../../../../src/providers/local/processes.js";

const started: ChildProcess[] = [];

afterAll(() => {
  for (const child of started) if (child.exitCode === null) child.kill("SIGKILL");
});

/** Starts `sleep` and answers its pid. */
function sleeper(): ChildProcess {
  const child = spawn("sleep", ["60"], { stdio: "ignore" });
  started.push(child);
  return child;
}

/**
 * A zombie: a process that exited and that its parent never reaps (as a worker's tool under a
 * container init that reaps nothing): the shell starts `sleep 0`, then becomes `sleep 60`, which
 * never waits for children.
 */
async function zombiePid(): Promise<number> {
  const parent = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 60"], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  started.push(parent);
  const pid = await new Promise<number>((resolve) =>
    parent.stdout?.once("data", (chunk: Buffer) => resolve(Number(String(chunk).trim()))),
  );
  // Seen as a zombie once `sleep 0` has exited.
  for (let i = 0; i < 200; i += 1) {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    if (/\) Z /.test(stat)) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return pid;
}

describe("PostgreSQL tool processes", () => {
  it("runs a tool in its own process group, so a signal to the caller's group does not reach it", async () => {
    // Act: a shell prints its process group and its own pid
    const { stdout } = await runTool("sh", ["-c", "ps -o pgid= -p $$; echo $$"]);
    const [groupText, pidText] = stdout.trim().split(/\s+/);

    // Assert
    expect(Number(groupText)).toBe(Number(pidText));
    expect(Number(groupText)).not.toBe(process.pid);
  });

  it("reports the tool's pid once it runs", async () => {
    const pids: number[] = [];

    const { stdout } = await runTool("sh", ["-c", "echo $$"], { onSpawn: (pid) => pids.push(pid) });

    expect(pids).toEqual([Number(stdout.trim())]);
  });

  it("fails with the tool's stderr when it exits non-zero, and with a readable error when it cannot start", async () => {
    await expect(runTool("sh", ["-c", "echo broken >&2; exit 3"])).rejects.toMatchObject({
      exitCode: 3,
      message: expect.stringContaining("broken"),
    });
    await expect(runTool("/nonexistent/pg_dump", [])).rejects.toMatchObject({
      code: "LOCAL_TOOL_FAILED",
    });
  });

  it("names the program a pid runs, and nothing for a pid that is gone", async () => {
    const child = sleeper();
    const exited = new Promise((resolve) => child.once("exit", resolve));

    const running = await programOf(child.pid!);
    child.kill("SIGKILL");
    await exited;
    const gone = await programOf(child.pid!);

    expect(running).toBe("sleep");
    expect(gone).toBeUndefined();
  });

  it("counts a zombie, which still answers signals, as not running", async () => {
    const pid = await zombiePid();
    let signalled = true;
    try {
      process.kill(pid, 0);
    } catch {
      signalled = false;
    }

    expect(signalled).toBe(true);
    expect(await processIsRunning(pid)).toBe(false);
    expect(await processIsRunning(process.pid)).toBe(true);
  });

  it("stops a stray tool only when its pid still runs that program", async () => {
    // Arrange
    const child = sleeper();
    const exited = new Promise((resolve) => child.once("exit", (_code, signal) => resolve(signal)));

    // Act
    const asOther = await stopStrayTool(child.pid!, "pg_dump");
    const stillRunning = await programOf(child.pid!);
    const asItself = await stopStrayTool(child.pid!, "sleep");

    // Assert
    expect(asOther).toBe(false);
    expect(stillRunning).toBe("sleep");
    expect(asItself).toBe(true);
    expect(await exited).toBe("SIGKILL");
  });
});
