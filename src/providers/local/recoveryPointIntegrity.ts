/**
 * Checks that a recovery point's files are the bytes its backup wrote: each file is streamed once
 * through SHA-256 and compared, with its size, against the manifest. A directory-format dump is
 * checked file by file (its `parts`), and a file in its folder that the manifest does not list
 * counts as a change too.
 *
 * @remarks Restores, restores as files and copies between stores check before they create
 * anything, so a file changed or cut on disk fails the job with `RecoveryPointCorrupt` and leaves
 * no database, no file and no copy behind. One exception keeps the data from being read twice: a
 * restore into a database of a directory-format dump checks its tables' data files for presence
 * and size only, and hashes them as it loads them (`verifiedLoad.ts`); a changed one then fails
 * the job with `RecoveryPointCorrupt` too, and the database it had created is dropped.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { AppError } from "../../domain/errors.js";
import type { RecoveryPointFile, RecoveryPointFilePart } from "../../domain/protection/types.js";
import { ProviderErrorCodes } from "../ports.js";
import { readJsonFile } from "../atomicFiles.js";
import type { RecoveryPointManifest } from "./vaultStore.js";

/** What a recovery point's check needs: its identity and its files as recorded. */
export interface RecordedRecoveryPoint {
  readonly recoveryPointId: string;
  readonly backupInstanceName: string;
  readonly files: readonly Pick<
    RecoveryPointFile,
    "fileName" | "sizeBytes" | "sha256" | "format" | "parts"
  >[];
}

/**
 * The digest a directory-format dump's entry records: SHA-256 of its file list, one
 * `<sha256>  <size>  <name>` line per file in name order, so that the entry's one digest covers
 * every file's.
 */
export function directoryDigest(parts: readonly RecoveryPointFilePart[]): string {
  const lines = [...parts]
    .sort((a, b) => (a.fileName < b.fileName ? -1 : a.fileName > b.fileName ? 1 : 0))
    .map((part) => `${part.sha256}  ${part.sizeBytes}  ${part.fileName}\n`)
    .join("");
  return createHash("sha256").update(lines, "utf8").digest("hex");
}

/** Size and hex SHA-256 of a file, read once. */
export async function fileDigest(file: string): Promise<{ sizeBytes: number; sha256: string }> {
  const hash = createHash("sha256");
  let sizeBytes = 0;
  await pipeline(createReadStream(file), async (chunks: AsyncIterable<Buffer>) => {
    for await (const chunk of chunks) {
      sizeBytes += chunk.length;
      hash.update(chunk);
    }
  });
  return { sizeBytes, sha256: hash.digest("hex") };
}

/** What is wrong with one file, or undefined when it is intact. */
async function fileProblem(
  folder: string,
  file: Pick<RecoveryPointFile, "fileName" | "sizeBytes" | "sha256">,
  readContent = true,
): Promise<string | undefined> {
  const location = path.resolve(folder, file.fileName);
  // A manifest names files of its own folder only: `../x` or an absolute path is not read.
  if (path.dirname(location) !== path.resolve(folder))
    return `${file.fileName} names a file outside the recovery point's folder`;
  // A cut file is told apart from a changed one without reading it.
  const size = await stat(location).then(
    (s) => s.size,
    (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw error;
    },
  );
  if (size === undefined) return `${file.fileName} is missing`;
  if (size !== file.sizeBytes) {
    return `${file.fileName} has ${size} bytes where the backup wrote ${file.sizeBytes} (SHA-256 ${file.sha256} expected)`;
  }
  if (!readContent) return undefined;
  const actual = await fileDigest(location);
  if (actual.sha256 !== file.sha256)
    return `${file.fileName} has SHA-256 ${actual.sha256} where the backup recorded ${file.sha256}`;
  return undefined;
}

