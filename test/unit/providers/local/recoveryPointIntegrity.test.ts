import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  assertRecoveryPointIntact,
  directoryDigest,
  fileDigest,
} from "../../../../src/providers/local/recoveryPointIntegrity.js";
import { ProviderErrorCodes } from "../../../../src/providers/ports.js";

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

describe("recovery point integrity", () => {
  let folder: string;
  const first = Buffer.from("PGDMP first database");
  const second = Buffer.from("PGDMP second database, a little longer");
  const point = () => ({
    recoveryPointId: "rp1",
    backupInstanceName: "local-shop-1",
    files: [
      { fileName: "01-a.dump", sizeBytes: first.length, sha256: sha256(first) },
      { fileName: "02-b.dump", sizeBytes: second.length, sha256: sha256(second) },
    ],
  });

  beforeEach(async () => {
    folder = await mkdtemp(path.join(tmpdir(), "pgprotect-integrity-"));
    await writeFile(path.join(folder, "01-a.dump"), first);
    await writeFile(path.join(folder, "02-b.dump"), second);
  });

  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it("digests a file in one pass: its size and SHA-256", async () => {
    expect(await fileDigest(path.join(folder, "02-b.dump"))).toEqual({
      sizeBytes: second.length,
      sha256: sha256(second),
    });
  });

  it("accepts a recovery point whose files are the bytes recorded", async () => {
    await expect(assertRecoveryPointIntact(point(), folder, "restored")).resolves.toBeUndefined();
  });

  it("names every damaged file of the recovery point: one missing, one changed at the same size", async () => {
    // Arrange
    await rm(path.join(folder, "01-a.dump"));
    const changed = Buffer.from(second);
    changed[0] = 0x00;
    await writeFile(path.join(folder, "02-b.dump"), changed);

    // Act
    const checked = assertRecoveryPointIntact(point(), folder, "copied to ArchiveStore");

    // Assert
    await expect(checked).rejects.toMatchObject({
      code: "RECOVERY_POINT_CORRUPT",
      message: `Recovery point 'rp1' of 'local-shop-1' is corrupt and was not copied to ArchiveStore: 01-a.dump is missing; 02-b.dump has SHA-256 ${sha256(changed)} where the backup recorded ${sha256(second)}`,
    });
  });

  it("refuses a manifest naming a file outside the recovery point's folder, though the file is intact", async () => {
    // Arrange: a file beside the folder whose bytes match what the manifest records
    const outside = path.join(path.dirname(folder), `${path.basename(folder)}-x`);
    await writeFile(outside, first);
    const named = {
      ...point(),
      files: [
        {
          fileName: `../${path.basename(outside)}`,
          sizeBytes: first.length,
          sha256: sha256(first),
        },
      ],
    };

    // Act
    const checked = assertRecoveryPointIntact(named, folder, "restored");

    // Assert
    try {
      await expect(checked).rejects.toMatchObject({
        code: ProviderErrorCodes.recoveryPointCorrupt,
        message: `Recovery point 'rp1' of 'local-shop-1' is corrupt and was not restored: ../${path.basename(outside)} names a file outside the recovery point's folder`,
      });
    } finally {
      await rm(outside, { force: true });
    }
  });
});

describe("recovery point integrity of a directory-format dump", () => {
  let folder: string;
  const toc = Buffer.from("PGDMP table of contents");
  const data = Buffer.from("compressed rows of one table");
  const parts = [
    { fileName: "3001.dat.gz", sizeBytes: data.length, sha256: sha256(data) },
    { fileName: "toc.dat", sizeBytes: toc.length, sha256: sha256(toc) },
  ];
  const point = (listed = parts) => ({
    recoveryPointId: "rp1",
    backupInstanceName: "local-shop-1",
    files: [
      {
        fileName: "01-shop.dir",
        format: "directory" as const,
        sizeBytes: toc.length + data.length,
        sha256: directoryDigest(parts),
        parts: listed,
      },
    ],
  });

  beforeEach(async () => {
    folder = await mkdtemp(path.join(tmpdir(), "pgprotect-integrity-dir-"));
    await mkdir(path.join(folder, "01-shop.dir"));
    await writeFile(path.join(folder, "01-shop.dir", "toc.dat"), toc);
    await writeFile(path.join(folder, "01-shop.dir", "3001.dat.gz"), data);
  });

  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it("accepts a folder whose files are the bytes recorded, file by file", async () => {
    await expect(assertRecoveryPointIntact(point(), folder, "restored")).resolves.toBeUndefined();
  });

  it("names the changed file of the folder and a file the backup did not write", async () => {
    // Arrange
    const changed = Buffer.from(data);
    changed[0] = (changed[0] ?? 0) ^ 0xff;
    await writeFile(path.join(folder, "01-shop.dir", "3001.dat.gz"), changed);
    await writeFile(path.join(folder, "01-shop.dir", "3002.dat.gz"), "planted");

    // Act
    const checked = assertRecoveryPointIntact(point(), folder, "restored");

    // Assert
    await expect(checked).rejects.toMatchObject({ code: "RECOVERY_POINT_CORRUPT" });
    await expect(checked).rejects.toThrow(/01-shop\.dir\/3001\.dat\.gz has SHA-256/);
    await expect(checked).rejects.toThrow(
      /01-shop\.dir\/3002\.dat\.gz is not a file the backup wrote/,
    );
  });

  it("refuses a manifest whose file list was edited to match changed files", async () => {
    // Arrange: the data file replaced, and the list edited to its new digest
    const replaced = Buffer.from("other rows");
    await writeFile(path.join(folder, "01-shop.dir", "3001.dat.gz"), replaced);
    const edited = [
      { fileName: "3001.dat.gz", sizeBytes: replaced.length, sha256: sha256(replaced) },
      parts[1]!,
    ];

    // Act
    const checked = assertRecoveryPointIntact(point(edited), folder, "restored");

    // Assert
    await expect(checked).rejects.toThrow(/file list does not match/);
  });

  it("records one digest for the folder that changes when any file's digest does", () => {
    const other = [{ ...parts[0]!, sha256: sha256(Buffer.from("x")) }, parts[1]!];
    expect(directoryDigest(parts)).toMatch(/^[0-9a-f]{64}$/);
    expect(directoryDigest(other)).not.toBe(directoryDigest(parts));
    expect(directoryDigest([...parts].reverse())).toBe(directoryDigest(parts));
  });
});
