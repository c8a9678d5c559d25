import { describe, expect, it } from "vitest";
import type { ErrorCode } from "../../../../../src/domain/errorCodes.js";
import {
  publicJob,
  type StoredJob,
} from "../../../../../src/providers/local/backupService/jobRecords.js";

const vaultId =
  "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/Microsoft.DataProtection/backupVaults/pgprotect-vault";

function storedJob(errorDetails: StoredJob["errorDetails"]): StoredJob {
  return {
    id: `${vaultId}/backupJobs/6f1d2c3b-0000-4000-8000-000000000001`,
    name: "6f1d2c3b-0000-4000-8000-000000000001",
    vaultName: "pgprotect-vault",
    operation: "OnDemandBackup",
    operationCategory: "Backup",
    isUserTriggered: true,
    status: "Failed",
    startTime: "2026-12-01T10:00:00.000Z",
    endTime: "2026-12-01T10:00:05.000Z",
    backupInstanceId: `${vaultId}/backupInstances/local-orders`,
    backupInstanceFriendlyName: "local/orders",
    dataSourceId:
      "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/Microsoft.DBforPostgreSQL/servers/local/databases/orders",
    dataSourceName: "orders",
    dataSourceType: "Microsoft.DBforPostgreSQL/servers/databases",
    dataSourceLocation: "local",
    ...(errorDetails ? { errorDetails } : {}),
    stopReason: "the host stopped",
  };
}

describe("a local job as the provider answers it", () => {
  it("states an error recorded before the catalogue in the catalogue's code, the old code beside", () => {
    // Arrange: a record on disk from before the catalogue held the service-style code.
    const recorded = storedJob([
      {
        code: "UserErrorJobInterrupted" as ErrorCode,
        message: "The host stopped while the job ran",
        isRetryable: true,
        isUserError: false,
      },
    ]);

    // Act
    const job = publicJob(recorded);

    // Assert
    expect(job.errorDetails).toEqual([
      {
        code: "JOB_INTERRUPTED",
        serviceCode: "UserErrorJobInterrupted",
        message: "The host stopped while the job ran",
        isRetryable: true,
        isUserError: false,
      },
    ]);
    expect(job).not.toHaveProperty("stopReason");
  });

  it("keeps an error recorded with the catalogue's code as it was written", () => {
    const detail = {
      code: "DATASOURCE_UNREACHABLE" as const,
      serviceCode: "UserErrorDatasourceUnreachable",
      message: "connection refused",
    };

    expect(publicJob(storedJob([detail])).errorDetails).toEqual([detail]);
  });
});
