/**
 * The local host key and `authLevel` checks. Locally one key serves as both the function key and
 * the master key; it is kept in the state folder so URLs stay valid across restarts.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Where the key lives under the state folder. */
export const hostKeysFileName = "host-keys.json";

/**
 * Returns the given key, or the one stored under `stateDir`, or a new one (stored 0600).
 */
export function loadOrCreateHostKey(stateDir: string, given?: string): string {
  if (given !== undefined && given !== "") return given;
  const file = path.join(stateDir, hostKeysFileName);
  try {
    const stored = JSON.parse(readFileSync(file, "utf8")) as { functionKey?: unknown };
    if (typeof stored.functionKey === "string" && stored.functionKey.length >= 16)
      return stored.functionKey;
  } catch {
    // No usable key yet: make one.
  }
  const key = randomBytes(30).toString("base64url");
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify({ functionKey: key }, null, 2)}\n`, { mode: 0o600 });
  return key;
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
 * Whether a request may call a function with `authLevel` (anonymous, function or admin; an
 * unknown level is treated as function).
 */
export function isAuthorized(
  authLevel: unknown,
  presented: string | undefined,
  hostKey: string,
): boolean {
  const level = typeof authLevel === "string" ? authLevel.toLowerCase() : "function";
  if (level === "anonymous") return true;
  return presented !== undefined && sameKey(presented, hostKey);
}
