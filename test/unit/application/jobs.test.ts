import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { exportJobs, listJobPage } from "../../../src/application/jobs.js";
import { createVaultDirectory } from "../../../src/composition.js";
import type { BackupJob } from "../../../src/domain/protection/types.js";
import type { Provider } from "../../../src/providers/ports.js";
import { openSqliteJobHistory } from "../../../src/providers/history/sqliteJobHistory.js";
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

describe("listJobPage with the job history", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  async function historyWith(jobs: BackupJob[]) {
    const folder = await mkdtemp(path.join(tmpdir(), "pgprotect-jobs-"));
    const history = await openSqliteJobHistory(folder);
    cleanups.push(async () => {
      history.close();
      await rm(folder, { recursive: true, force: true });
    });
    await history.recordJobs(jobs);
    return history;
  }

  it("answers jobs the vault no longer shows from the history, and a job in both as the vault shows it now", async () => {
    // Arrange: the vault keeps only recent jobs; the history saw an old one and "b" still running.
    const running = backupJob({ ...job("b", "2026-11-20T02:00:00Z"), status: "InProgress" });
    const history = await historyWith([job("old", "2025-01-01T00:00:00Z"), running]);
    const deps = {
      ...vaultWith([job("b", "2026-11-20T02:00:00Z"), job("c", "2026-11-20T03:00:00Z")]),
      history,
    };

    // Act
    const all = await listJobPage(deps, { filter: {}, top: 10 });
    const stillRunning = await listJobPage(deps, { filter: { status: ["InProgress"] }, top: 10 });
    const window = await listJobPage(deps, {
      filter: {},
      from: "2024-12-01T00:00:00Z",
      to: "2025-02-01T00:00:00Z",
      top: 10,
    });

    // Assert
    expect(all.value.map((j) => `${j.name} ${j.status}`)).toEqual([
      "c Completed",
      "b Completed",
      "old Completed",
    ]);
    expect(stillRunning.value).toEqual([]);
    expect(window.value.map((j) => j.name)).toEqual(["old"]);
  });

  it("pages through history and vault together without repeating or losing a job", async () => {
    const history = await historyWith(
      Array.from({ length: 7 }, (_, i) => job(`h${i}`, `2025-0${i + 1}-01T00:00:00Z`)),
    );
    const deps = {
      ...vaultWith([job("v1", "2026-11-20T01:00:00Z"), job("h6", "2025-07-01T00:00:00Z")]),
      history,
    };

    const names: string[] = [];
    let page = await listJobPage(deps, { filter: {}, top: 3 });
    names.push(...page.value.map((j) => j.name));
    while (page.next) {
      page = await listJobPage(deps, { filter: {}, top: 3, after: page.next });
      names.push(...page.value.map((j) => j.name));
    }

    expect(names).toEqual(["v1", "h6", "h5", "h4", "h3", "h2", "h1", "h0"]);
  });
});

describe("exportJobs", () => {
  it("answers every job of the window in one list", async () => {
    const deps = vaultWith(
      Array.from({ length: 5 }, (_, i) => job(`j${i}`, `2026-11-2${i}T00:00:00Z`)),
    );

    const exported = await exportJobs(deps, { filter: {}, from: "2026-11-21T00:00:00Z" });

    expect(exported.value.map((j) => j.name)).toEqual(["j4", "j3", "j2", "j1"]);
    expect(exported.next).toBeUndefined();
  });
});
