import { existsSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { VaultFolder } from "../../../src/providers/local/vaultStore.js";
import { rejection } from "../../support/appError.js";
import { backupNow, createTestProvider, protectDatabase } from "../../support/localProvider.js";
import { usePostgresCluster } from "../../support/postgres.js";

const postgres = usePostgresCluster();

const DAY_MS = 86_400_000;

describe("the local provider's soft delete", () => {
  const disposals: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const dispose of disposals.splice(0)) await dispose();
  });

  /** A provider whose clock the test moves, with one protected and backed-up database. */
  const protectedAndBackedUp = async (database: string) => {
    await postgres.query("postgres", `CREATE DATABASE ${database}`);
    let now = Date.parse("2026-11-02T10:00:00Z");
    const test = await createTestProvider(postgres.cluster, { now: () => new Date(now) });
    disposals.push(() => test.dispose());
    const { instance } = await protectDatabase(
      test.provider,
      test.vaultId,
      postgres.cluster,
      database,
    );
    const job = await backupNow(test.provider, test.vaultId, instance.name);
    const vault = VaultFolder.of(test.stateDir, "vault1");
    const pointFolder = vault.recoveryPointFolder(
      "VaultStore",
      instance.name,
      String(job.recoveryPointId),
    );
    return {
      ...test,
      instance,
      pointFolder,
      advance: (ms: number) => {
        now += ms;
      },
    };
  };

  it("keeps a deleted instance and its recovery points for undelete within the 14 days of retention", async () => {
    // Arrange
    const { provider, vaultId, instance, pointFolder, advance } =
      await protectedAndBackedUp("kept_db");
    const lifecycle = provider.backup.lifecycle;

    // Act
    await lifecycle.deleteBackupInstance(vaultId, instance.name);
    advance(13 * DAY_MS);
    const listed = await lifecycle.listDeletedBackupInstances(vaultId);
    const undeleted = await lifecycle.undeleteBackupInstance(vaultId, instance.name);

    // Assert
    expect(listed.map((d) => d.name)).toEqual([instance.name]);
    expect(undeleted.instance).toMatchObject({
      name: instance.name,
      protectionStatus: "ProtectionStopped",
    });
    expect(existsSync(path.join(pointFolder, "manifest.json"))).toBe(true);
    expect(await provider.backup.listRecoveryPoints(vaultId, instance.name)).toHaveLength(1);
  });

  it("purges a deleted instance with its recovery points once its retention has ended, after which it cannot be undeleted", async () => {
    // Arrange
    const { provider, vaultId, instance, pointFolder, advance } =
      await protectedAndBackedUp("purged_db");
    const lifecycle = provider.backup.lifecycle;
    await lifecycle.deleteBackupInstance(vaultId, instance.name);

    // Act
    advance(14 * DAY_MS + 1_000);
    const listed = await lifecycle.listDeletedBackupInstances(vaultId);
    const error = await rejection(lifecycle.undeleteBackupInstance(vaultId, instance.name));

    // Assert
    expect(listed).toEqual([]);
    expect(existsSync(pointFolder)).toBe(false);
    expect(error).toMatchObject({ code: "DELETED_BACKUP_INSTANCE_NOT_FOUND", httpStatus: 404 });
  });
});
