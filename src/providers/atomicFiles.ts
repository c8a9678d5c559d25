/**
 * Crash-safe small files, shared by the providers that keep state in files (the local provider,
 * notification delivery state): write to a temporary name in the same folder, fsync, rename over the
 * target, fsync the folder. A reader sees the old content or the new, never a torn file.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";

/** Prefix of temporary files; readers skip names starting with it. */
export const TEMP_PREFIX = ".tmp-";

/** Makes a folder's entries (renames, creations) durable. */
export async function fsyncFolder(folder: string): Promise<void> {
  const handle = await open(folder, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces a file atomically.
 *
 * @param mode - permission bits of the new file (e.g. `0o600` for secrets).
 */
export async function writeFileAtomic(
  file: string,
  content: string | Uint8Array,
  mode = 0o644,
): Promise<void> {
  const folder = path.dirname(file);
  await mkdir(folder, { recursive: true });
  const temp = path.join(
    folder,
    `${TEMP_PREFIX}${path.basename(file)}-${randomBytes(6).toString("hex")}`,
  );
  const handle = await open(temp, "wx", mode);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await fsyncFolder(folder);
}

/** Writes a value as pretty JSON, atomically. */
export async function writeJsonAtomic(file: string, value: unknown, mode = 0o644): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`, mode);
}

/** Reads a JSON file, or `undefined` when it does not exist. */
export async function readJsonFile<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** The entries of a folder, none when the folder does not exist (yet). */
export async function readdirIfExists(folder: string): Promise<string[]> {
  try {
    return await readdir(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

/** Reads every `*.json` file of a folder (none when the folder is missing), skipping temporary files. */
export async function readJsonFolder<T>(folder: string): Promise<T[]> {
  const values: T[] = [];
  for (const name of (await readdirIfExists(folder)).sort()) {
    if (!name.endsWith(".json") || name.startsWith(TEMP_PREFIX)) continue;
    const value = await readJsonFile<T>(path.join(folder, name));
    if (value !== undefined) values.push(value);
  }
  return values;
}
