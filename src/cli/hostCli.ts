/**
 * `pgprotect host [--app DIR] [--port 7071]`: runs a function app (this project's, built into
 * dist/, by default) in the local Functions runtime until SIGINT or SIGTERM.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  eventGridFileSchema,
  runHostCommand as runFunctionsHostCommand,
  untilSignal,
  type HostOptions,
  type RunningHost,
} from "@pgprotect/functions-runtime";
import { isAppError } from "../domain/errors.js";
import type { CliIo } from "./io.js";

const usage = `Usage: pgprotect host [options]

Runs a Node.js Azure Functions app (v4 programming model) locally: HTTP triggers, timers,
Event Grid and Durable Functions.

Options:
  --app DIR            The function app folder (default: this project; run \`npm run build\` first)
  --port N             Port to listen on (default 7071; 0 picks a free port)
  --hostname ADDR      Interface to listen on (default 127.0.0.1)
  --state-dir DIR      Runtime state: keys, timer status, dead letters, Durable history
                       (default: <PGPROTECT_STATE_DIR>/runtime when that setting is given,
                       else <app>/.pgprotect/runtime). One host runs per state folder.
  --event-grid FILE    Local Event Grid topics and subscriptions (default: <app>/eventgrid.local.json if present)
  --log-level LEVEL    trace|debug|information|warning|error (default: host.json, else information)
  --key KEY            The local function key (default: generated once, kept in the state folder)
  --no-durable         Do not attach the Durable Functions extension
  -h, --help           Show this help
`;

/** The schema of the `--event-grid` file (the runtime package's). */
export { eventGridFileSchema };

/**
 * The app settings through which pgprotect steers the host it runs on: the host keeps its state
 * in `<PGPROTECT_STATE_DIR>/runtime` and locks that folder, and gives the app's own stop
 * (`LOCAL_STOP_GRACE_SECONDS`) its time before ending the worker.
 */
export const appHostOptions = {
  appStateDirSetting: "PGPROTECT_STATE_DIR",
  stopGraceSetting: "LOCAL_STOP_GRACE_SECONDS",
} as const satisfies Partial<HostOptions>;

/** The host's state folder when `PGPROTECT_STATE_DIR` is not set: `<app>/.pgprotect/runtime`. */
export function defaultHostStateDir(appDir: string): string {
  return path.join(appDir, ".pgprotect", "runtime");
}

/** This project's folder: the nearest package.json above this module. */
export function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

/**
 * Runs the host until `until` settles, then stops it (appTerminate hooks run): the runtime
 * package's command, named `pgprotect host`, on this project by default, with pgprotect's settings.
 *
 * @returns 0 after a clean stop, 1 when the host could not start, 2 on a usage error.
 */
export async function runHostCommand(
  args: readonly string[],
  io: CliIo,
  until: (host: RunningHost) => Promise<unknown>,
): Promise<number> {
  return runFunctionsHostCommand(args, io, until, {
    name: "pgprotect host",
    usage,
    defaultAppDir: projectRoot(),
    hostOptions: (appDir) => ({ ...appHostOptions, defaultStateDir: defaultHostStateDir(appDir) }),
    errorCode: (error) => (isAppError(error) ? error.code : undefined),
  });
}

/** `pgprotect host`: runs until SIGINT or SIGTERM. */
export async function runHostCli(args: readonly string[], io: CliIo): Promise<number> {
  return runHostCommand(args, io, () => untilSignal());
}
