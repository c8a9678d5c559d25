/**
 * Starting pgprotect: the command on too old a Node.js, and `npm start`'s build step, which builds
 * only when the sources changed.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const projectDir = fileURLToPath(new URL("../../..", import.meta.url));

describe("the pgprotect command on a Node.js older than 22", () => {
  it("says in one line what to run instead, and exits 2 before loading anything", () => {
    // As on a machine whose own Node.js is 20 (node:sqlite missing): the version is what it reads.
    const pretend20 = `data:text/javascript,Object.defineProperty(process.versions,"node",{value:"20.19.2"})`;

    const run = spawnSync(
      process.execPath,
      ["--import", pretend20, path.join(projectDir, "bin", "pgprotect.js"), "jobs"],
      {
        encoding: "utf8",
      },
    );

    expect(run.status).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(
      "pgprotect: needs Node.js 22 or later, not 20.19.2: run `npx pgprotect ...` in the project folder (it runs on the project's pinned Node.js 22), or `node_modules/.bin/node bin/pgprotect.js ...`\n",
    );
  });
});

describe("npm start's build step", () => {
  let root: string;
  const script = path.join(projectDir, "scripts", "build-if-stale.mjs");

  /** Runs the step on the scratch project; its build records each run in builds.log. */
  function start(env: NodeJS.ProcessEnv = {}): {
    code: number | null;
    said: string;
    builds: number;
  } {
    const run = spawnSync(process.execPath, [script, "--root", root], {
      encoding: "utf8",
      env: { ...process.env, ...env },
    });
    const log = (() => {
      try {
        return readFileSync(path.join(root, "builds.log"), "utf8");
      } catch {
        return "";
      }
    })();
    return { code: run.status, said: run.stderr, builds: log.split("\n").filter(Boolean).length };
  }

  const past = new Date(Date.now() - 3_600_000);

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), "pgprotect-start-"));
    mkdirSync(path.join(root, "src"));
    writeFileSync(path.join(root, "src", "a.ts"), "export const a = 1;\n");
    writeFileSync(
      path.join(root, "build.mjs"),
      `import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
if (process.env.FAIL_BUILD) process.exit(1);
mkdirSync("dist/src/cli", { recursive: true });
writeFileSync("dist/src/cli/main.js", "");
appendFileSync("builds.log", "built\\n");
`,
    );
    writeFileSync(
      path.join(root, "package.json"),
      JSON.stringify({ scripts: { build: "node build.mjs" } }),
    );
    for (const file of ["package.json", "src/a.ts"]) utimesSync(path.join(root, file), past, past);
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("builds the first time, saying so, and not again while nothing changed", () => {
    const first = start();
    const second = start();

    expect(first).toMatchObject({ code: 0, builds: 1 });
    expect(first.said).toMatch(/^pgprotect: building dist\/ \(no build recorded yet\)/);
    expect(second).toMatchObject({ code: 0, builds: 1 });
    expect(second.said).toBe(
      "pgprotect: dist/ is up to date with the sources; not building (npm run build forces it)\n",
    );
  });

  it("builds again when a source changed since the last build, naming it", () => {
    start();
    writeFileSync(path.join(root, "src", "a.ts"), "export const a = 2;\n");

    const again = start();

    expect(again).toMatchObject({ code: 0, builds: 2 });
    expect(again.said).toMatch(/building dist\/ \(src\/a\.ts changed\)/);
  });

  it("builds again when a source file was added, even one older than the last build", () => {
    start();
    writeFileSync(path.join(root, "src", "b.ts"), "export const b = 1;\n");
    utimesSync(path.join(root, "src", "b.ts"), past, past);

    const again = start();

    expect(again).toMatchObject({ code: 0, builds: 2 });
    expect(again.said).toMatch(/building dist\/ \(src\/b\.ts added\)/);
  });

  it("builds again when the built entry point is gone", () => {
    start();
    rmSync(path.join(root, "dist", "src", "cli", "main.js"));

    expect(start()).toMatchObject({ code: 0, builds: 2 });
  });

  it("does not count a failed build: it exits non-zero and the next start builds again", () => {
    start();
    writeFileSync(path.join(root, "src", "a.ts"), "export const a = 3;\n");

    const failed = start({ FAIL_BUILD: "1" });
    const again = start();

    expect(failed.code).not.toBe(0);
    expect(failed.said).toMatch(/pgprotect: the build failed/);
    expect(again).toMatchObject({ code: 0, builds: 2 });
  });

  it("is also what npm ci runs, so the first npm start after installing does not build again", () => {
    const scripts = (
      JSON.parse(readFileSync(path.join(projectDir, "package.json"), "utf8")) as {
        scripts: Record<string, string>;
      }
    ).scripts;

    expect(scripts["prepare"]).toBe("node scripts/build-if-stale.mjs");
    expect(scripts["start"]).toMatch(/^node scripts\/build-if-stale\.mjs && /);
  });
});
