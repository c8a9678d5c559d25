/**
 * What the zip deployment to Azure holds: `.funcignore` keeps every file the app loads and drops
 * the sources, and the workspace package the app imports is copied in (a zip deployment does not
 * follow npm's workspace links) and linked back afterwards.
 */
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ignore from "ignore";
import { afterEach, describe, expect, it } from "vitest";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const runtimePackage = join(repoRoot, "packages", "functions-runtime");

function funcignore() {
  return ignore().add(readFileSync(join(repoRoot, ".funcignore"), "utf8"));
}

/** Every file under a folder, as paths relative to the repository. */
function filesUnder(folder: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) files.push(relative(repoRoot, join(entry.parentPath, entry.name)));
  }
  return files;
}

/** Folders of the production dependencies, as npm resolves them. */
function productionDependencyFolders(): string[] {
  const listing = spawnSync("npm", ["ls", "--omit=dev", "--all", "--parseable"], {
    cwd: repoRoot,
    encoding: "utf8",
  });
  return listing.stdout
    .split("\n")
    .filter((line) => line.includes(`${join("node_modules")}`))
    .map((line) => relative(repoRoot, line));
}

const scratch: string[] = [];
afterEach(() => {
  for (const folder of scratch.splice(0)) rmSync(folder, { recursive: true, force: true });
});

describe("the deployment package", () => {
  it("keeps every file of the app and of its production dependencies, nested src folders included", () => {
    const rules = funcignore();
    const appFiles = [
      "package.json",
      "host.json",
      ...filesUnder(join(repoRoot, "dist", "src")).filter((file) => !file.endsWith(".map")),
    ];
    const dependencyFolders = productionDependencyFolders();
    const dependencyFiles = dependencyFolders
      .filter((folder) => !folder.startsWith(join("node_modules", "@pgprotect")))
      .flatMap((folder) => filesUnder(join(repoRoot, folder)).filter((f) => !f.endsWith(".map")));

    const dropped = [...appFiles, ...dependencyFiles].filter((file) => rules.ignores(file));

    expect(dependencyFolders).toContain(join("node_modules", "durable-functions"));
    expect(
      dependencyFiles.some((file) => file.includes(join("durable-functions", "lib", "src"))),
    ).toBe(true);
    expect(dropped).toEqual([]);
  });

  it("drops the sources, tests, benchmarks, workspace folders and development tools", () => {
    const rules = funcignore();

    const kept = [
      "src/index.ts",
      "test/e2e/fullScenario.test.ts",
      "bench/azureFanOut.bench.ts",
      "packages/functions-runtime/src/host.ts",
      "dist/test/support/postgres.js",
      "node_modules/typescript/package.json",
      "local.settings.json",
    ].filter((file) => !rules.ignores(file));

    expect(kept).toEqual([]);
  });

  it("copies the workspace package into node_modules for packaging and links it back after", () => {
    // Arrange: an app folder shaped like this repository, with npm's workspace link.
    const app = mkdtempSync(join(tmpdir(), "pgprotect-package-"));
    scratch.push(app);
    writeFileSync(
      join(app, "package.json"),
      JSON.stringify({ name: "app", private: true, type: "module", workspaces: ["packages/*"] }),
    );
    const packageCopy = join(app, "packages", "functions-runtime");
    for (const part of ["package.json", "README.md", "bin", "dist"]) {
      cpSync(join(runtimePackage, part), join(packageCopy, part), { recursive: true });
    }
    mkdirSync(join(app, "node_modules", "@pgprotect"), { recursive: true });
    const installed = join(app, "node_modules", "@pgprotect", "functions-runtime");
    symlinkSync("../../packages/functions-runtime", installed);
    const script = join(repoRoot, "scripts", "package-workspaces.mjs");

    // Act: materialize, then load the NCRONTAB reader with the workspace folder gone.
    const materialized = spawnSync(process.execPath, [script, "materialize"], {
      cwd: app,
      encoding: "utf8",
    });
    const hiddenWorkspace = join(app, "packages-hidden");
    cpSync(join(app, "packages"), hiddenWorkspace, { recursive: true });
    rmSync(join(app, "packages"), { recursive: true });
    const load = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        "const m = await import('@pgprotect/functions-runtime/ncrontab'); console.log(Object.keys(m).length > 0)",
      ],
      { cwd: app, encoding: "utf8" },
    );
    cpSync(hiddenWorkspace, join(app, "packages"), { recursive: true });
    const linked = spawnSync(process.execPath, [script, "link"], { cwd: app, encoding: "utf8" });

    // Assert
    expect(materialized.status, materialized.stderr).toBe(0);
    expect(materialized.stdout).toMatch(/@pgprotect\/functions-runtime: copied \d+ files/);
    expect(load.stdout.trim(), load.stderr).toBe("true");
    expect(linked.status, linked.stderr).toBe(0);
    expect(lstatSync(installed).isSymbolicLink()).toBe(true);
    expect(existsSync(join(installed, "dist"))).toBe(true);
  });

  it("refuses to copy a workspace package that was never built", () => {
    const app = mkdtempSync(join(tmpdir(), "pgprotect-package-"));
    scratch.push(app);
    writeFileSync(
      join(app, "package.json"),
      JSON.stringify({ name: "app", private: true, workspaces: ["packages/*"] }),
    );
    const packageCopy = join(app, "packages", "functions-runtime");
    mkdirSync(packageCopy, { recursive: true });
    const manifest = JSON.parse(
      readFileSync(join(runtimePackage, "package.json"), "utf8"),
    ) as Record<string, unknown>;
    writeFileSync(join(packageCopy, "package.json"), JSON.stringify(manifest));
    mkdirSync(join(app, "node_modules", "@pgprotect"), { recursive: true });
    const installed = join(app, "node_modules", "@pgprotect", "functions-runtime");
    symlinkSync("../../packages/functions-runtime", installed);

    const result = spawnSync(
      process.execPath,
      [join(repoRoot, "scripts", "package-workspaces.mjs"), "materialize"],
      {
        cwd: app,
        encoding: "utf8",
      },
    );

    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      "package-workspaces: @pgprotect/functions-runtime has no dist/: run npm run build first",
    );
    expect(lstatSync(installed).isSymbolicLink()).toBe(true);
  });
});
