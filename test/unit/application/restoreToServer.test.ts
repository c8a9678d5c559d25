import { describe, expect, it } from "vitest";
import type { OrchestrationStatus } from "../../../src/application/orchestrationPort.js";
import { restoreStatus } from "../../../src/application/restoreToServer.js";
import { formatVaultId } from "../../../src/domain/protection/ids.js";
import { orchestrationNames } from "../../../src/orchestrations/names.js";

const vaultId = formatVaultId({ subscriptionId: "s", resourceGroup: "rg", vaultName: "vault-pg" });

/** Orchestrations holding one restore in the given state. */
function orchestrationsWith(status: Partial<OrchestrationStatus>) {
  const restore: OrchestrationStatus = {
    name: orchestrationNames.restoreToServer,
    runtimeStatus: "Running",
    input: {
      vaultId,
      backupInstanceName: "pg-shop",
      jobId: `${vaultId}/backupJobs/j1`,
      requestedAt: "2026-12-01T00:00:00.000Z",
    },
    createdTime: "2026-12-01T00:00:00.000Z",
    lastUpdatedTime: "2026-12-01T00:05:00.000Z",
    ...status,
  };
  return {
    start: async () => undefined,
    status: async (id: string) => (id === "restore-j1" ? restore : undefined),
  };
}

describe("a restore's status", () => {
  it("says why a restore whose orchestration failed on an exception ended, from the exception's message", async () => {
    const orchestrations = orchestrationsWith({
      runtimeStatus: "Failed",
      output: "Activity function 'loadRestoredFiles' failed: connect ECONNREFUSED 10.0.0.4:5432",
    });

    const view = await restoreStatus(orchestrations, "restore-j1");

    expect(view).toMatchObject({ status: "Failed", state: "Failed", database: null });
    expect(view.error?.code).toBe("RESTORE_FAILED");
    expect(view.error?.message).toContain("connect ECONNREFUSED 10.0.0.4:5432");
  });

  it("answers the error the restore stated itself when it ended Failed", async () => {
    const orchestrations = orchestrationsWith({
      runtimeStatus: "Completed",
      output: {
        outcome: "Failed",
        jobId: `${vaultId}/backupJobs/j1`,
        step: "load",
        error: {
          code: "RESTORE_TARGET_EXISTS",
          message: "The server has a database 'shop' already",
        },
      },
    });

    const view = await restoreStatus(orchestrations, "restore-j1");

    expect(view).toMatchObject({
      status: "Failed",
      vaultName: "vault-pg",
      error: { code: "RESTORE_TARGET_EXISTS" },
    });
  });

  it("answers a restore it does not know with RESTORE_NOT_FOUND", async () => {
    await expect(restoreStatus(orchestrationsWith({}), "restore-j2")).rejects.toMatchObject({
      code: "RESTORE_NOT_FOUND",
      httpStatus: 404,
    });
  });
});
