/**
 * Which API a client command talks to, and with which key: `--api` or `PGPROTECT_API_URL`, else
 * the local host that holds the state folder (its lock file records its URL); the key from
 * `PGPROTECT_KEY`, else the local host's function key when the API is that host.
 *
 * @remarks The local host's key is sent to the local host only: an API named elsewhere gets a key
 * only from `PGPROTECT_KEY`, so a URL typed by mistake never receives it.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ClientExitCodes } from "./exitCodes.js";

/** The lock file a running host keeps in its state folder (see the runtime's `stateLock.ts`). */
const hostLockFile = "host.lock";
/** The runtime's keys, under the state folder (see the runtime's `hostKeys.ts`). */
const hostKeysFile = path.join("runtime", "host-keys.json");
/** The state folder when `PGPROTECT_STATE_DIR` is not set (the app's default). */
const defaultStateFolder = ".pgprotect";

/**
 * This project's folder: the nearest package.json above this module.
 *
 * @remarks The same walk as `hostCli.ts`'s `projectRoot`, kept here so that a client command does
 * not load the Functions runtime that module imports.
 */
export function clientProjectDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

/** A client command failed before or outside the API: says so in one line, with its exit code. */
export class ClientError extends Error {
  override readonly name = "ClientError";
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** A local host found through its lock file. */
export interface LocalHost {
  /** Its origin, as the lock records it (`http://127.0.0.1:7071`). */
  readonly url: string;
  readonly lockFile: string;
  /** The state folder the lock is in (the keys are under it). */
  readonly stateDir: string;
  readonly pid: number | undefined;
}

/** Where the client sends its requests and what it proves itself with. */
export interface ApiTarget {
  /** The API's base URL, ending in `/api`, no query. */
  readonly baseUrl: string;
  /** Where the URL came from, for messages: `--api`, `PGPROTECT_API_URL` or the lock file. */
  readonly source: string;
  /** The function key (`x-functions-key`), when one was given or found. */
  readonly functionKey: string | undefined;
  /** Where the key came from, for messages (never the key itself). */
  readonly keySource: string | undefined;
  /** The Entra ID scope to ask a token for (`Authorization: Bearer`), when asked. */
  readonly entraScope: string | undefined;
  /** The local host the URL names, when it is one. */
  readonly localHost: LocalHost | undefined;
}

/** What the target is resolved from. */
export interface TargetInputs {
  /** `--api`. */
  readonly api?: string | undefined;
  /** `--entra-scope`. */
  readonly entraScope?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The command's working folder. */
  readonly cwd: string;
  /** This project's folder, whose `.pgprotect` is looked at too. */
  readonly projectDir: string;
}

/**
 * The API's base URL from what a person typed: the app's URL with or without `/api`.
 *
 * @throws ClientError (usage) for something that is not an http(s) URL.
 */
export function normalizeApiUrl(raw: string, source: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ClientError(
      `${source} is not a URL: '${raw}' (e.g. http://127.0.0.1:7071/api)`,
      ClientExitCodes.usage,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new ClientError(`${source} must be an http or https URL`, ClientExitCodes.usage);
  const pathname = url.pathname.replace(/\/+$/, "");
  return `${url.origin}${pathname.endsWith("/api") ? pathname : `${pathname}/api`}`;
}

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(readFileSync(file, "utf8"));
    return value && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The state folders a local host may keep: `PGPROTECT_STATE_DIR`, else `.pgprotect` here or in the project. */
function stateDirs(inputs: TargetInputs): string[] {
  const configured = inputs.env.PGPROTECT_STATE_DIR?.trim();
  if (configured) return [path.resolve(inputs.cwd, configured)];
  return [
    ...new Set([
      path.resolve(inputs.cwd, defaultStateFolder),
      path.resolve(inputs.projectDir, defaultStateFolder),
    ]),
  ];
}

/**
 * The local hosts whose lock files record a URL, in the order looked at.
 *
 * @remarks With `PGPROTECT_STATE_DIR` the host locks that folder; without it, its runtime folder
 * (`<state>/runtime`), so both places are read.
 */
export function findLocalHosts(inputs: TargetInputs): LocalHost[] {
  const hosts: LocalHost[] = [];
  for (const stateDir of stateDirs(inputs)) {
    for (const lockFile of [
      path.join(stateDir, hostLockFile),
      path.join(stateDir, "runtime", hostLockFile),
    ]) {
      const lock = readJson(lockFile);
      if (typeof lock?.url !== "string") continue;
      hosts.push({
        url: lock.url,
        lockFile,
        stateDir,
        pid: typeof lock.pid === "number" ? lock.pid : undefined,
      });
    }
  }
  return hosts;
}

/** Whether the process that wrote a lock still runs (unknown counts as running). */
export function hostProcessRuns(host: LocalHost): boolean {
  if (host.pid === undefined) return true;
  try {
    process.kill(host.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readFunctionKey(host: LocalHost): string | undefined {
  const keys = readJson(path.join(host.stateDir, hostKeysFile));
  return typeof keys?.functionKey === "string" ? keys.functionKey : undefined;
}

/**
 * Resolves the API and the credentials of a client command.
 *
 * @throws ClientError (unreachable) when no URL was given and no local host was found; (usage)
 * for a URL that is not one.
 */
export function resolveTarget(inputs: TargetInputs): ApiTarget {
  const hosts = findLocalHosts(inputs);
  const given = inputs.api?.trim()
    ? { raw: inputs.api, source: "--api" }
    : inputs.env.PGPROTECT_API_URL?.trim()
      ? { raw: inputs.env.PGPROTECT_API_URL, source: "PGPROTECT_API_URL" }
      : undefined;
  let baseUrl: string;
  let source: string;
  let localHost: LocalHost | undefined;
  if (given) {
    baseUrl = normalizeApiUrl(given.raw, given.source);
    source = given.source;
    const origin = new URL(baseUrl).origin;
    localHost = hosts.find((host) => URL.canParse(host.url) && new URL(host.url).origin === origin);
  } else {
    localHost = hosts.find(hostProcessRuns) ?? hosts[0];
    if (!localHost)
      throw new ClientError(
        "no API to talk to: give --api URL or set PGPROTECT_API_URL, or start the local host (npm start)",
        ClientExitCodes.unreachable,
      );
    baseUrl = normalizeApiUrl(localHost.url, localHost.lockFile);
    source = localHost.lockFile;
  }
  const envKey = inputs.env.PGPROTECT_KEY?.trim();
  const localKey = envKey ? undefined : localHost && readFunctionKey(localHost);
  const entraScope = inputs.entraScope?.trim() || inputs.env.PGPROTECT_ENTRA_SCOPE?.trim();
  return {
    baseUrl,
    source,
    functionKey: envKey || localKey,
    keySource: envKey
      ? "PGPROTECT_KEY"
      : localKey && localHost
        ? path.join(localHost.stateDir, hostKeysFile)
        : undefined,
    entraScope: entraScope || undefined,
    localHost,
  };
}
