import { describe, expect, it } from "vitest";
import { databaseScratchName } from "../../../../src/domain/drills/drill.js";
import type { BackupInstance, BackupJob } from "../../../../src/domain/protection/types.js";
import { LocalDrillTargets } from "../../../../src/providers/local/drillTargets.js";
import type { LocalBackupService } from "../../../../src/providers/local/localBackupService.js";
import type { LocalResourceDirectory } from "../../../../src/providers/local/resourceDirectory.js";
import type { RestoreRequest } from "../../../../src/providers/ports.js";

const vaultId =
  "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/v";
const serverId =
  "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/flexibleServers/flex";
const scratchName = "pgprotect_drill_0123456789abcdef01234567";
const recoveryPointId = `${vaultId}/backupInstances/flex-1/recoveryPoints/rp1`;
const databases = Array.from({ length: 40 }, (_, i) => `db${String(i).padStart(2, "0")}`);
const scratchIdOf = (databaseName: string) =>
  `${serverId}/databases/${databaseScratchName(scratchName, databaseName)}`;

/** The local backup service as the drill targets use it, recording what they ask. */
function backupService(earlierJobs: readonly Partial<BackupJob>[]) {
  const calls = { listJobs: 0, restores: [] as string[] };
  const service = {
    getBackupInstance: async () =>
      ({
        friendlyName: "flex",
        dataSourceInfo: {
          datasourceType: "Microsoft.DBforPostgreSQL/flexibleServers",
          resourceId: serverId,
        },
      }) as unknown as BackupInstance,
    listRecoveryPoints: async () => [
      { recoveryPointId: "rp1", files: databases.map((databaseName) => ({ databaseName })) },
    ],
    listJobs: async () => {
      calls.listJobs += 1;
      return earlierJobs;
    },
    triggerRestore: async (_vault: string, _instance: string, request: RestoreRequest) => {
      const target = request.target as { targetDatabaseId: string };
      calls.restores.push(target.targetDatabaseId);
      return { jobId: `${vaultId}/backupJobs/job-${calls.restores.length}` };
    },
  };
  return { service: service as unknown as LocalBackupService, calls };
}

describe("the local provider's scratch restore of a whole server", () => {
  it("reads the vault's jobs once for a server of forty databases and starts one restore per database", async () => {
    // Arrange
    const { service, calls } = backupService([]);
    const targets = new LocalDrillTargets(service, {} as LocalResourceDirectory);

    // Act
    const started = await targets.startScratchRestore(
      vaultId,
      "flex-1",
      recoveryPointId,
      scratchName,
    );

    // Assert
    expect(calls.listJobs).toBe(1);
    expect(calls.restores).toEqual(databases.map(scratchIdOf));
    expect("databases" in started && started.databases.map((d) => d.databaseName)).toEqual(
      databases,
    );
  });

  it("answers the restores a crashed attempt started already and starts only the missing ones", async () => {
    // Arrange: the first attempt started db00's restore, then its answer was lost.
    const { service, calls } = backupService([
      {
        id: `${vaultId}/backupJobs/job-earlier`,
        recoveryPointId: "rp1",
        recoveryDestination: scratchIdOf("db00").toUpperCase(),
      },
    ]);
    const targets = new LocalDrillTargets(service, {} as LocalResourceDirectory);

    // Act
    const started = await targets.startScratchRestore(
      vaultId,
      "flex-1",
      recoveryPointId,
      scratchName,
    );

    // Assert
    expect(calls.restores).toEqual(databases.slice(1).map(scratchIdOf));
    expect("databases" in started && started.databases[0]).toMatchObject({
      databaseName: "db00",
      jobId: `${vaultId}/backupJobs/job-earlier`,
    });
  });
});
