import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expandBraces, globFiles } from "../../../src/core/glob.js";
import { resolveEntryFiles } from "../../../src/core/appLoader.js";

describe("brace expansion", () => {
  test("expands alternatives in the order written, nested ones too", () => {
    expect(expandBraces("dist/src/{index.js,functions/*.js}")).toEqual([
      "dist/src/index.js",
      "dist/src/functions/*.js",
    ]);
    expect(expandBraces("{a,b/{c,d}}.js")).toEqual(["a.js", "b/c.js", "b/d.js"]);
    expect(expandBraces("plain.js")).toEqual(["plain.js"]);
  });
});

describe("globbing an app's entry files", () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "pgprotect-glob-"));
    for (const file of [
      "dist/src/index.js",
      "dist/src/functions/b.js",
      "dist/src/functions/a.js",
      "dist/src/functions/a.js.map",
      "dist/src/functions/nested/deep.js",
      "dist/src/functions/.hidden.js",
      "dist/src/other.js",
    ]) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), "");
    }
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test("matches the alternatives in order and files within one in name order", () => {
    const files = globFiles(dir, "dist/src/{index.js,functions/*.js}").map((file) =>
      path.relative(dir, file),
    );

    expect(files).toEqual([
      "dist/src/index.js",
      "dist/src/functions/a.js",
      "dist/src/functions/b.js",
    ]);
  });

  test("** matches any depth and a file matched twice is listed once", () => {
    const files = globFiles(dir, "dist/{src/functions/**/*.js,src/functions/a.js}").map((file) =>
      path.relative(dir, file),
    );

    expect(files).toEqual([
      "dist/src/functions/a.js",
      "dist/src/functions/b.js",
      "dist/src/functions/nested/deep.js",
    ]);
  });

  test("package.json main names the entry files, and a main that matches nothing is an error", () => {
    writeFileSync(
      path.join(dir, "package.json"),
      JSON.stringify({ main: "dist/src/{index.js,functions/*.js}" }),
    );
    expect(resolveEntryFiles(dir)).toHaveLength(3);

    writeFileSync(path.join(dir, "package.json"), JSON.stringify({ main: "build/*.js" }));
    expect(() => resolveEntryFiles(dir)).toThrow(/No file matches "main": "build\/\*\.js"/);
  });
});
