/**
 * The local host's keys and `authLevel` checks, kept in the state folder so URLs stay valid across
 * restarts: a function key, the master key, the extensions' system keys (`durabletask_extension`,
 * `eventgrid_extension`) as in Azure, and the key of the runtime's local Event Grid topics.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import {
  chmodSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import type { EventGridSettings } from "../eventgrid/topics.js";

/** Where the key lives under the state folder. */
export const hostKeysFileName = "host-keys.json";

/** The system keys of the extensions the local host serves, named as in Azure. */
export type SystemKeyName = "durabletask_extension" | "eventgrid_extension";

/** Every key of a local host. */
export interface HostKeys {
  /** Opens `authLevel: function` routes. */
  readonly functionKey: string;
  /** Opens everything: admin routes, the admin API and every extension webhook. */
  readonly masterKey: string;
  readonly systemKeys: Readonly<Record<SystemKeyName, string>>;
  /** Publishers present it to the local topics that configure no key of their own. */
  readonly eventGridTopicKey: string;
}

const systemKeyNames: readonly SystemKeyName[] = ["durabletask_extension", "eventgrid_extension"];

function newKey(): string {
  return randomBytes(30).toString("base64url");
}

function storedKey(value: unknown): string | undefined {
  return typeof value === "string" && value.length >= 16 ? value : undefined;
}

/**
 * Reads the keys stored under `stateDir`, creating any that are missing (a key file from an
 * earlier version keeps its function key and gains the others), and stores them 0600.
 *
 * @param givenFunctionKey - replaces the stored function key for this run (it is not stored).
 */
export function loadOrCreateHostKeys(stateDir: string, givenFunctionKey?: string): HostKeys {
  const file = path.join(stateDir, hostKeysFileName);
  let stored: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as unknown;
    if (typeof parsed === "object" && parsed !== null) stored = parsed as Record<string, unknown>;
  } catch {
    // No usable key file yet: every key is made below.
  }
  const storedSystem = (stored["systemKeys"] ?? {}) as Record<string, unknown>;
  const keys = {
    functionKey: storedKey(stored["functionKey"]) ?? newKey(),
    masterKey: storedKey(stored["masterKey"]) ?? newKey(),
    systemKeys: Object.fromEntries(
      systemKeyNames.map((name) => [name, storedKey(storedSystem[name]) ?? newKey()]),
    ) as Record<SystemKeyName, string>,
    // Base64, as Event Grid's access keys are: SAS tokens are signed with its decoded bytes.
    eventGridTopicKey: storedKey(stored["eventGridTopicKey"]) ?? randomBytes(32).toString("base64"),
  };
  const text = `${JSON.stringify(keys, null, 2)}\n`;
  if (JSON.stringify(stored, null, 2) + "\n" !== text) {
    mkdirSync(stateDir, { recursive: true });
    // Written aside and renamed: a crash mid-write must not leave a truncated file that the next
    // start would replace with new keys, breaking every URL handed out.
    const aside = `${file}.${process.pid}.tmp`;
    const fd = openSync(aside, "w", 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(aside, 0o600);
    renameSync(aside, file);
  }
  return givenFunctionKey !== undefined && givenFunctionKey !== ""
    ? { ...keys, functionKey: givenFunctionKey }
    : keys;
}

/** The key a request presents: header `x-functions-key`, else query `code`. */
export function presentedKey(
  headers: Readonly<Record<string, string>>,
  url: URL,
): string | undefined {
  return headers["x-functions-key"] ?? url.searchParams.get("code") ?? undefined;
}

function sameKey(presented: string, expected: string): boolean {
  const left = Buffer.from(presented);
  const right = Buffer.from(expected);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Whether a request may call a function with `authLevel`: anonymous needs nothing, function the
 * function key or the master key, admin (and any other level named) the master key; a missing
 * level counts as function. `keys` may be one string serving as both.
 */
export function isAuthorized(
  authLevel: unknown,
  presented: string | undefined,
  keys: string | Pick<HostKeys, "functionKey" | "masterKey">,
): boolean {
  const { functionKey, masterKey } =
    typeof keys === "string" ? { functionKey: keys, masterKey: keys } : keys;
  const level = typeof authLevel === "string" ? authLevel.toLowerCase() : "function";
  if (level === "anonymous") return true;
  if (presented === undefined) return false;
  if (sameKey(presented, masterKey)) return true;
  return level === "function" && sameKey(presented, functionKey);
}

/** Whether a request presents the extension's system key or the master key, as Azure requires. */
export function hasSystemKey(
  name: SystemKeyName,
  presented: string | undefined,
  keys: Pick<HostKeys, "masterKey" | "systemKeys">,
): boolean {
  return (
    presented !== undefined &&
    (sameKey(presented, keys.systemKeys[name]) || sameKey(presented, keys.masterKey))
  );
}

/**
 * The topics with the generated topic key filled in where they name no key of their own, so no
 * local topic takes events from whoever reaches the port, and no key needs committing.
 */
export function keyLocalTopics(settings: EventGridSettings, topicKey: string): EventGridSettings {
  if (!settings.topics) return settings;
  return {
    ...settings,
    topics: Object.fromEntries(
      Object.entries(settings.topics).map(([name, topic]) => [
        name,
        topic.key !== undefined && topic.key !== "" ? topic : { ...topic, key: topicKey },
      ]),
    ),
  };
}
