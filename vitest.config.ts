import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * Tests run the workspace packages from their sources (each export's `pgprotect-source` target,
 * which the type check follows too), so a change to the runtime needs no build before its tests.
 * Apps the host loads into a worker process import the built package, as they do in production.
 */
function workspaceSources(folder: string) {
  const root = new URL(`./packages/${folder}/`, import.meta.url);
  const manifest = JSON.parse(readFileSync(new URL("package.json", root), "utf8")) as {
    name: string;
    exports: Record<string, string | Record<string, string>>;
  };
  return Object.entries(manifest.exports).flatMap(([subpath, target]) => {
    const source = typeof target === "string" ? undefined : target["pgprotect-source"];
    if (source === undefined) return [];
    const specifier = `${manifest.name}${subpath.slice(1)}`.replace(/[/.]/g, "\\$&");
    return [
      { find: new RegExp(`^${specifier}$`), replacement: fileURLToPath(new URL(source, root)) },
    ];
  });
}

export default defineConfig({
  resolve: { alias: workspaceSources("functions-runtime") },
  test: {
    include: ["test/**/*.test.ts", "packages/*/test/**/*.test.ts"],
    // An empty run means the suite was not found, never a pass.
    passWithNoTests: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ["default", "./test/support/summaryReporter.ts"],
  },
});
