/**
 * The local Azure Functions host: loads a Node.js v4-model function app into a language worker
 * process and serves it — HTTP triggers, timers, Event Grid (webhook and local topics) and, when
 * attached, the Durable Functions extension.
 *
 * @remarks As in Azure, the host and the app run in separate processes. The worker process
 * provides `@azure/functions-core` before the app loads (the library decides once, at its first
 * `require`, whether it runs under a worker; otherwise it drops every registration), so the host
 * process never loads @azure/functions itself, and any number of hosts can run side by side. Every
 * part of the host (HTTP, timers, Event Grid, Durable) invokes functions through the same
 * {@link FunctionInvoker}, which crosses to the worker over IPC and calls the library's own
 * invocation model there. A worker that dies is restarted.
 *
 * @example
 * ```ts
 * const host = await startHost({ appDir: "path/to/app", port: 0 });
 * await fetch(`${host.url}/api/hello`);
 * await host.stop();
 * ```
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type {
  DurableExtension,
  DurableExtensionOptions,
  FunctionInvoker,
  LocalHttpRequest,
  LocalHttpResponse,
  RegisteredFunction,
} from "./contracts.js";
import { RuntimeError } from "./errors.js";
import { HostLog, parseLogLevel, type LogLevel } from "./core/hostLog.js";
import { LoggedInvoker } from "./core/loggedInvoker.js";
import { acquireStateLock, type StateLock } from "./core/stateLock.js";
import { startSupervisedWorker, type WorkerSupervisor } from "./core/workerSupervisor.js";
import { keyLocalTopics, loadOrCreateHostKeys, type HostKeys } from "./http/hostKeys.js";
import { defaultMaxRequestBodyBytes, notFound, problem } from "./http/refusals.js";
import { buildHttpRoutes } from "./http/httpTriggers.js";
import { hostOrigin, startHostHttpServer, type HostHttpServer } from "./http/server.js";
import { systemClock, type Clock } from "./timers/clock.js";
import { parseTimeSpan } from "./timers/ncrontab.js";
import { TimerScheduler } from "./timers/scheduler.js";
import { createEventGridWebhook } from "./eventgrid/webhook.js";
import { LocalTopics, type EventGridSettings } from "./eventgrid/topics.js";

/** Creates the Durable extension once the app has loaded. */
export type DurableExtensionFactory = (
  options: DurableExtensionOptions,
) => DurableExtension | Promise<DurableExtension>;

/** Options of {@link startHost}. */
export interface HostOptions {
  /** The function app's folder (its package.json `main` names the entry files). */
  readonly appDir: string;
  /** Port to listen on; 0 picks a free one. Default 7071. */
  readonly port?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  readonly hostname?: string;
  /**
   * Folder for the runtime's state (keys, timer status, dead letters, Durable state). Default:
   * `<app state folder>/runtime` when {@link HostOptions.appStateDirSetting} names a setting the
   * app has, else {@link HostOptions.defaultStateDir}.
   */
  readonly stateDir?: string;
  /**
   * The app setting that names the app's own state folder, e.g. `MYAPP_STATE_DIR`. When the app
   * has it (environment, `env` or local.settings.json `Values`; relative to this process's working
   * folder, as the app reads it), the host keeps its state in `<folder>/runtime` and locks the
   * whole folder, so one host at a time owns everything the app keeps. Default: none.
   */
  readonly appStateDirSetting?: string;
  /**
   * The runtime's state folder when neither `stateDir` nor the app state setting gives one.
   * Default `<appDir>/.functions-runtime`.
   */
  readonly defaultStateDir?: string;
  /** Time source for timers and Event Grid retries. Default: the system clock. */
  readonly clock?: Clock;
  /**
   * The Durable extension: a factory, or `false` for none. Default: `createDurableExtension`
   * from this package's `durable` module.
   */
  readonly durable?: DurableExtensionFactory | false;
  /** Local Event Grid topics and delivery settings. */
  readonly eventGrid?: EventGridSettings;
  /** The local function key; default: stored under stateDir, created on first start. */
  readonly functionKey?: string;
  /**
   * The largest request body the host reads for HTTP triggers, the Durable API and the admin
   * API (Event Grid's own 1 MB limit applies to events). Default: the app setting
   * `FUNCTIONS_REQUEST_BODY_SIZE_LIMIT` (bytes, as in Azure), else 1 MiB.
   */
  readonly maxRequestBodyBytes?: number;
  /** Extra environment for the app (on top of this process's environment and local.settings.json `Values`). */
  readonly env?: Readonly<Record<string, string>>;
  /** Where host lines go. Default: stderr. */
  readonly log?: (line: string) => void;
  /** Minimum level of the app's logs. Default: host.json `logging.logLevel.Function` or `default`, else information. */
  readonly logLevel?: LogLevel;
  /** Fails (and recycles the worker of) an invocation running longer than this. Default: host.json `functionTimeout`, else none. */
  readonly functionTimeoutMs?: number;
  /** Whether timers run (default true). Tests that drive timers through the admin API may turn them off. */
  readonly timers?: boolean;
  /**
   * How long `stop()` waits for the app's appTerminate hooks before killing the worker. Default:
   * the seconds in the app setting {@link HostOptions.stopGraceSetting} (30 when absent: how long
   * the app itself waits for its running work) plus 15 s to stop what it started.
   */
  readonly terminateGraceMs?: number;
  /**
   * The app setting holding how many seconds the app waits for its running work when it stops,
   * e.g. `MYAPP_STOP_GRACE_SECONDS`; `stop()` gives the appTerminate hooks that long plus 15 s.
   * Default: none (30 s).
   */
  readonly stopGraceSetting?: string;
  /** Whether to print the banner with the functions and their URLs (default true). */
  readonly banner?: boolean;
}

