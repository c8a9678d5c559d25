import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";

const functionsDir = path.resolve(import.meta.dirname, "../../../src/functions");
/** A trigger parses, authorizes, calls one use case and answers: this many lines is plenty. */
const maxTriggerLines = 60;

/** Lines of a file counted plainly, as an editor numbers them: blank lines and comments included. */
function lineCount(text: string): number {
  if (text === "") return 0;
  return text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}

describe("the trigger files in src/functions", () => {
  it("are none of them over 60 lines, counting every line", async () => {
    const names = (await readdir(functionsDir)).filter((name) => name.endsWith(".ts"));

    const oversized: string[] = [];
    for (const name of names) {
      const lines = lineCount(await readFile(path.join(functionsDir, name), "utf8"));
      if (lines > maxTriggerLines) oversized.push(`${name}: ${lines} lines`);
    }

    expect(names.length).toBeGreaterThan(0);
    expect(oversized).toEqual([]);
  });

  it("are counted line by line, a last line without a newline included", () => {
    const counts = [
      lineCount(""),
      lineCount("a\n"),
      lineCount("a\n\n// why\nb"),
      lineCount("a\nb\n"),
    ];

    expect(counts).toEqual([0, 1, 4, 2]);
  });
});
