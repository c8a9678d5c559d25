#!/usr/bin/env node
// The `pgprotect` command. The TypeScript sources are compiled by `npm ci` (prepare) or `npm run build`.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

// The app needs Node.js 22 (node:sqlite among others): on an older Node.js, say what to run rather
// than fail on the first missing built-in module.
const nodeMajor = Number(process.versions.node.split(".")[0]);
if (nodeMajor < 22) {
  process.stderr.write(
    `pgprotect: needs Node.js 22 or later, not ${process.versions.node}: run \`npx pgprotect ...\` in the project folder (it runs on the project's pinned Node.js 22), or \`node_modules/.bin/node bin/pgprotect.js ...\`\n`,
  );
  process.exit(2);
}

const entry = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));
if (!existsSync(entry)) {
  process.stderr.write("pgprotect: not built yet; run `npm run build` first\n");
  process.exit(2);
}
const { runCli } = await import(pathToFileURL(entry).href);
process.exitCode = await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
});