/** A function as the host serves it. */
export interface HostedFunction {
  readonly name: string;
  readonly triggerType: string;
  /** For HTTP triggers: the URL template and methods. */
  readonly url?: string;
  readonly methods?: readonly string[];
  readonly authLevel?: string;
  /** For Event Grid triggers: the webhook URL. */
  readonly webhookUrl?: string;
  /** For timer triggers: the schedule. */
  readonly schedule?: string;
}

/** A running host. */
export interface RunningHost {
  /** e.g. `http://127.0.0.1:7071` */
  readonly url: string;
  readonly port: number;
  /** The local key for `authLevel: function` (header `x-functions-key` or query `code`). */
  readonly functionKey: string;
  /**
   * Every key: the function key, the master key (admin level, admin API, every webhook) and the
   * system keys of the Durable and Event Grid webhooks, as stored in the state folder.
   */
  readonly keys: HostKeys;
  readonly taskHub: string;
  readonly stateDir: string;
  readonly functions: readonly HostedFunction[];
  /** Invokes the app's functions (logged, with host-bound inputs), as the extensions do. */
  readonly invoker: FunctionInvoker;
  readonly durable: DurableExtension | undefined;
  /** The local Event Grid topics (publish, inspect pending deliveries). */
  readonly topics: LocalTopics;
  /** The timer scheduler (schedule status per function). */
  readonly timers: TimerScheduler;
  /** The current language worker's process id (it changes when the worker is restarted). */
  readonly workerPid: number | undefined;
  /** Stops timers, deliveries and the Durable extension, runs appTerminate hooks, closes the server. */
  stop(): Promise<void>;
}

/** The runtime's state folder when nothing else names one, relative to the app's folder. */
export const DEFAULT_STATE_FOLDER = ".functions-runtime";

/** What decides where a host keeps its state: the options of {@link HostOptions} that do. */
export type StateDirOptions = Pick<
  HostOptions,
  "stateDir" | "appStateDirSetting" | "defaultStateDir"
>;

/**
 * Where a host keeps its state and which folder it locks: the runtime folder (explicit, else
 * `<app state>/runtime`, else the default) and the app's state folder when its setting is set.
 */
