/**
 * Loads a function app the way the Node worker does: `package.json` `main` (a file or a glob),
 * each entry imported in turn, then the appStart hooks, then the capabilities handshake that
 * locks `app.setup()` (and starts the library's HTTP-stream proxy when the app enabled it).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { RuntimeError } from "../errors.js";
import type { FunctionRegistry } from "./functionsCore.js";
import { globFiles, isGlob } from "./glob.js";
import type { InProcessInvoker } from "./invoker.js";

/** What the host learns once the app has loaded. */
export interface LoadedApp {
  /** The entry files, absolute, in load order. */
  readonly entryFiles: readonly string[];
  /** The capabilities the programming model reported (`HttpUri` when HTTP streaming is on). */
  readonly capabilities: Readonly<Record<string, string>>;
}

/** Raised when the app cannot load; the host must not start. */
export class AppLoadError extends RuntimeError {
  override readonly name = "AppLoadError";
  constructor(message: string, cause?: unknown) {
    super("RUNTIME_APP_LOAD_FAILED", message, { cause });
  }
}

/** The entry files named by `main` in the app's package.json. */
export function resolveEntryFiles(appDir: string): string[] {
  let main: unknown;
  try {
    const manifest = JSON.parse(readFileSync(path.join(appDir, "package.json"), "utf8")) as Record<
      string,
      unknown
    >;
    main = manifest["main"];
  } catch (error) {
    throw new AppLoadError(
      `Cannot read ${path.join(appDir, "package.json")}: ${(error as Error).message}`,
      error,
    );
  }
  const pattern = typeof main === "string" && main !== "" ? main : "index.js";
  const files = isGlob(pattern)
    ? globFiles(appDir, pattern)
    : globFiles(appDir, pattern.replace(/^\.\//, ""));
  if (files.length === 0) {
    throw new AppLoadError(
      `No file matches "main": "${pattern}" in ${appDir}/package.json (was the app built?).`,
    );
  }
  return files;
}

/**
 * Imports every entry file of the app in `appDir`, runs the appStart hooks and locks setup.
 *
 * @throws AppLoadError when a file fails to load or a hook throws; like the worker on Node 20+,
 * a load error blocks the app.
 */
export async function loadFunctionApp(
  appDir: string,
  registry: FunctionRegistry,
  invoker: InProcessInvoker,
): Promise<LoadedApp> {
  const entryFiles = resolveEntryFiles(appDir);
  for (const file of entryFiles) {
    try {
      await import(pathToFileURL(file).href);
    } catch (error) {
      throw new AppLoadError(
        `Worker was unable to load entry point "${file}": ${(error as Error).message}`,
        error,
      );
    }
  }
  try {
    await invoker.runAppStartHooks(appDir);
  } catch (error) {
    throw new AppLoadError(`An appStart hook failed: ${(error as Error).message}`, error);
  }
  const programmingModel = registry.programmingModel();
  const capabilities = programmingModel ? await programmingModel.getCapabilities({}) : {};
  registry.lock();
  return { entryFiles, capabilities };
}
