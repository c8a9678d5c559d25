/**
 * `pgprotect host [--app DIR] [--port 7071]`: runs a function app (this project's, built into
 * dist/, by default) in the local Functions runtime until SIGINT or SIGTERM.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { z } from "zod";
import { isAppError } from "../domain/errors.js";
import { isRuntimeError } from "../runtime/errors.js";
import { parseLogLevel } from "../runtime/core/hostLog.js";
import type { EventGridSettings } from "../runtime/eventgrid/topics.js";
import { startHost, type RunningHost } from "../runtime/host.js";
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

const subscriptionSchema = z.object({
  name: z.string().min(1).optional(),
  function: z.string().min(1),
  includedEventTypes: z.array(z.string()).optional(),
  subjectBeginsWith: z.string().optional(),
  subjectEndsWith: z.string().optional(),
  maxDeliveryAttempts: z.number().int().min(1).max(30).optional(),
  eventTimeToLiveMinutes: z.number().positive().max(1440).optional(),
});

/** The schema of the `--event-grid` file. */
export const eventGridFileSchema = z.object({
  topics: z
    .record(
      z.string(),
      z.object({
        key: z.string().optional(),
        inputSchema: z.enum(["EventGridSchema", "CloudEventSchemaV1_0"]).optional(),
        subscriptions: z.array(subscriptionSchema),
      }),
    )
    .optional(),
  timeScale: z.number().positive().optional(),
  maxDeliveryAttempts: z.number().int().min(1).max(30).optional(),
  eventTimeToLiveMinutes: z.number().positive().max(1440).optional(),
});

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

function readEventGridFile(file: string): EventGridSettings {
  const parsed = eventGridFileSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success) {
    throw new Error(
      `${file}: ${parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}`,
    );
  }
  return parsed.data as EventGridSettings;
}

/**
 * Runs the host until `until` settles, then stops it (appTerminate hooks run).
 *
 * @returns 0 after a clean stop, 1 when the host could not start, 2 on a usage error.
 */
export async function runHostCommand(
  args: readonly string[],
  io: CliIo,
  until: (host: RunningHost) => Promise<unknown>,
): Promise<number> {
  let values: ReturnType<typeof parse>["values"];
  try {
    values = parse(args).values;
  } catch (error) {
    io.stderr.write(`pgprotect host: ${(error as Error).message}\n`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(usage);
    return 0;
  }
  const port = values.port === undefined ? 7071 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    io.stderr.write(`pgprotect host: --port must be a port number, not '${values.port ?? ""}'\n`);
    return 2;
  }
  const logLevel = parseLogLevel(values["log-level"]);
  if (values["log-level"] !== undefined && logLevel === undefined) {
    io.stderr.write(`pgprotect host: unknown --log-level '${values["log-level"]}'\n`);
    return 2;
  }
  const appDir = path.resolve(io.cwd, values.app ?? projectRoot());
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
      appDir,
      port,
      ...(values.hostname === undefined ? {} : { hostname: values.hostname }),
      ...(values["state-dir"] === undefined
        ? {}
        : { stateDir: path.resolve(io.cwd, values["state-dir"]) }),
      ...(eventGrid === undefined ? {} : { eventGrid }),
      ...(logLevel === undefined ? {} : { logLevel }),
      ...(values.key === undefined ? {} : { functionKey: values.key }),
      ...(values["no-durable"] ? { durable: false as const } : {}),
      log: (line) => io.stdout.write(`${line}\n`),
    });
  } catch (error) {
    const code = isAppError(error) || isRuntimeError(error) ? ` (${error.code})` : "";
    io.stderr.write(`pgprotect host: ${(error as Error).message}${code}\n`);
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

function parse(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    options: {
      app: { type: "string" },
      port: { type: "string" },
      hostname: { type: "string" },
      "state-dir": { type: "string" },
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

/** Waits for SIGINT or SIGTERM. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      // A second Ctrl+C while stopping gives up on a clean stop.
      process.once("SIGINT", () => process.exit(130));
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

/** `pgprotect host`: runs until SIGINT or SIGTERM. */
export async function runHostCli(args: readonly string[], io: CliIo): Promise<number> {
  return runHostCommand(args, io, () => untilSignal());
}
