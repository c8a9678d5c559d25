/**
 * Running PostgreSQL's command-line tools: capture their output and turn a non-zero exit into an
 * error carrying stderr (which never contains passwords: those travel in the environment).
 */
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { AppError } from "../../domain/errors.js";

const execFileAsync = promisify(execFile);

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

  constructor(tool: string, exitCode: number | null, stderr: string, code = "LOCAL_TOOL_FAILED") {
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
}

/**
 * Runs a tool to completion.
 *
 * @throws ToolFailedError when it exits non-zero.
 */
export async function runTool(
  file: string,
  args: readonly string[],
  options: RunToolOptions = {},
): Promise<ToolResult> {
  if (options.input !== undefined) return runWithInput(file, args, options);
  try {
    const { stdout, stderr } = await execFileAsync(file, [...args], {
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
      maxBuffer: 64 * 1024 * 1024,
      encoding: "utf8",
    });
    return { stdout, stderr };
  } catch (error) {
    const failure = error as { code?: number | string; stderr?: string; message?: string };
    const exitCode = typeof failure.code === "number" ? failure.code : null;
    throw new ToolFailedError(file, exitCode, failure.stderr || failure.message || "");
  }
}

function runWithInput(
  file: string,
  args: readonly string[],
  options: RunToolOptions,
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args], {
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", (error) => reject(new ToolFailedError(file, null, error.message)));
    child.on("close", (exitCode) => {
      if (exitCode === 0) resolve({ stdout, stderr });
      else reject(new ToolFailedError(file, exitCode, stderr));
    });
    child.stdin.end(options.input);
  });
}
