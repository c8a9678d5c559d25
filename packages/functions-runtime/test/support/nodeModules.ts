import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** This package's folder. */
export const packageDir = fileURLToPath(new URL("../..", import.meta.url));

/**
 * The `node_modules` folder that holds `@azure/functions` for the apps the tests write: the
 * nearest one above this package (a workspace's packages share the root's).
 */
export function nodeModulesDir(): string {
  for (let dir = packageDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules");
    if (existsSync(path.join(candidate, "@azure", "functions"))) return candidate;
    if (path.dirname(dir) === dir) throw new Error("@azure/functions is not installed");
  }
}
