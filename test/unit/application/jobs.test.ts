import { describe, expect, it } from "vitest";
import { listJobPage } from "../../../src/application/jobs.js";
import { createVaultDirectory } from "../../../src/composition.js";
import type { BackupJob } from "../../../src/domain/protection/types.js";
import type { Provider } from "../../../src/providers/ports.js";
import { backupJob, VAULT_ID } from "../../support/notificationFixtures.js";

/** The configured vault with these jobs, listed vault by vault (no cross-vault source). */
function vaultWith(jobs: BackupJob[]) {
  const provider = { backup: { listJobs: async () => jobs } } as unknown as Provider;
  const vaults = createVaultDirectory({ BACKUP_VAULT_IDS: VAULT_ID, PGPROTECT_PROVIDER: "azure" });
  return { provider, vaults };
}

const job = (name: string, startTime: string, dataSourceName = "orders") =>
  backupJob({
    name,
    startTime,
    dataSourceName,
    backupInstanceFriendlyName: `pg/${dataSourceName}`,
  });

describe("listJobPage", () => {
  it("lists newest first, and the page after a cursor continues where the first ended", async () => {
    // Arrange
    const deps = vaultWith([
      job("a", "2026-11-20T01:00:00Z"),
      job("c", "2026-11-20T03:00:00Z"),
      job("b", "2026-11-20T02:00:00Z"),
    ]);

    // Act
    const first = await listJobPage(deps, { filter: {}, top: 2 });
    const second = await listJobPage(deps, {
      filter: {},
      top: 2,
      ...(first.next ? { after: first.next } : {}),
    });

    // Assert
    expect(first.value.map((j) => j.name)).toEqual(["c", "b"]);
    expect(first.next).toEqual({ s: "2026-11-20T02:00:00Z", n: "b" });
    expect(second.value.map((j) => j.name)).toEqual(["a"]);
    expect(second.next).toBeUndefined();
  });

  it("keeps the jobs of a datasource named in any case", async () => {
    // Arrange
    const deps = vaultWith([
      job("a", "2026-11-20T01:00:00Z", "sales"),
      job("b", "2026-11-20T02:00:00Z"),
    ]);

    // Act
    const page = await listJobPage(deps, { filter: {}, top: 50, datasourceName: "SALES" });

    // Assert
    expect(page.value.map((j) => j.name)).toEqual(["a"]);
  });
});
