import { describe, expect, it } from "vitest";
import type { BackupJob } from "../../../src/domain/protection/types.js";
import type {
  BackupServicePort,
  CrossVaultJobPort,
  JobFilter,
  Provider,
} from "../../../src/providers/ports.js";
import { listJobsOfVaults } from "../../../src/application/vaultJobs.js";
import { backupJob, SUBSCRIPTION } from "../../support/notificationFixtures.js";

const vault = (name: string) =>
  `${SUBSCRIPTION}/providers/Microsoft.DataProtection/backupVaults/${name}`;
const EAST = vault("vault-east");
const WEST = vault("vault-west");

const jobIn = (vaultId: string, name: string, startTime: string): BackupJob =>
  backupJob({ id: `${vaultId}/backupJobs/${name}`, name, startTime });

/** Jobs per vault, each vault's list oldest first as `listJobs` answers it. */
const jobsByVault: Record<string, BackupJob[]> = {
  [EAST]: [
    jobIn(EAST, "east-1", "2026-11-24T06:00:00Z"),
    jobIn(EAST, "east-2", "2026-11-24T08:00:00Z"),
  ],
  [WEST]: [
    jobIn(WEST, "west-1", "2026-11-24T07:00:00Z"),
    jobIn(WEST, "west-2", "2026-11-24T08:00:00Z"),
  ],
};

/** A provider answering `listJobs` per vault, recording each call; `jobs` added when given. */
function providerWith(jobs?: CrossVaultJobPort) {
  const perVault: { vaultId: string; filter: JobFilter | undefined }[] = [];
  const backup = {
    listJobs: async (vaultId: string, filter?: JobFilter) => {
      perVault.push({ vaultId, filter });
      return jobsByVault[vaultId] ?? [];
    },
  } as Partial<BackupServicePort> as BackupServicePort;
  const provider: Pick<Provider, "backup" | "jobs"> = { backup, ...(jobs ? { jobs } : {}) };
  return { provider, perVault };
}

describe("listJobsOfVaults", () => {
  it("asks the provider's cross-vault source once for all vaults, with the filter, and lists no vault by itself", async () => {
    // Arrange
    const asked: { vaultIds: readonly string[]; filter: JobFilter | undefined }[] = [];
    const answer = [jobIn(EAST, "east-1", "2026-11-24T06:00:00Z")];
    const { provider, perVault } = providerWith({
      listJobsAcrossVaults: async (vaultIds, filter) => {
        asked.push({ vaultIds, filter });
        return answer;
      },
    });
    const filter: JobFilter = { since: "2026-11-24T05:00:00.000Z", status: ["Completed"] };

    // Act
    const jobs = await listJobsOfVaults(provider, [EAST, WEST], filter);

    // Assert
    expect(jobs).toBe(answer);
    expect(asked).toEqual([{ vaultIds: [EAST, WEST], filter }]);
    expect(perVault).toEqual([]);
  });

  it("without a cross-vault source, lists each vault with the filter and merges them oldest first, equal starts in vault order", async () => {
    // Arrange
    const { provider, perVault } = providerWith();
    const filter: JobFilter = { since: "2026-11-24T05:00:00.000Z" };

    // Act
    const jobs = await listJobsOfVaults(provider, [WEST, EAST], filter);

    // Assert
    expect(perVault).toEqual([
      { vaultId: WEST, filter },
      { vaultId: EAST, filter },
    ]);
    expect(jobs.map((job) => job.name)).toEqual(["east-1", "west-1", "west-2", "east-2"]);
  });

  it("asks nothing when there is no vault to list", async () => {
    // Arrange
    const asked: unknown[] = [];
    const { provider, perVault } = providerWith({
      listJobsAcrossVaults: async (...args) => {
        asked.push(args);
        return [];
      },
    });

    // Act
    const jobs = await listJobsOfVaults(provider, []);

    // Assert
    expect(jobs).toEqual([]);
    expect(asked).toEqual([]);
    expect(perVault).toEqual([]);
  });
});
