import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, test } from "vitest";
import { runHostCommand } from "../../src/cli.js";
import { packageDir } from "../support/nodeModules.js";
import { fixtureAppDir } from "./runtimeHost.js";

const stateDir = mkdtempSync(path.join(os.tmpdir(), "functions-runtime-cli-"));

afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

/** Runs the command in-process and answers its exit code and what it wrote. */
async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const code = await runHostCommand(args, { stdout, stderr, cwd: packageDir }, async (host) => {
    const hello = await fetch(`${host.url}/api/hello?name=command`);
    stdout.write(`answer: ${await hello.text()}\n`);
  });
  return { code, stdout: out, stderr: err };
}

describe("the functions-runtime command", () => {
  test("serves the app given with --app until told to stop, then stops it cleanly", async () => {
    const { code, stdout } = await run([
      "--app",
      fixtureAppDir,
      "--port",
      "0",
      "--state-dir",
      stateDir,
      "--no-durable",
    ]);

    expect(code).toBe(0);
    expect(stdout).toMatch(/Host started on http:\/\/127\.0\.0\.1:\d+/);
    expect(stdout).toContain("answer: Hello, command!");
    expect(stdout).toContain("Host stopped.");
  });

  test("says what is wrong with a bad option in one line and exits 2", async () => {
    const { code, stderr } = await run(["--port", "seventy"]);

    expect(code).toBe(2);
    expect(stderr).toBe("functions-runtime: --port must be a port number, not 'seventy'\n");
  });

  test("names the runtime's code when the app cannot load, and exits 1", async () => {
    const { code, stderr } = await run([
      "--app",
      path.join(stateDir, "no-such-app"),
      "--port",
      "0",
      "--state-dir",
      stateDir,
    ]);

    expect(code).toBe(1);
    expect(stderr).toMatch(/^functions-runtime: .*\(RUNTIME_HOST_START_FAILED\)\n$/);
  });

  test("runs from its bin file, built, and stops on SIGTERM", async () => {
    const child = spawn(
      process.execPath,
      [
        path.join(packageDir, "bin", "functions-runtime.js"),
        "--app",
        fixtureAppDir,
        "--port",
        "0",
        "--state-dir",
        path.join(stateDir, "bin"),
        "--no-durable",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    const url = await new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const started = /Host started on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (started?.[1]) resolve(started[1]);
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      void exited.then((exitCode) => reject(new Error(`exited with ${exitCode}: ${output}`)));
    });

    const hello = await fetch(`${url}/api/hello?name=bin`);
    child.kill("SIGTERM");

    expect(await hello.text()).toBe("Hello, bin!");
    expect(await exited).toBe(0);
    expect(output).toContain("Host stopped.");
  });
});
