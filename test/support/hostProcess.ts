/**
 * The real `pgprotect` command in child processes, as a user runs it: `pgprotect host` kept
 * running (its URL read from the line it prints when it listens), and one-shot commands run to
 * their end. The command runs the compiled project (`bin` -> `dist`): build first.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import { projectDir } from "./localApp.js";
import { poll } from "./poll.js";

/** The command's entry file. */
export const cliEntry = path.join(projectDir, "bin", "pgprotect.js");

/** A running `pgprotect host`. */
export interface HostProcess {
  readonly child: ChildProcess;
  /** The URL the host said it listens on. */
  readonly url: string;
  /** Resolves with the exit code once the process ends. */
  readonly exited: Promise<number | null>;
  /** Everything the host printed so far, stdout and stderr interleaved. */
  output(): string;
}

/** How {@link startHostProcess} starts the host. */
export interface HostProcessOptions {
  /** Arguments after `host --port 0`. */
  readonly args?: readonly string[];
  /** Whether to wait until `/api/health` answers 200; default true. */
  readonly waitHealthy?: boolean;
}

/**
 * Starts `pgprotect host --port 0` with exactly the environment `env`, and resolves once it says
 * where it listens (and, unless told not to, once its health says ok). Rejects with its output
 * when it exits before.
 */
export async function startHostProcess(
  env: NodeJS.ProcessEnv,
  options: HostProcessOptions = {},
): Promise<HostProcess> {
  // The command runs the compiled project (bin -> dist), as `npm start` does.
  expect(existsSync(path.join(projectDir, "dist", "src", "cli", "main.js"))).toBe(true);
  const child = spawn(
    process.execPath,
    [cliEntry, "host", "--port", "0", ...(options.args ?? [])],
    { cwd: projectDir, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const started = /Host started on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (started?.[1]) resolve(started[1]);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    void exited.then((code) => reject(new Error(`pgprotect host exited with ${code}: ${output}`)));
  });
  if (options.waitHealthy ?? true) {
    const health = await poll(
      () => fetch(`${url}/api/health`).then((r) => r.status),
      (status) => status === 200,
    );
    expect(health, output).toBe(200);
  }
  return { child, url, exited, output: () => output };
}

/** Stops a host with SIGTERM, unless it already ended, and resolves with its exit code. */
export async function stopHostProcess(host: HostProcess): Promise<number | null> {
  if (host.child.exitCode === null && host.child.signalCode === null) host.child.kill("SIGTERM");
  return host.exited;
}

/** What a one-shot `pgprotect` command did. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout and stderr interleaved as printed. */
  readonly output: string;
}

/** Runs `pgprotect <args>` with exactly the environment `env` and `stdin`, to its end. */
export function runPgprotect(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  stdin = "",
): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliEntry, ...args], {
      cwd: projectDir,
      env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      output += chunk.toString();
    });
    child.once("close", (code) => resolve({ code, stdout, stderr, output }));
    child.stdin.end(stdin);
  });
}

/** The keys a host keeps in its state folder (`runtime/host-keys.json`). */
export interface HostKeys {
  readonly functionKey: string;
  readonly masterKey: string;
  readonly systemKeys: Record<string, string>;
  readonly eventGridTopicKey: string;
}

/** Reads the keys of the host whose state folder (`PGPROTECT_STATE_DIR`) is `stateDir`. */
export function readHostKeys(stateDir: string): HostKeys {
  return JSON.parse(
    readFileSync(path.join(stateDir, "runtime", "host-keys.json"), "utf8"),
  ) as HostKeys;
}