export function resolveHostStateDirs(
  appDir: string,
  settings: Readonly<Record<string, string | undefined>>,
  options: StateDirOptions = {},
): { readonly runtimeDir: string; readonly lockDir: string } {
  const appState =
    options.appStateDirSetting === undefined
      ? undefined
      : settings[options.appStateDirSetting]?.trim();
  const appStateDir = appState ? path.resolve(appState) : undefined;
  const runtimeDir = path.resolve(
    options.stateDir ??
      (appStateDir
        ? path.join(appStateDir, "runtime")
        : (options.defaultStateDir ?? path.join(appDir, DEFAULT_STATE_FOLDER))),
  );
  return { runtimeDir, lockDir: appStateDir ?? runtimeDir };
}

/** How long `stop()` gives the appTerminate hooks: the option, else the app's grace plus 15 s. */
export function terminateGraceMs(
  options: HostOptions,
  settings: Readonly<Record<string, string | undefined>>,
): number {
  if (options.terminateGraceMs !== undefined) return options.terminateGraceMs;
  const seconds =
    options.stopGraceSetting === undefined ? undefined : settings[options.stopGraceSetting];
  return 15_000 + 1000 * (Number(seconds || 30) || 0);
}

/** Raised when the host cannot start. */
export class HostStartError extends RuntimeError {
  override readonly name = "HostStartError";
  constructor(message: string, cause?: unknown) {
    super("RUNTIME_HOST_START_FAILED", message, { cause });
  }
}

interface HostJson {
  readonly functionTimeoutMs: number | undefined;
  readonly routePrefix: string;
  readonly hubName: string | undefined;
  readonly logLevel: LogLevel | undefined;
  /** Levels of single functions (`"Function.<name>": "Warning"`). */
  readonly functionLogLevels: Readonly<Record<string, LogLevel>>;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

function resolveSetting(
  value: string,
  settings: Readonly<Record<string, string | undefined>>,
): string {
  return value.replace(/%([^%]+)%/g, (whole, name: string) => settings[name] ?? whole);
}

function readHostJson(
  appDir: string,
  settings: Readonly<Record<string, string | undefined>>,
): HostJson {
  const json = (readJson(path.join(appDir, "host.json")) ?? {}) as {
    extensions?: { http?: { routePrefix?: unknown }; durableTask?: { hubName?: unknown } };
    logging?: { logLevel?: Record<string, unknown> };
    functionTimeout?: unknown;
  };
  const prefix = json.extensions?.http?.routePrefix;
  const hub = json.extensions?.durableTask?.hubName;
  const levels = json.logging?.logLevel ?? {};
  const level = levels["Function"] ?? levels["default"];
  const timeout =
    typeof json.functionTimeout === "string" ? parseTimeSpan(json.functionTimeout) : undefined;
  return {
    // "-1" (unbounded) parses to nothing, as does an absent setting: no timeout.
    functionTimeoutMs: timeout !== undefined && timeout > 0 ? timeout : undefined,
    routePrefix: typeof prefix === "string" ? prefix.replace(/^\/+|\/+$/g, "") : "api",
    hubName: typeof hub === "string" ? resolveSetting(hub, settings) : undefined,
    logLevel: typeof level === "string" ? parseLogLevel(level) : undefined,
    functionLogLevels: functionLogLevels(levels),
  };
}

/** The `Function.<name>` categories of host.json's `logging.logLevel` that name a known level. */
function functionLogLevels(levels: Record<string, unknown>): Record<string, LogLevel> {
  const found: Record<string, LogLevel> = {};
  for (const [category, value] of Object.entries(levels)) {
    const match = /^Function\.([^.]+)$/i.exec(category);
    const level = typeof value === "string" ? parseLogLevel(value) : undefined;
    if (match?.[1] !== undefined && level !== undefined) found[match[1]] = level;
  }
  return found;
}

/** `Values` of the app's local.settings.json, as Core Tools reads them. */
function readLocalSettings(appDir: string): Record<string, string> {
  const json = readJson(path.join(appDir, "local.settings.json")) as
    { Values?: Record<string, unknown> } | undefined;
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(json?.Values ?? {})) {
    if (value !== null && value !== undefined) values[key] = String(value);
  }
  return values;
}

async function defaultDurableFactory(): Promise<DurableExtensionFactory | undefined> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = ["index.js", "index.ts"].map((file) => path.join(here, "durable", file));
  const found = candidates.find((file) => existsSync(file));
  if (!found) return undefined;
  // Imported by URL so the host compiles and runs without the Durable extension.
  const specifier = found.endsWith(".ts") ? "./durable/index.js" : pathToFileURL(found).href;
  const module = (await import(specifier)) as { createDurableExtension?: DurableExtensionFactory };
  return module.createDurableExtension;
}

