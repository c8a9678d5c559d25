/**
 * The host as a command: `functions-runtime [--app DIR] [--port 7071] ...` runs a function app
 * until SIGINT or SIGTERM. Apps with a command of their own build it on {@link runHostCommand},
 * with their name, their usage text and their defaults.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { isRuntimeError } from "./errors.js";
import { parseLogLevel } from "./core/hostLog.js";
import { readEventGridFile } from "./eventgrid/settingsFile.js";
import { startHost, type HostOptions, type RunningHost } from "./host.js";

/** The streams and working folder a command runs with; tests pass their own. */
export interface CommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly cwd: string;
}

/** How a command built on {@link runHostCommand} names itself and what it defaults to. */
export interface HostCommand {
  /** What error lines start with, e.g. `functions-runtime`. */
  readonly name: string;
  /** The `--help` text. */
  readonly usage: string;
  /** The app's folder without `--app`. Default: the working folder. */
  readonly defaultAppDir?: string;
  /** Host options of the app's own (settings it names, its default state folder). */
  readonly hostOptions?: (appDir: string) => Partial<HostOptions>;
  /** The stable code of a start failure the runtime does not know, if it has one. */
  readonly errorCode?: (error: unknown) => string | undefined;
}

/** The usage of the `functions-runtime` command. */
export const runtimeUsage = `Usage: functions-runtime [options]

Runs a Node.js Azure Functions app (v4 programming model) locally: HTTP triggers, timers,
Event Grid and Durable Functions.

Options:
  --app DIR                  The function app folder (default: the working folder)
  --port N                   Port to listen on (default 7071; 0 picks a free port)
  --hostname ADDR            Interface to listen on (default 127.0.0.1)
  --state-dir DIR            Runtime state: keys, timer status, dead letters, Durable history
                             (default: <app state>/runtime with --app-state-setting, else
                             <app>/.functions-runtime). One host runs per state folder.
  --app-state-setting NAME   The app setting naming the app's own state folder
  --stop-grace-setting NAME  The app setting holding the seconds the app waits for its work on stop
  --event-grid FILE          Local Event Grid topics and subscriptions (default: <app>/eventgrid.local.json if present)
  --log-level LEVEL          trace|debug|information|warning|error (default: host.json, else information)
  --key KEY                  The local function key (default: generated once, kept in the state folder)
  --no-durable               Do not attach the Durable Functions extension
  -h, --help                 Show this help
`;

function parse(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    options: {
      app: { type: "string" },
      port: { type: "string" },
      hostname: { type: "string" },
      "state-dir": { type: "string" },
      "app-state-setting": { type: "string" },
      "stop-grace-setting": { type: "string" },
      "event-grid": { type: "string" },
      "log-level": { type: "string" },
      key: { type: "string" },
      "no-durable": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: false,
    strict: true,
  });
}

/**
 * Runs the host until `until` settles, then stops it (appTerminate hooks run).
 *
 * @returns 0 after a clean stop, 1 when the host could not start, 2 on a usage error.
 */
export async function runHostCommand(
  args: readonly string[],
  io: CommandIo,
  until: (host: RunningHost) => Promise<unknown>,
  command: HostCommand = { name: "functions-runtime", usage: runtimeUsage },
): Promise<number> {
  let values: ReturnType<typeof parse>["values"];
  try {
    values = parse(args).values;
  } catch (error) {
    io.stderr.write(`${command.name}: ${(error as Error).message}\n`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(command.usage);
    return 0;
  }
  const port = values.port === undefined ? 7071 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    io.stderr.write(`${command.name}: --port must be a port number, not '${values.port ?? ""}'\n`);
    return 2;
  }
  const logLevel = parseLogLevel(values["log-level"]);
  if (values["log-level"] !== undefined && logLevel === undefined) {
    io.stderr.write(`${command.name}: unknown --log-level '${values["log-level"]}'\n`);
    return 2;
  }
  const appDir = path.resolve(io.cwd, values.app ?? command.defaultAppDir ?? io.cwd);
  const eventGridFile =
    values["event-grid"] === undefined
      ? path.join(appDir, "eventgrid.local.json")
      : path.resolve(io.cwd, values["event-grid"]);

  let host: RunningHost;
  try {
    const eventGrid =
      existsSync(eventGridFile) || values["event-grid"] !== undefined
        ? readEventGridFile(eventGridFile)
        : undefined;
    host = await startHost({
      ...command.hostOptions?.(appDir),
      appDir,
      port,
      ...(values.hostname === undefined ? {} : { hostname: values.hostname }),
      ...(values["state-dir"] === undefined
        ? {}
        : { stateDir: path.resolve(io.cwd, values["state-dir"]) }),
      ...(values["app-state-setting"] === undefined
        ? {}
        : { appStateDirSetting: values["app-state-setting"] }),
      ...(values["stop-grace-setting"] === undefined
        ? {}
        : { stopGraceSetting: values["stop-grace-setting"] }),
      ...(eventGrid === undefined ? {} : { eventGrid }),
      ...(logLevel === undefined ? {} : { logLevel }),
      ...(values.key === undefined ? {} : { functionKey: values.key }),
      ...(values["no-durable"] ? { durable: false as const } : {}),
      log: (line) => io.stdout.write(`${line}\n`),
    });
  } catch (error) {
    const code = isRuntimeError(error) ? error.code : command.errorCode?.(error);
    io.stderr.write(
      `${command.name}: ${(error as Error).message}${code === undefined ? "" : ` (${code})`}\n`,
    );
    return 1;
  }
  try {
    await until(host);
  } finally {
    io.stdout.write("Stopping the host...\n");
    await host.stop();
    io.stdout.write("Host stopped.\n");
  }
  return 0;
}

/** Waits for SIGINT or SIGTERM; a second Ctrl+C while stopping gives up on a clean stop. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      process.once("SIGINT", () => process.exit(130));
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}
