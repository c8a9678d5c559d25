import { describe, expect, it } from "vitest";
import {
  restoreToServer,
  type RestoreToServerInput,
} from "../../../src/orchestrations/restoreToServer.js";
import { driveOrchestration } from "../../support/orchestrationDriver.js";

const load = {
  containerUrl: "https://stpg.blob.core.windows.net/restores",
  filePrefix: "pg-shop-1a2b3c4d",
  secretUri: "https://kv.vault.azure.net/secrets/target",
  databaseName: "shop_restored",
};
const input: RestoreToServerInput = {
  vaultId: "/v",
  backupInstanceName: "pg-shop-1",
  jobId: "job-1",
  requestedAt: "2026-11-24T07:59:00Z",
  load,
};
const job = (status: string, extra: object = {}) => ({
  id: "job-1",
  name: "job-1",
  status,
  startTime: "2026-11-24T08:00:00Z",
  ...extra,
});
const loaded = {
  databaseName: "shop_restored",
  server: "db.example:5432",
  blobName: "pg-shop-1a2b3c4d_shop.dump",
  dumpBytes: 1024,
  verification: { verified: true, tables: 1, rows: 40, largeObjects: 0, mismatches: [] },
  seconds: { download: 1, load: 2, verify: 1 },
};

describe("restoreToServer", () => {
  it("follows the restore job publishing each state once, then loads the files under its own id, and answers the time it took", () => {
    const statuses = ["InProgress", "InProgress", "Completed"];
    const run = driveOrchestration(
      restoreToServer,
      input,
      {
        getJob: (_key, call) => job(statuses[call] ?? "Completed"),
        publishEvents: () => undefined,
        loadRestoredFiles: () => ({ ok: true, value: loaded }),
      },
      { instanceId: "restore-job-1" },
    );

    const published = run.scheduled.filter(
      (t) => t.kind === "activity" && t.name === "publishEvents",
    );
    const loads = run.scheduled.filter(
      (t) => t.kind === "activity" && t.name === "loadRestoredFiles",
    );
    expect(
      published.map((p) => (p as { input: { job: { status: string } }[] }).input[0]?.job.status),
    ).toEqual(["InProgress", "Completed"]);
    expect(loads).toEqual([
      expect.objectContaining({ input: { loadId: "restore-job-1", ...load } }),
    ]);
    expect(run.output).toMatchObject({
      outcome: "Completed",
      step: "load",
      database: loaded,
      seconds: { job: expect.any(Number), total: expect.any(Number) },
    });
  });

  it("loads nothing when the restore job fails, and carries the job's error out", () => {
    const run = driveOrchestration(restoreToServer, input, {
      getJob: () =>
        job("Failed", {
          errorDetails: [
            {
              code: "UserErrorMissingRequiredPermissions",
              message: "Appropriate permissions to perform the operation is missing.",
            },
          ],
        }),
      publishEvents: () => undefined,
      loadRestoredFiles: () => ({ ok: true, value: loaded }),
    });

    expect(run.scheduled.some((t) => t.kind === "activity" && t.name === "loadRestoredFiles")).toBe(
      false,
    );
    expect(run.output).toMatchObject({
      outcome: "Failed",
      step: "job",
      error: { code: "MISSING_REQUIRED_PERMISSIONS" },
    });
  });

  it("ends failed at the load step with the load's code", () => {
    const run = driveOrchestration(restoreToServer, input, {
      getJob: () => job("Completed"),
      publishEvents: () => undefined,
      loadRestoredFiles: () => ({
        ok: false,
        code: "RESTORE_TARGET_EXISTS",
        message: "The server has a database 'shop_restored' already",
      }),
    });

    expect(run.output).toMatchObject({
      outcome: "Failed",
      step: "load",
      error: { code: "RESTORE_TARGET_EXISTS" },
    });
  });

  it("ends with the job when nothing is to be loaded (a restore as files)", () => {
    const { load: _load, ...asFiles } = input;
    const run = driveOrchestration(restoreToServer, asFiles, {
      getJob: () => job("Completed"),
      publishEvents: () => undefined,
    });

    expect(run.output).toMatchObject({ outcome: "Completed", step: "job", jobId: "job-1" });
  });
});
