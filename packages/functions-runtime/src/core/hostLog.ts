/**
 * The host's console: one line per invocation, the app's own logs at or above the configured
 * level, and the host's messages.
 */

/** Log levels of the Functions host, lowest first. */
export const logLevels = [
  "trace",
  "debug",
  "information",
  "warning",
  "error",
  "critical",
  "none",
] as const;

/** One of {@link logLevels}. */
export type LogLevel = (typeof logLevels)[number];

/** Reads a level the way host.json writes it (`Information`, `Warning`, ...); undefined if unknown. */
export function parseLogLevel(text: string | undefined): LogLevel | undefined {
  if (text === undefined) return undefined;
  const lower = text.toLowerCase();
  if (lower === "info") return "information";
  if (lower === "warn") return "warning";
  return (logLevels as readonly string[]).includes(lower) ? (lower as LogLevel) : undefined;
}

const levelLabels: Record<LogLevel, string> = {
  trace: "Trace",
  debug: "Debug",
  information: "Information",
  warning: "Warning",
  error: "Error",
  critical: "Critical",
  none: "None",
};

/**
 * Writes timestamped host lines, dropping those below the minimum level: the host's, or the
 * function's own where host.json sets one (`"Function.<name>": "Warning"`, as in Azure, so that a
 * timer running every second does not fill the console).
 */
export class HostLog {
  readonly #write: (line: string) => void;
  readonly #minimum: number;
  readonly #now: () => Date;
  readonly #functionMinimums: ReadonlyMap<string, number>;

  constructor(
    write: (line: string) => void,
    minimumLevel: LogLevel,
    now: () => Date = () => new Date(),
    functionLevels: Readonly<Record<string, LogLevel>> = {},
  ) {
    this.#write = write;
    this.#minimum = logLevels.indexOf(minimumLevel);
    this.#now = now;
    // Function names are case-insensitive in the Functions host.
    this.#functionMinimums = new Map(
      Object.entries(functionLevels).map(([name, level]) => [
        name.toLowerCase(),
        logLevels.indexOf(level),
      ]),
    );
  }

  /** Whether a line at `level` would be written, for a function when one is named. */
  enabled(level: LogLevel, functionName?: string): boolean {
    const own =
      functionName === undefined
        ? undefined
        : this.#functionMinimums.get(functionName.toLowerCase());
    return logLevels.indexOf(level) >= (own ?? this.#minimum) && level !== "none";
  }

  /** Writes `message` at `level`, naming the function it came from when known. */
  write(level: LogLevel, message: string, functionName?: string): void {
    if (!this.enabled(level, functionName)) return;
    this.#lines(level, message, functionName === undefined ? "" : ` [${functionName}]`);
  }

  /** Writes the host's own line about one function's invocation, at that function's level. */
  writeAbout(functionName: string, level: LogLevel, message: string): void {
    if (!this.enabled(level, functionName)) return;
    this.#lines(level, message, "");
  }

  #lines(level: LogLevel, message: string, source: string): void {
    const label = level === "information" ? "" : ` [${levelLabels[level]}]`;
    for (const line of message.split("\n")) {
      this.#write(`[${this.#now().toISOString()}]${label}${source} ${line}`);
    }
  }

  /** A line written regardless of level (start-up banner, function list). */
  banner(text: string): void {
    this.#write(text);
  }
}