function describeFunctions(
  functions: readonly RegisteredFunction[],
  baseUrl: string,
  routePrefix: string,
): HostedFunction[] {
  const routes = new Map(buildHttpRoutes(functions).map((route) => [route.functionName, route]));
  return functions.map((fn) => {
    const route = routes.get(fn.name);
    if (route) {
      const prefix = routePrefix === "" ? "" : `/${routePrefix}`;
      return {
        name: fn.name,
        triggerType: fn.triggerType,
        url: `${baseUrl}${prefix}/${route.template.template.replace(/^\/+/, "")}`,
        methods: route.methods,
        authLevel: route.authLevel,
      };
    }
    if (fn.triggerType.toLowerCase() === "eventgridtrigger") {
      return {
        name: fn.name,
        triggerType: fn.triggerType,
        webhookUrl: `${baseUrl}/runtime/webhooks/eventgrid?functionName=${encodeURIComponent(fn.name)}`,
      };
    }
    const trigger = Object.values(fn.bindings).find((binding) => binding.type === fn.triggerType);
    const schedule = trigger?.["schedule"];
    return {
      name: fn.name,
      triggerType: fn.triggerType,
      ...(typeof schedule === "string" ? { schedule } : {}),
    };
  });
}

function bannerLines(functions: readonly HostedFunction[], functionKey: string): string[] {
  const lines = ["", "Functions:", ""];
  for (const fn of functions) {
    if (fn.url !== undefined) {
      const methods = fn.methods && fn.methods.length > 0 ? fn.methods.join(",") : "ALL";
      lines.push(`\t${fn.name}: [${methods}] ${fn.url}`);
    } else if (fn.webhookUrl !== undefined) {
      lines.push(`\t${fn.name}: eventGridTrigger ${fn.webhookUrl}`);
    } else if (fn.schedule !== undefined) {
      lines.push(`\t${fn.name}: timerTrigger (${fn.schedule})`);
    } else {
      lines.push(`\t${fn.name}: ${fn.triggerType}`);
    }
    lines.push("");
  }
  if (
    functions.some((fn) => fn.authLevel !== undefined && fn.authLevel.toLowerCase() !== "anonymous")
  ) {
    lines.push(`Function key (x-functions-key header or ?code=): ${functionKey}`, "");
  }
  lines.push(
    "The master key and the system keys of the webhooks are in host-keys.json in the state folder.",
    "",
  );
  return lines;
}

/**
 * Starts the host: listens, loads the app into a worker process, attaches the extensions and
 * starts the timers. Resolves once requests are served.
 *
 * @throws HostStartError when the port is taken or the app fails to load.
 */
export async function startHost(options: HostOptions): Promise<RunningHost> {
  const appDir = path.resolve(options.appDir);
  const clock = options.clock ?? systemClock;
  const write = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));

  const localSettings = readLocalSettings(appDir);
  const settings: Record<string, string | undefined> = {
    ...localSettings,
    ...process.env,
    ...options.env,
  };
  const { runtimeDir: stateDir, lockDir } = resolveHostStateDirs(appDir, settings, options);
  // Before anything else starts (the server, the worker and through it PostgreSQL): a second host
  // on the same folder must leave the first one's processes alone.
  const lock = acquireStateLock(
    lockDir,
    { ...(options.port === undefined || options.port === 0 ? {} : { port: options.port }) },
    options.appStateDirSetting,
  );
  try {
    mkdirSync(stateDir, { recursive: true });
    return await startLocked({ ...options, appDir }, { stateDir, settings, clock, write, lock });
  } catch (error) {
    lock.release();
    throw error;
  }
}

interface LockedStart {
  readonly stateDir: string;
  readonly settings: Record<string, string | undefined>;
  readonly clock: Clock;
  readonly write: (line: string) => void;
  readonly lock: StateLock;
}