/** What is wrong with a directory-format dump's folder, one sentence per file. */
async function directoryProblems(
  folder: string,
  entry: RecordedRecoveryPoint["files"][number],
  hashedLater: (part: RecoveryPointFilePart) => boolean,
): Promise<string[]> {
  const location = path.resolve(folder, entry.fileName);
  if (path.dirname(location) !== path.resolve(folder))
    return [`${entry.fileName} names a folder outside the recovery point's folder`];
  const parts = entry.parts ?? [];
  // The list itself must be the one the backup recorded.
  if (directoryDigest(parts) !== entry.sha256)
    return [
      `${entry.fileName}: the manifest's file list does not match its SHA-256 ${entry.sha256}`,
    ];
  const present = await readdir(location).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (present === undefined) return [`${entry.fileName} is missing`];
  const problems: string[] = [];
  for (const part of parts) {
    const problem = await fileProblem(location, part, !hashedLater(part));
    if (problem) problems.push(`${entry.fileName}/${problem}`);
  }
  const listed = new Set(parts.map((p) => p.fileName));
  for (const name of present.filter((n) => !listed.has(n)).sort())
    problems.push(`${entry.fileName}/${name} is not a file the backup wrote`);
  return problems;
}

/** Options of {@link assertRecoveryPointIntact}. */
export interface IntegrityCheckOptions {
  /**
   * Parts of a directory-format dump whose content the caller hashes itself as it reads them (a
   * verified load): only their presence and size are checked here, so they are read once.
   */
  readonly hashedLater?: (part: RecoveryPointFilePart) => boolean;
}

/**
 * Checks every file of a recovery point in one store's folder against its recorded size and
 * SHA-256.
 *
 * @param purpose - what was about to happen, for the message (e.g. `restored`, `copied to ArchiveStore`).
 * @throws AppError `RecoveryPointCorrupt` naming the recovery point, the file and what was expected.
 */
export async function assertRecoveryPointIntact(
  point: RecordedRecoveryPoint,
  folder: string,
  purpose: string,
  options: IntegrityCheckOptions = {},
): Promise<void> {
  const hashedLater = options.hashedLater ?? (() => false);
  const problems: string[] = [];
  for (const file of point.files) {
    if (file.format === "directory")
      problems.push(...(await directoryProblems(folder, file, hashedLater)));
    else {
      const problem = await fileProblem(folder, file);
      if (problem) problems.push(problem);
    }
  }
  if (problems.length === 0) return;
  throw recoveryPointCorrupt(point, purpose, problems);
}

/** The `RecoveryPointCorrupt` failure of a recovery point, one sentence per problem. */
export function recoveryPointCorrupt(
  point: Pick<RecordedRecoveryPoint, "recoveryPointId" | "backupInstanceName">,
  purpose: string,
  problems: readonly string[],
): AppError {
  return new AppError(
    ProviderErrorCodes.recoveryPointCorrupt,
    `Recovery point '${point.recoveryPointId}' of '${point.backupInstanceName}' is corrupt and was not ${purpose}: ${problems.join("; ")}`,
    {
      httpStatus: 500,
      recommendedAction:
        "Restore another recovery point (an ArchiveStore copy of this one, if it has one, or an earlier one), and check the disk holding the vault",
    },
  );
}

/**
 * The content problems of some parts of a directory-format dump (those a load hashed, or would
 * have): each read once through SHA-256 and compared with the manifest.
 */
export async function partProblems(
  dumpFolder: string,
  parts: readonly RecoveryPointFilePart[],
): Promise<string[]> {
  const problems: string[] = [];
  for (const part of parts) {
    const problem = await fileProblem(dumpFolder, part);
    if (problem) problems.push(`${path.basename(dumpFolder)}/${problem}`);
  }
  return problems;
}

/**
 * Checks the recovery point stored in `folder` (its `manifest.json` and files).
 *
 * @returns false when the folder holds no recovery point (nothing to check).
 * @throws AppError `RecoveryPointCorrupt`.
 */
export async function assertStoredRecoveryPointIntact(
  folder: string,
  purpose: string,
): Promise<boolean> {
  const manifest = await readJsonFile<RecoveryPointManifest>(path.join(folder, "manifest.json"));
  if (!manifest) return false;
  await assertRecoveryPointIntact(manifest, folder, purpose);
  return true;
}
