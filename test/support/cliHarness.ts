import { PassThrough, Readable } from "node:stream";
import type { CliIo } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/main.js";

/** What one in-process CLI run printed. */
export interface CliRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Streams for a command run in this process, and what it printed on them so far. */
export function capturedIo(
  cwd: string,
  stdinChunks: readonly string[] = [],
): CliIo & { printed(): CliPrinted } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (chunk: Buffer) => out.push(chunk));
  stderr.on("data", (chunk: Buffer) => err.push(chunk));
  return {
    stdin: Readable.from(stdinChunks),
    stdout,
    stderr,
    cwd,
    printed: () => ({
      stdout: Buffer.concat(out).toString("utf8"),
      stderr: Buffer.concat(err).toString("utf8"),
    }),
  };
}

/** What a command printed. */
export interface CliPrinted {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `pgprotect <args>` in this process with captured streams. */
export async function runPgprotect(
  args: readonly string[],
  cwd: string,
  stdinText = "",
): Promise<CliRun> {
  const io = capturedIo(cwd, [stdinText]);
  const exitCode = await runCli(args, io);
  return { exitCode, ...io.printed() };
}

/** Splits a command line the way a shell would for the simple lines of the seed (quotes, `>`). */
export function splitCommandLine(line: string): { args: string[]; redirectTo?: string } {
  const tokens = [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? "");
  const redirect = tokens.indexOf(">");
  if (redirect === -1) return { args: tokens };
  const target = tokens[redirect + 1];
  return { args: tokens.slice(0, redirect), ...(target ? { redirectTo: target } : {}) };
}
