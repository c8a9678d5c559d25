#!/usr/bin/env node
// The `functions-runtime` command: runs a Functions app until SIGINT or SIGTERM. Built by `npm run build`.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const entry = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
if (!existsSync(entry)) {
  process.stderr.write("functions-runtime: not built yet; run `npm run build` first\n");
  process.exit(2);
}
const { runHostCommand, untilSignal } = await import(pathToFileURL(entry).href);
process.exitCode = await runHostCommand(
  process.argv.slice(2),
  { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() },
  () => untilSignal(),
);
