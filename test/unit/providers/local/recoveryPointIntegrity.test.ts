import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  assertRecoveryPointIntact,
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
