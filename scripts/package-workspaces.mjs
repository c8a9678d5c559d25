#!/usr/bin/env node
/**
 * Makes the app's workspace packages deployable, and links them back afterwards.
 *
 * npm links a workspace package into node_modules as a symbolic link to its folder, and a zip
 * deployment to Azure Functions does not follow links: the deployed app would miss
 * `@pgprotect/functions-runtime` (its NCRONTAB reader is loaded in Azure too). `materialize`
 * replaces each link with a copy of exactly the files `npm pack` would publish; `link` puts the
 * links back. azure.yaml runs them before and after packaging.
 *
 * Usage: node scripts/package-workspaces.mjs materialize|link   (from the app's folder)
 */
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";

const appDir = process.cwd();

/** The workspace packages of the app: folder and package name. */
function workspacePackages() {
  const manifest = JSON.parse(readFileSync(join(appDir, "package.json"), "utf8"));
  const packages = [];
  for (const pattern of manifest.workspaces ?? []) {
    // The app's workspaces are "folder/*" patterns; nothing richer is needed here.
    const parent = join(appDir, pattern.replace(/\/\*$/, ""));
    if (!existsSync(parent)) continue;
    for (const entry of readdirSync(parent, { withFileTypes: true })) {
      const folder = join(parent, entry.name);
      if (!entry.isDirectory() || !existsSync(join(folder, "package.json"))) continue;
      const { name } = JSON.parse(readFileSync(join(folder, "package.json"), "utf8"));
      packages.push({ folder, name, installed: join(appDir, "node_modules", ...name.split("/")) });
    }
  }
  return packages;
}

/** The files `npm pack` would publish for one package, relative to its folder. */
function publishedFiles(folder) {
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const result = spawnSync(npm, ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: folder,
    encoding: "utf8",
    shell: process.platform === "win32",
  });
  if (result.status !== 0) {
    throw new Error(
      `npm pack --dry-run failed in ${folder}: ${result.stderr.trim().split("\n")[0]}`,
    );
  }
  const [packed] = JSON.parse(result.stdout);
  return packed.files.map((file) => file.path);
}

function isLink(path) {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function materialize() {
  for (const pkg of workspacePackages()) {
    if (!isLink(pkg.installed)) {
      console.log(`${pkg.name}: already a copy`);
      continue;
    }
    const files = publishedFiles(pkg.folder);
    if (!files.some((file) => file.startsWith("dist/"))) {
      throw new Error(`${pkg.name} has no dist/: run npm run build first`);
    }
    // Copy aside first, then swap, so a failure never leaves the app without the package.
    const staging = `${pkg.installed}.materializing`;
    rmSync(staging, { recursive: true, force: true });
    for (const file of files) {
      mkdirSync(dirname(join(staging, file)), { recursive: true });
      cpSync(join(pkg.folder, file), join(staging, file));
    }
    // Removing a link and renaming a folder in its place leaves no half-copied package behind.
    rmSync(pkg.installed, { force: true });
    renameSync(staging, pkg.installed);
    console.log(`${pkg.name}: copied ${files.length} files into node_modules`);
  }
}

function link() {
  for (const pkg of workspacePackages()) {
    if (isLink(pkg.installed)) continue;
    rmSync(pkg.installed, { recursive: true, force: true });
    mkdirSync(dirname(pkg.installed), { recursive: true });
    symlinkSync(relative(dirname(pkg.installed), pkg.folder), pkg.installed, "junction");
    console.log(`${pkg.name}: linked to ${relative(appDir, pkg.folder)}`);
  }
}

const command = process.argv[2];
try {
  if (command === "materialize") materialize();
  else if (command === "link") link();
  else {
    console.error("usage: node scripts/package-workspaces.mjs materialize|link");
    process.exit(2);
  }
} catch (error) {
  console.error(`package-workspaces: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
