import { describe, expect, it } from "vitest";
import { backupAdmission } from "../../../src/application/backupAdmission.js";
import { FLEXIBLE_SERVER_DATASOURCE_TYPE } from "../../../src/domain/protection/naming.js";
import type { BackupJob } from "../../../src/domain/protection/types.js";

const flexible = {
  name: "flex-1",
  dataSourceInfo: { datasourceType: FLEXIBLE_SERVER_DATASOURCE_TYPE },
} as never;
const monday = new Date("2026-12-07T10:00:00Z");

/** A job listing that holds the given jobs and applies the status filter. */
function jobs(held: Partial<BackupJob>[]) {
  return {
    listJobs: async (_vaultId: string, filter?: { status?: readonly string[] }) =>
      held.filter(
        (job) => !filter?.status || filter.status.includes(job.status ?? ""),
      ) as BackupJob[],
  };
}

describe("backupAdmission", () => {
  it("admits the first backup of the week", async () => {
    // Arrange
    const listing = jobs([{ name: "old", status: "Completed", startTime: "2026-11-29T22:00:00Z" }]);

    // Act
    const admission = await backupAdmission(listing, "vault", flexible, monday);

    // Assert
    expect(admission).toEqual({ admitted: true });
  });

  it("names the running backup before the weekly limit it will use up", async () => {
    // Arrange
    const listing = jobs([
      {
        name: "now",
        status: "InProgress",
        operation: "OnDemandBackup",
        startTime: "2026-12-07T09:55:00Z",
      },
    ]);

    // Act
    const admission = await backupAdmission(listing, "vault", flexible, monday);

    // Assert
    expect(admission).toMatchObject({
      admitted: false,
      reason: "running",
      error: { code: "BACKUP_IN_PROGRESS", httpStatus: 409 },
    });
  });

  it("refuses a second backup of a Flexible Server in one week, unless the caller leaves the limit to the orchestration", async () => {
    // Arrange
    const listing = jobs([
      { name: "earlier-today", status: "Completed", startTime: "2026-12-07T01:00:00Z" },
    ]);

    // Act
    const checked = await backupAdmission(listing, "vault", flexible, monday);
    const left = await backupAdmission(listing, "vault", flexible, monday, { weeklyLimit: false });

    // Assert
    expect(checked).toMatchObject({
      admitted: false,
      reason: "weeklyLimit",
      error: { code: "BACKUP_LIMIT_PER_WEEK_REACHED" },
    });
    expect(left).toEqual({ admitted: true });
  });
});
