import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseVaultId } from "../../../../../src/domain/protection/ids.js";
import type { BackupInstance } from "../../../../../src/domain/protection/types.js";
import { LocalServiceContext } from "../../../../../src/providers/local/backupService/context.js";
import type { StoredJob } from "../../../../../src/providers/local/backupService/jobRecords.js";
import { JobTracker } from "../../../../../src/providers/local/backupService/jobTracker.js";
import { LocalResourceDirectory } from "../../../../../src/providers/local/resourceDirectory.js";
import { LocalSecretStore } from "../../../../../src/providers/local/secretStore.js";
import { createVaultFolder } from "../../../../../src/providers/local/vaultStore.js";

const instance = {
  id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/jobs-vault/backupInstances/db-1",
  name: "db-1",
  friendlyName: "local/db-1",
  dataSourceInfo: {
    resourceId:
      "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/servers/local/databases/db-1",
    resourceName: "db-1",
    datasourceType: "Microsoft.DBforPostgreSQL/servers/databases",
    resourceLocation: "local",
  },
} as unknown as BackupInstance;

describe("JobTracker: a job's record while its tools come and go", () => {
  let stateDir: string;

  beforeEach(async () => {
    stateDir = await mkdtemp(path.join(tmpdir(), "pgp-jobs-"));
  });

  afterEach(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it("records the tools still running after many start and end at once, and how the job ended, whatever writes were skipped", async () => {
    // Arrange: a job whose work notes five tools started and three ended in one go.
    const context = new LocalServiceContext(
      {
        stateDir,
        binDir: "/nonexistent",
        secrets: new LocalSecretStore({ stateDir }),
        directory: new LocalResourceDirectory({ stateDir, servers: [] }),
      },
      async () => undefined,
    );
    const { vaultName } = await createVaultFolder(stateDir, "jobs-vault");
    const vault = context.vaultFolder(vaultName);
    const ref = parseVaultId(context.vaultId(vaultName));
    let midway: StoredJob | undefined;
    const tracker: JobTracker = new JobTracker(context, async (folder, job) => {
      for (const pid of [101, 102, 103, 104, 105])
        tracker.toolStarted(job.name, { pid, program: "pg_dump" });
      for (const pid of [101, 103, 105]) tracker.toolEnded(job.name, pid);
      // Resolves once a write holding every note above is on disk.
      await tracker.patchWork(job.name, { dataStore: "VaultStore" });
      midway = await folder.readRecord<StoredJob>("backupJobs", job.name);
      tracker.toolEnded(job.name);
      return { dataTransferredInBytes: 42 };
    });
    const job = await tracker.start(
      vault,
      ref,
      instance,
      "OnDemandBackup",
      {},
      {
        kind: "backup",
        dataStore: "VaultStore",
      },
    );

    // Act
    tracker.track(vault, job);
    const ended = await tracker.running(job.name);

    // Assert
    expect(midway?.tools?.map((tool) => tool.pid)).toEqual([102, 104]);
    expect(midway?.tool?.pid).toBe(104);
    expect(ended?.status).toBe("Completed");
    const stored = await vault.readRecord<StoredJob>("backupJobs", job.name);
    expect(stored).toMatchObject({ status: "Completed", dataTransferredInBytes: 42 });
    expect(stored?.tools).toBeUndefined();
  });

  it("stores a failed job as Failed when one of its tools is noted as ended while the failure is being written", async () => {
    // Arrange: a job whose tool's end is noted just after its work has thrown.
    const context = new LocalServiceContext(
      {
        stateDir,
        binDir: "/nonexistent",
        secrets: new LocalSecretStore({ stateDir }),
        directory: new LocalResourceDirectory({ stateDir, servers: [] }),
      },
      async () => undefined,
    );
    const { vaultName } = await createVaultFolder(stateDir, "jobs-vault");
    const vault = context.vaultFolder(vaultName);
    const ref = parseVaultId(context.vaultId(vaultName));
    let toolEndNoted!: () => void;
    const toolEnd = new Promise<void>((resolve) => (toolEndNoted = resolve));
    const tracker: JobTracker = new JobTracker(context, async (_folder, job) => {
      tracker.toolStarted(job.name, { pid: 201, program: "pg_restore" });
      setImmediate(() => {
        tracker.toolEnded(job.name, 201);
        toolEndNoted();
      });
      throw new Error("the load failed");
    });
    const job = await tracker.start(
      vault,
      ref,
      instance,
      "Restore",
      {},
      { kind: "restoreAsFiles", store: "VaultStore", destination: stateDir, prefix: "" },
    );

    // Act
    tracker.track(vault, job);
    const ended = await tracker.running(job.name);
    await toolEnd;

    // Assert
    expect(ended?.status).toBe("Failed");
    const stored = await vault.readRecord<StoredJob>("backupJobs", job.name);
    expect(stored?.status).toBe("Failed");
    expect(stored?.errorDetails).toHaveLength(1);
  });
});
