/** Locates the project's folder from a benchmark, whether it runs from `bench/` or `dist/bench/`. */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The nearest folder above this file that holds `package.json` and `bench/`. */
export function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, "package.json")) && existsSync(path.join(dir, "bench"))) {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new Error("the project folder (package.json with bench/) was not found");
    dir = parent;
  }
}
