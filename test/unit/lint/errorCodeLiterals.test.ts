import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { errorCatalogue } from "../../../src/domain/errorCodes.js";

/** Where a string literal is a code pgprotect states: a problem's `code`, or an error's first argument. */
const codePositions = [
  /\bcode:\s*"([A-Za-z_]+)"/g,
  /\b(?:AppError|NotFoundError|InvalidInputError|ArmError|NotificationDeliveryError)\(\s*"([A-Za-z_]+)"/g,
  /\.(?:error|warn)\(\s*[^,()]+,\s*"([A-Z_]+)"/g,
];

/** Codes that are not pgprotect's: zod's issue codes. */
const notOurs = new Set(["custom"]);

async function sourceFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

describe("code literals in the source", () => {
  it("are codes of the catalogue, every one", async () => {
    const catalogue = new Set(Object.keys(errorCatalogue));
    const outside: string[] = [];

    for (const file of await sourceFiles("src")) {
      const text = await readFile(file, "utf8");
      for (const pattern of codePositions) {
        for (const [, code = ""] of text.matchAll(pattern)) {
          if (!catalogue.has(code) && !notOurs.has(code)) {
            outside.push(`${file}: ${code}`);
          }
        }
      }
    }

    expect(outside).toEqual([]);
  });
});