async function startLocked(options: HostOptions, started: LockedStart): Promise<RunningHost> {
  const { appDir } = options;
  const { stateDir, settings, clock, write, lock } = started;
  const hostJson = readHostJson(appDir, settings);
  const log = new HostLog(
    write,
    options.logLevel ?? hostJson.logLevel ?? "information",
    () => clock.now(),
    hostJson.functionLogLevels,
  );
  const hostname = options.hostname ?? "127.0.0.1";

  let server: HostHttpServer;
  try {
    server = await startHostHttpServer(hostname, options.port ?? 7071, log);
  } catch (error) {
    throw new HostStartError(
      `Cannot listen on ${hostname}:${options.port ?? 7071}: ${(error as Error).message}`,
      error,
    );
  }
  const baseUrl = hostOrigin(hostname, server.port);
  lock.update({ port: server.port, url: baseUrl });
  const keys = loadOrCreateHostKeys(stateDir, options.functionKey);
  const functionKey = keys.functionKey;
  const taskHub =
    hostJson.hubName && !hostJson.hubName.includes("%") ? hostJson.hubName : "TestHubName";

  let worker: WorkerSupervisor;
  try {
    worker = await startSupervisedWorker(
      {
        appDir,
        env: {
          ...settings,
          FUNCTIONS_WORKER_RUNTIME: "node",
          AzureWebJobsScriptRoot: appDir,
          WEBSITE_HOSTNAME: new URL(baseUrl).host,
          // The key of the local topics that configure none, so the app can publish to them.
          LOCAL_EVENTGRID_TOPIC_KEY: keys.eventGridTopicKey,
        },
        onLog: (record) => {
          const level = parseLogLevel(record.level) ?? "information";
          // The library's own chatter (debug lines) follows the same minimum level as the app's.
          log.write(level, record.message, record.functionName);
        },
        onOutput: (line, stream) =>
          log.write(stream === "stderr" ? "warning" : "information", line),
      },
      log,
      {
        ...((options.functionTimeoutMs ?? hostJson.functionTimeoutMs)
          ? { functionTimeoutMs: options.functionTimeoutMs ?? hostJson.functionTimeoutMs }
          : {}),
      },
    );
  } catch (error) {
    await server.close();
    const detail = (error as { detail?: string }).detail;
    if (detail) log.write("error", detail);
    throw new HostStartError((error as Error).message, error);
  }

  if (worker.pid !== undefined) lock.update({ workerPid: worker.pid });
  const invoker = new LoggedInvoker(worker, log);
  const functions = worker.list();
  const topics = new LocalTopics({
    settings: keyLocalTopics(options.eventGrid ?? {}, keys.eventGridTopicKey),
    invoker,
    clock,
    stateDir: path.join(stateDir, "eventgrid"),
    log,
    baseUrl,
  });
  const timers = new TimerScheduler({
    invoker,
    clock,
    stateDir: path.join(stateDir, "timers"),
    log,
    settings,
  });

  let durable: DurableExtension | undefined;
  let hosted: HostedFunction[];
  try {
    const factory =
      options.durable === false ? undefined : (options.durable ?? (await defaultDurableFactory()));
    if (factory) {
      durable = await factory({
        invoker,
        baseUrl,
        systemKey: keys.systemKeys.durabletask_extension,
        taskHub,
        stateDir: path.join(stateDir, "durable"),
        log: (line) => log.write("information", line),
      });
      const extension = durable;
      invoker.bindDurableClient(() => extension.clientBindingValue());
    } else if (
      functions.some((fn) =>
        Object.values(fn.bindings).some((binding) => binding.type === "durableClient"),
      )
    ) {
      log.write(
        "warning",
        "The app uses a Durable client binding but no Durable extension is attached.",
      );
    }
    warnAboutSubscriptions(options.eventGrid, functions, log);

    server.attach({
      invoker,
      httpRoutes: buildHttpRoutes(functions),
      routePrefix: hostJson.routePrefix,
      keys,
      maxRequestBodyBytes: maxRequestBodyBytes(options, settings),
      log,
      httpStreamUri: () => worker.capabilities["HttpUri"],
      ...(durable ? { durable } : {}),
      webhooks: { eventgrid: createEventGridWebhook(invoker) },
      topics: (topic, request) => topics.handlePublish(topic, request),
      adminInvoke: (functionName, request) => adminInvoke(invoker, timers, functionName, request),
    });
    hosted = describeFunctions(functions, baseUrl, hostJson.routePrefix);

    await durable?.start();
  } catch (error) {
    await durable?.stop().catch(() => undefined);
    await server.close();
    await worker.stop();
    throw new HostStartError(`The host failed to start: ${(error as Error).message}`, error);
  }
  if (options.timers !== false) timers.start(functions);
  topics.start();

  if (options.banner !== false) {
    for (const line of bannerLines(hosted, functionKey)) log.banner(line);
    log.banner(
      `Host started on ${baseUrl} (worker pid ${worker.pid ?? "?"}, state in ${stateDir})`,
    );
  }

  let stopping: Promise<void> | undefined;
  return {
    url: baseUrl,
    port: server.port,
    functionKey,
    keys,
    taskHub,
    stateDir,
    functions: hosted,
    invoker,
    durable,
    topics,
    timers,
    get workerPid() {
      return worker.pid;
    },
    stop() {
      stopping ??= (async () => {
        timers.stop();
        topics.stop();
        await durable?.stop();
        await server.close();
        await worker.stop(terminateGraceMs(options, settings));
        lock.release();
      })();
      return stopping;
    },
  };
}

