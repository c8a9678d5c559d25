/** The streams and working folder a CLI command runs with; tests pass their own. */
export interface CliIo {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly cwd: string;
}

/** A CLI command: returns the process exit code. */
export type CliCommand = (args: readonly string[], io: CliIo) => Promise<number>;
