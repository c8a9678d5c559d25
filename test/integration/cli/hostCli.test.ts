import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runHostCommand } from "../../../src/cli/hostCli.js";

const projectDir = fileURLToPath(new URL("../../..", import.meta.url));
/** The runtime package's fixture app: any Functions app, hosted by pgprotect's command. */
const fixtureAppDir = path.join(
  projectDir,
  "packages",
  "functions-runtime",
  "test",
  "fixtures",
  "runtime-app",
);
const cliEntry = path.join(projectDir, "bin", "pgprotect.js");

/** Starts `pgprotect host ...` and resolves with the URL it reports once it is serving. */
function startCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [cliEntry, "host", "--port", "0", ...args], {
    cwd: projectDir,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const started = /Host started on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (started?.[1]) resolve({ child, url: started[1], output: () => output });
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) =>
      reject(new Error(`pgprotect host exited with ${code}: ${output}`)),
    );
  });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

describe("pgprotect host", () => {
  let stateDir: string;

  beforeAll(async () => {
    stateDir = mkdtempSync(path.join(os.tmpdir(), "pgprotect-cli-"));
    // The command runs the compiled project (bin -> dist), as `npm start` does; `npm test` builds it
    // first. Building here only when it is missing keeps other files' hosts from reading half-written output.
    if (!existsSync(path.join(projectDir, "dist", "src", "cli", "main.js"))) {
      const tsc = path.join(projectDir, "node_modules", "typescript", "bin", "tsc");
      // The runtime package first: the app's build reads its declarations.
      for (const config of [
        "packages/functions-runtime/tsconfig.build.json",
        "tsconfig.build.json",
      ]) {
        await new Promise<void>((resolve) => {
          execFile(process.execPath, [tsc, "-p", config], { cwd: projectDir }, () => resolve());
        });
      }
    }
    expect(existsSync(path.join(projectDir, "dist", "src", "cli", "main.js"))).toBe(true);
  }, 120_000);

  afterAll(() => {
    rmSync(stateDir, { recursive: true, force: true });
  });

  test("serves this project's app by default and stops cleanly on SIGTERM", async () => {
    const { child, url, output } = await startCli(["--state-dir", stateDir]);
    const exited = exitOf(child);

    const health = await fetch(`${url}/api/health`);
    child.kill("SIGTERM");

    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok", provider: "local" });
    expect(await exited).toBe(0);
    expect(output()).toContain(`getHealth: [GET] ${url}/api/health`);
    expect(output()).toMatch(
      /Executed 'Functions\.getHealth' \(Succeeded, Id=[0-9a-f-]{36}, Duration=\d+ms\)/,
    );
    expect(output()).toContain("Host stopped.");
  });

  test("runs the app's appTerminate hooks on SIGINT", async () => {
    const marker = path.join(stateDir, "terminated.txt");
    const { child, url } = await startCli(
      ["--app", fixtureAppDir, "--state-dir", stateDir, "--no-durable"],
      {
        FIXTURE_TERMINATE_MARKER: marker,
        FIXTURE_FAILING_SCHEDULE: "0 0 0 * * *",
      },
    );
    const exited = exitOf(child);

    const hello = await fetch(`${url}/api/hello?name=cli`);
    child.kill("SIGINT");

    expect(await hello.text()).toBe("Hello, cli!");
    expect(await exited).toBe(0);
    expect(readFileSync(marker, "utf8")).toBe("terminated");
  });

  test("keeps the runtime's state under PGPROTECT_STATE_DIR and locks that folder while it runs", async () => {
    const appState = mkdtempSync(path.join(os.tmpdir(), "pgprotect-cli-app-state-"));
    try {
      const { child, url, output } = await startCli(["--app", fixtureAppDir, "--no-durable"], {
        PGPROTECT_STATE_DIR: appState,
        FIXTURE_FAILING_SCHEDULE: "0 0 0 * * *",
      });
      const exited = exitOf(child);

      const hello = await fetch(`${url}/api/hello?name=state`);
      const locked = existsSync(path.join(appState, "host.lock"));
      child.kill("SIGTERM");
      const exitCode = await exited;

      expect(await hello.text()).toBe("Hello, state!");
      expect(output()).toContain(`state in ${path.join(appState, "runtime")})`);
      expect(locked).toBe(true);
      expect(exitCode).toBe(0);
    } finally {
      rmSync(appState, { recursive: true, force: true });
    }
  });

  test("a port already in use fails with exit code 1 and says why", async () => {
    const { child, url } = await startCli([
      "--app",
      fixtureAppDir,
      "--state-dir",
      stateDir,
      "--no-durable",
    ]);
    const exited = exitOf(child);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let errors = "";
    stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));

    // Another state folder: a second host on the same one is refused before it tries the port.
    const code = await runHostCommand(
      [
        "--app",
        fixtureAppDir,
        "--port",
        new URL(url).port,
        "--state-dir",
        path.join(stateDir, "second"),
      ],
      { stdin: process.stdin, stdout, stderr, cwd: projectDir },
      async () => undefined,
    );
    child.kill("SIGTERM");

    expect(code).toBe(1);
    expect(errors).toMatch(/Cannot listen on 127\.0\.0\.1:\d+.*RUNTIME_HOST_START_FAILED/);
    expect(await exited).toBe(0);
  });

  test("a bad option is a usage error with exit code 2", async () => {
    const stderr = new PassThrough();
    let errors = "";
    stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));

    const code = await runHostCommand(
      ["--port", "seventy"],
      { stdin: process.stdin, stdout: new PassThrough(), stderr, cwd: projectDir },
      async () => undefined,
    );

    expect(code).toBe(2);
    expect(errors).toContain("--port must be a port number");
  });

  test("an app that fails to load stops the host with exit code 1", async () => {
    const stderr = new PassThrough();
    let errors = "";
    stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));

    const code = await runHostCommand(
      ["--app", path.join(stateDir, "no-such-app"), "--port", "0", "--state-dir", stateDir],
      { stdin: process.stdin, stdout: new PassThrough(), stderr, cwd: projectDir },
      async () => undefined,
    );

    expect(code).toBe(1);
    expect(errors).toMatch(/Cannot read .*package\.json/);
  });
});
