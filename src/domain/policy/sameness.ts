/**
 * Whether two backup policies are the same policy: the one rule behind "creating the same policy
 * again answers the existing one" (`PUT .../policies/{name}`, the providers' `createPolicy`).
 */
import type { BackupPolicy } from "./types.js";

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * A policy in one canonical form: what the service sets or may echo differently is left out
 * (tag ids and eTags, nulls for absent values, the informal top-level `name`), and keys are
 * sorted, so key order never makes two policies differ. List order is kept: it is meaningful
 * (rules, tagging priorities).
 */
export function canonicalPolicy(policy: BackupPolicy): unknown {
  const { name: _name, ...rest } = policy;
  return canonical(rest);
}

function canonical(value: unknown, key?: string): unknown {
  if (Array.isArray(value)) return value.map((item) => canonical(item));
  if (!isObject(value)) return value;
  const entries = Object.entries(value)
    .filter(
      ([k, v]) =>
        v !== null && v !== undefined && !(key === "tagInfo" && (k === "id" || k === "eTag")),
    )
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => [k, canonical(v, k)] as const);
  return Object.fromEntries(entries);
}

/** Whether two policies say the same thing, whatever the key order or the service's echoes. */
export function samePolicy(a: BackupPolicy, b: BackupPolicy): boolean {
  return JSON.stringify(canonicalPolicy(a)) === JSON.stringify(canonicalPolicy(b));
}
