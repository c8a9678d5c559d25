#!/usr/bin/env node
// The `pgprotect` command. The TypeScript sources are compiled by `npm ci` (prepare) or `npm run build`.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

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
