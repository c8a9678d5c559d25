/**
 * Restores as files: the recovery point's dumps (files, and folders of directory-format dumps)
 * copied under a folder the settings allow (`LOCAL_RESTORE_FOLDERS`), never through a link out of
 * it, and never over an existing file.
 */
import { randomUUID } from "node:crypto";
import { mkdir, realpath, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AppError, InvalidInputError } from "../../../domain/errors.js";
import type {
  BackupJob,
  RecoveryPoint,
  RecoveryPointFile,
} from "../../../domain/protection/types.js";
import { ProviderErrorCodes } from "../../ports.js";
import { readdirIfExists, writeFileAtomic } from "../../atomicFiles.js";
import { copyDumpEntry, isDirectoryDump } from "../dumpEntries.js";
import type { LocalServiceContext } from "./context.js";
import type { StoredJob } from "./jobRecords.js";
import type { JobTracker } from "./jobTracker.js";

/**
 * The absolute folder a restore as files writes to, from the request's path or `file:` URL.
 *
 * @throws InvalidInputError `UserErrorInvalidRestoreTarget` for a relative path or a folder
 * outside the allowed ones.
 */
export function filesFolder(context: LocalServiceContext, url: string): string {
  const folder = url.startsWith("file:") ? fileURLToPath(url) : url;
  if (!path.isAbsolute(folder)) {
    throw new InvalidInputError(
      ProviderErrorCodes.invalidRestoreTarget,
      "Restore-as-files needs an absolute folder path or file:// URL",
      [
        {
          path: "$.restoreTargetInfo.targetDetails.url",
          code: ProviderErrorCodes.invalidRestoreTarget,
          message: "use an absolute path",
        },
      ],
    );
  }
  const resolved = path.resolve(folder);
  if (!context.restoreFolders.some((root) => isWithin(root, resolved))) {
    throw new InvalidInputError(
      ProviderErrorCodes.invalidRestoreTarget,
      `Restore-as-files writes only under ${context.restoreFolders.join(", ")} (LOCAL_RESTORE_FOLDERS)`,
      [
        {
          path: "$.restoreTargetInfo.targetDetails.url",
          code: ProviderErrorCodes.invalidRestoreTarget,
          message: `use a folder under ${context.restoreFolders.join(" or ")}`,
        },
      ],
    );
  }
  return resolved;
}

function linkOut(context: LocalServiceContext, destination: string): AppError {
  return new AppError(
    ProviderErrorCodes.invalidRestoreTarget,
    `${destination} leads outside ${context.restoreFolders.join(", ")} through a link`,
    { httpStatus: 400, recommendedAction: "Restore into a folder that is not behind a link" },
  );
}

/** Copies a recovery point's files under `destination`, each named with `prefix`. */
export async function restoreAsFiles(
  context: LocalServiceContext,
  jobs: JobTracker,
  job: StoredJob,
  point: RecoveryPoint,
  folder: string,
  destination: string,
  prefix: string,
): Promise<Partial<BackupJob>> {
  // A link inside an allowed folder must not lead the files, or the folders made for them, out
  // of it: the nearest folder that exists is checked before anything is made, the result after.
  const root =
    context.restoreFolders.find((folder) => isWithin(folder, destination)) ?? destination;
  await mkdir(root, { recursive: true });
  const realRoot = await realpath(root);
  const leadsOut = async (folder: string) => !isWithin(realRoot, await realpath(folder));
  let existing = destination;
  while (!(await exists(existing))) existing = path.dirname(existing);
  if (await leadsOut(existing)) throw linkOut(context, destination);
  await mkdir(destination, { recursive: true });
  if (await leadsOut(destination)) throw linkOut(context, destination);
  const targets = point.files.map((f) => path.join(destination, `${prefix}${f.fileName}`));
  for (const target of targets) {
    if (await exists(target)) {
      throw new AppError(
        ProviderErrorCodes.invalidRestoreTarget,
        `${target} exists already (FailIfExists)`,
        { httpStatus: 409 },
      );
    }
  }
  // From here on the targets are this job's: a later attempt may remove them.
  await jobs.patchWork(job.name, { writingFiles: true });
  let bytes = 0;
  for (const [index, file] of point.files.entries()) {
    const target = targets[index] as string;
    const temp = `${target}.partial-${randomUUID()}`;
    await copyDumpEntry(path.join(folder, file.fileName), temp, file);
    await rename(temp, target);
    bytes += file.sizeBytes;
  }
  await writeFileAtomic(
    path.join(destination, `${prefix}recovery-point.json`),
    `${JSON.stringify({ ...point, files: point.files.map((f) => ({ ...f, fileName: `${prefix}${f.fileName}` })) }, null, 2)}\n`,
  );
  return { dataTransferredInBytes: bytes };
}

/** Removes what a restore as files wrote (or began to write) under its destination. */
export async function removeRestoredFiles(
  destination: string,
  prefix: string,
  files: readonly RecoveryPointFile[],
): Promise<void> {
  // Name -> whether it is a folder (a directory-format dump); only those are removed as folders.
  const names = new Map<string, boolean>([
    ...files.map((f) => [`${prefix}${f.fileName}`, isDirectoryDump(f)] as const),
    [`${prefix}recovery-point.json`, false] as const,
  ]);
  for (const entry of await readdirIfExists(destination)) {
    const folder = names.get(entry.replace(/\.partial-[0-9a-f-]{36}$/, ""));
    if (folder !== undefined)
      await rm(path.join(destination, entry), { recursive: folder, force: true });
  }
}

/** Whether `target` is `root` or below it (both absolute). */
function isWithin(root: string, target: string): boolean {
  const relative = path.relative(root, target);
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
