#!/usr/bin/env node
/**
 * `npm start`'s build step: builds only when `dist/` is not up to date with the sources, and says
 * which it is. Up to date means: a build finished after it started at a moment no input was
 * modified since, over exactly the same set of input files (so an added, removed or renamed file
 * rebuilds too), with the built entry points present.
 *
 * The record of the last build is `dist/.build-stamp.json`, written only after a build succeeds;
 * `npm run build` run by hand does not write it, so the next `npm start` builds once more.
 *
 * Usage: node scripts/build-if-stale.mjs [--root DIR] [--check]
 *   --check   only say whether a build is needed (exit 0 when up to date, 1 when not)
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Folders and files whose changes change what the build emits. */
const inputs = [
  "src",
  "bench",
  "tsconfig.json",
  "tsconfig.build.json",
  "package.json",
  "packages/functions-runtime/src",
  "packages/functions-runtime/tsconfig.json",
  "packages/functions-runtime/tsconfig.build.json",
  "packages/functions-runtime/package.json",
];

/** Files the build makes that the host and the command need, each with the sources it comes from. */
const outputs = [
  { output: "dist/src/cli/main.js", from: "src" },
  { output: "packages/functions-runtime/dist/index.js", from: "packages/functions-runtime/src" },
];

const stampFile = path.join("dist", ".build-stamp.json");

/** Every input file under `root`, relative, sorted, with its modification time. */
function listInputs(root) {
  const files = [];
  const walk = (relative) => {
    const absolute = path.join(root, relative);
    let stat;
    try {
      stat = statSync(absolute);
    } catch {
      return;
    }
    if (stat.isDirectory()) {
      for (const name of readdirSync(absolute)) walk(path.join(relative, name));
    } else if (stat.isFile()) {
      files.push({ file: relative.split(path.sep).join("/"), mtimeMs: stat.mtimeMs });
    }
  };
  for (const input of inputs) walk(input);
  return files.sort((a, b) => a.file.localeCompare(b.file));
}

/** Why a build is needed, or undefined when `dist/` is up to date. */
function staleness(root, files) {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(path.join(root, stampFile), "utf8"));
  } catch {
    return "no build recorded yet";
  }
  const missing = outputs.find(
    ({ output, from }) => existsSync(path.join(root, from)) && !existsSync(path.join(root, output)),
  );
  if (missing) return `${missing.output} is missing`;
  const before = new Set(stamp.files ?? []);
  const now = new Set(files.map((f) => f.file));
  const added = [...now].filter((file) => !before.has(file));
  const removed = [...before].filter((file) => !now.has(file));
  if (added.length > 0 || removed.length > 0) {
    const named = [...added.map((f) => `${f} added`), ...removed.map((f) => `${f} removed`)];
    return `${named.slice(0, 2).join(", ")}${named.length > 2 ? ` and ${named.length - 2} more` : ""}`;
  }
  const changed = files.filter((f) => f.mtimeMs >= stamp.startedAtMs);
  if (changed.length > 0)
    return `${changed[0].file}${changed.length > 1 ? ` and ${changed.length - 1} more` : ""} changed`;
  return undefined;
}

function main(argv) {
  const rootIndex = argv.indexOf("--root");
  const root = path.resolve(
    rootIndex >= 0
      ? (argv[rootIndex + 1] ?? ".")
      : path.join(path.dirname(fileURLToPath(import.meta.url)), ".."),
  );
  const files = listInputs(root);
  const reason = staleness(root, files);
  if (argv.includes("--check")) {
    process.stdout.write(reason ? `build needed: ${reason}\n` : "dist/ is up to date\n");
    return reason ? 1 : 0;
  }
  if (!reason) {
    process.stderr.write(
      "pgprotect: dist/ is up to date with the sources; not building (npm run build forces it)\n",
    );
    return 0;
  }
  process.stderr.write(`pgprotect: building dist/ (${reason}); this takes 20 to 45 seconds…\n`);
  // Taken before the build: a file saved while it runs is newer than the stamp and rebuilds next time.
  const startedAtMs = Date.now();
  const build = spawnSync("npm", ["run", "--silent", "build"], {
    cwd: root,
    stdio: "inherit",
    shell: process.platform === "win32",
  });
  if (build.status !== 0) {
    process.stderr.write(
      `pgprotect: the build failed (exit ${build.status ?? build.signal}); see above\n`,
    );
    return build.status || 1;
  }
  mkdirSync(path.join(root, "dist"), { recursive: true });
  writeFileSync(
    path.join(root, stampFile),
    `${JSON.stringify({ startedAtMs, files: files.map((f) => f.file) })}\n`,
  );
  process.stderr.write(`pgprotect: built in ${Math.round((Date.now() - startedAtMs) / 1000)} s\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
