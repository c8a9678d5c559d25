import { spawn, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { afterAll, describe, expect, it } from "vitest";
import {
  clientConnectionCheckInterval,
  processIsRunning,
  programOf,
  runTool,
  serverMajorOf,
  stopStrayTool,
  toolSessionOptions,
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
 * container init that reaps nothing). The shell starts a child that waits until the shell has
 * become `sleep 60` (which never waits for children) and only then exits, so the shell cannot reap
 * it first, however loaded the machine.
 */
async function zombiePid(): Promise<number> {
  const parent = spawn(
    "sh",
    [
      "-c",
      'p=$$; (while [ "$(cat /proc/$p/comm)" != sleep ]; do sleep 0.01; done) & echo $!; exec sleep 60',
    ],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  started.push(parent);
  const pid = await new Promise<number>((resolve) =>
    parent.stdout?.once("data", (chunk: Buffer) => resolve(Number(String(chunk).trim()))),
  );
  // Seen as a zombie once the child has exited.
  for (;;) {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    if (/\) Z /.test(stat)) return pid;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
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
    expect(asOther).toBe("notRunning");
    expect(stillRunning).toBe("sleep");
    expect(asItself).toBe("stopped");
    expect(await exited).toBe("SIGKILL");
  });

  it("says a stray tool still runs when it outlives the kill and the wait", async () => {
    // Arrange: a signal that does not take, as for a tool in uninterruptible sleep
    const child = sleeper();
    const signals: NodeJS.Signals[] = [];

    // Act
    const outcome = await stopStrayTool(child.pid!, "sleep", {
      signal: (_pid, signal) => signals.push(signal),
      waitMs: 100,
    });

    // Assert
    expect(signals).toEqual(["SIGKILL"]);
    expect(outcome).toBe("stillRunning");
    expect(await programOf(child.pid!)).toBe("sleep");
  });
});

describe("tool session options", () => {
  const check = `-c client_connection_check_interval=${clientConnectionCheckInterval}`;

  it("asks PostgreSQL 14 and later to check that the tool is still connected", () => {
    expect(toolSessionOptions(undefined, 14)).toEqual({ PGOPTIONS: check });
    expect(toolSessionOptions(undefined, 17)).toEqual({ PGOPTIONS: check });
  });

  it("adds nothing older servers would refuse, nor for a server whose version is not known", () => {
    expect(toolSessionOptions(undefined, 13)).toEqual({});
    expect(toolSessionOptions(undefined, 9)).toEqual({});
    expect(toolSessionOptions(undefined, undefined)).toEqual({});
  });

  it("keeps the options the user gave, first, and appends the tool's own after them", () => {
    const options = toolSessionOptions("-c search_path=app", 15, ["-c DateStyle=ISO"]);

    expect(options).toEqual({ PGOPTIONS: `-c search_path=app -c DateStyle=ISO ${check}` });
  });

  it("keeps a check interval the user chose", () => {
    expect(toolSessionOptions("-c client_connection_check_interval=1min", 16)).toEqual({
      PGOPTIONS: "-c client_connection_check_interval=1min",
    });
  });

  it("keeps the user's options as they are on a server older than 14", () => {
    expect(toolSessionOptions("-c statement_timeout=0", 12)).toEqual({
      PGOPTIONS: "-c statement_timeout=0",
    });
  });

  it("reads the major version of server_version and server_version_num", () => {
    expect(serverMajorOf("15.4 (Debian 15.4-1)")).toBe(15);
    expect(serverMajorOf("9.6.24")).toBe(9);
    expect(serverMajorOf("150004")).toBe(15);
    expect(serverMajorOf("90624")).toBe(9);
    expect(serverMajorOf("")).toBeUndefined();
    expect(serverMajorOf(undefined)).toBeUndefined();
  });
});
