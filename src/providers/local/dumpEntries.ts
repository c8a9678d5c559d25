/**
 * A recovery point's dumps as entries of its folder: a `pg_dump -Fc` file, or a folder of
 * `pg_dump -Fd` files (its `parts`). Copies of them (into another store, or out as files) are
 * synced file by file before they count.
 */
import { copyFile, mkdir, open } from "node:fs/promises";
import path from "node:path";
import type { RecoveryPointFile } from "../../domain/protection/types.js";
import { fsyncFolder } from "../atomicFiles.js";

/** Whether a recovery point's entry is a folder of directory-format files. */
export function isDirectoryDump(file: Pick<RecoveryPointFile, "format">): boolean {
  return file.format === "directory";
}

async function copySynced(from: string, to: string): Promise<void> {
  await copyFile(from, to);
  const handle = await open(to, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Copies one dump entry to `target` (which must not exist), its bytes synced to disk: a file,
 * or a folder and every file the manifest lists in it.
 */
export async function copyDumpEntry(
  source: string,
  target: string,
  file: Pick<RecoveryPointFile, "format" | "parts">,
): Promise<void> {
  if (!isDirectoryDump(file)) {
    await copySynced(source, target);
    return;
  }
  await mkdir(target, { mode: 0o700 });
  for (const part of file.parts ?? [])
    await copySynced(path.join(source, part.fileName), path.join(target, part.fileName));
  await fsyncFolder(target);
}