/** The host's body limit: the option, else `FUNCTIONS_REQUEST_BODY_SIZE_LIMIT`, else 1 MiB. */
function maxRequestBodyBytes(
  options: HostOptions,
  settings: Readonly<Record<string, string | undefined>>,
): number {
  if (options.maxRequestBodyBytes !== undefined) return options.maxRequestBodyBytes;
  const setting = Number(settings["FUNCTIONS_REQUEST_BODY_SIZE_LIMIT"]);
  return Number.isSafeInteger(setting) && setting > 0 ? setting : defaultMaxRequestBodyBytes;
}

/** Warns about subscriptions that name no Event Grid function: their events would only fail. */
function warnAboutSubscriptions(
  settings: EventGridSettings | undefined,
  functions: readonly RegisteredFunction[],
  log: HostLog,
): void {
  for (const [topic, { subscriptions }] of Object.entries(settings?.topics ?? {})) {
    for (const subscription of subscriptions) {
      const fn = functions.find(
        (candidate) => candidate.name.toLowerCase() === subscription.function.toLowerCase(),
      );
      if (!fn || fn.triggerType.toLowerCase() !== "eventgridtrigger") {
        log.write(
          "warning",
          `Topic '${topic}' subscribes '${subscription.function}', which is not an Event Grid function of this app.`,
        );
      }
    }
  }
}

/** `POST /admin/functions/{name}` `{"input": "..."}`: runs a non-HTTP function once (202). */
async function adminInvoke(
  invoker: LoggedInvoker,
  timers: TimerScheduler,
  functionName: string,
  request: LocalHttpRequest,
): Promise<LocalHttpResponse> {
  const fn = invoker.get(functionName);
  if (!fn || fn.triggerType.toLowerCase() === "httptrigger")
    return notFound(`No non-HTTP function named '${functionName}'.`, request.url.pathname);
  let input: unknown;
  try {
    const body = Buffer.from(request.body).toString("utf8");
    input = body.trim() === "" ? null : (JSON.parse(body) as { input?: unknown }).input;
  } catch {
    return problem(400, "BAD_REQUEST", 'The body must be JSON: {"input": "..."}', {
      instance: request.url.pathname,
    });
  }
  if (fn.triggerType.toLowerCase() === "timertrigger") {
    void timers.runNow(fn.name).catch(() => undefined);
    return { status: 202 };
  }
  const trigger = Object.entries(fn.bindings).find(
    ([, binding]) => binding.type === fn.triggerType,
  );
  if (!trigger) return notFound(`No trigger found for '${functionName}'.`, request.url.pathname);
  const data =
    typeof input === "string" ? { string: input } : { json: JSON.stringify(input ?? null) };
  void invoker
    .invoke(fn.name, { inputData: [{ name: trigger[0], data }], triggerMetadata: {} })
    .catch(() => undefined);
  return { status: 202 };
}
