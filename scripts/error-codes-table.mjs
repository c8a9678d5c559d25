#!/usr/bin/env node
// Prints the README's table of error codes from the catalogue (src/domain/errorCodes.ts),
// formatted as Prettier formats the README. Run after `npm run build`:
//   node scripts/error-codes-table.mjs
import { fileURLToPath } from "node:url";
import prettier from "prettier";
import { errorCodeTable } from "../dist/src/http/errorCodeTable.js";

const readme = fileURLToPath(new URL("../README.md", import.meta.url));
const options = (await prettier.resolveConfig(readme)) ?? {};
const table = await prettier.format(`${errorCodeTable().join("\n")}\n`, {
  ...options,
  parser: "markdown",
});
process.stdout.write(table);
