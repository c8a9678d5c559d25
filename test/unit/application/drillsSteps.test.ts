import { describe, expect, it } from "vitest";
import { drillOutcome } from "../../../src/application/drillsSteps.js";
import type { DrillRecord } from "../../../src/domain/drills/drill.js";
import { restoreDrillEvent } from "../../../src/domain/events/drillEvents.js";
import { parsePgProtectEvent } from "../../../src/domain/events/schema.js";
import { describeEvent } from "../../../src/domain/notifications/view.js";
import { backupJob } from "../../support/notificationFixtures.js";

const begun: DrillRecord = {
  id: "drill-nightly-local-sales-20261207t030000z",
  backupInstanceId: "/subscriptions/x/backupInstances/local-sales-1",
  backupInstanceName: "local-sales-1",
  friendlyName: "local/sales",
  vaultName: "pgprotect-vault",
  datasourceId: "/subscriptions/x/databases/sales",
  datasourceName: "sales",
  schedule: "nightly",
  verdict: "InProgress",
  startTime: "2026-12-07T03:00:00.000Z",
  recoveryPointId: "rp1",
  scratchTarget: "pgprotect_drill_0123456789abcdef01234567",
};

const verification = {
  verified: true,
  tables: 2,
  rows: 5200,
  largeObjects: 0,
  mismatches: [],
};

describe("a drill's verdict", () => {
  it("succeeds on a completed, verified restore, timed from the job's start to its end", () => {
    const job = backupJob({
      operation: "Restore",
      operationCategory: "Restore",
      status: "Completed",
      startTime: "2026-12-07T03:00:01.000Z",
      endTime: "2026-12-07T03:00:13.500Z",
      restoreVerification: verification,
    });

    const drill = drillOutcome({
      drill: begun,
      job,
      scratchRemoved: true,
      at: "2026-12-07T03:00:14.000Z",
    });

    expect(drill).toMatchObject({
      verdict: "Succeeded",
      timeToRestoreMs: 12_500,
      endTime: "2026-12-07T03:00:14.000Z",
      scratchRemoved: true,
    });
    expect(drill.error).toBeUndefined();
  });

  it("takes the verification of a restore loaded from files, and times it from the job's start until the load verified it", () => {
    const job = backupJob({
      operation: "Restore",
      operationCategory: "Restore",
      status: "Completed",
      startTime: "2026-12-07T03:00:01.000Z",
      endTime: "2026-12-07T03:00:11.000Z",
    });

    const drill = drillOutcome({
      drill: begun,
      job,
      loaded: { verification, seconds: { download: 0.5, load: 2, verify: 1.25 } },
      scratchRemoved: true,
      at: "2026-12-07T03:00:20.000Z",
    });

    expect(drill).toMatchObject({ verdict: "Succeeded", timeToRestoreMs: 13_750, verification });
  });

  it("fails on a restore whose data differ, naming the differences, with no time to restore", () => {
    const job = backupJob({
      operation: "Restore",
      operationCategory: "Restore",
      status: "Completed",
      endTime: "2026-12-07T03:00:13.500Z",
      restoreVerification: { ...verification, verified: false, mismatches: ["public.a: 3 rows"] },
    });

    const drill = drillOutcome({ drill: begun, job, scratchRemoved: true, at: begun.startTime });

    expect(drill.verdict).toBe("Failed");
    expect(drill.error).toMatchObject({ code: "RESTORE_VERIFICATION_FAILED" });
    expect(drill.error?.message).toContain("public.a: 3 rows");
  });

  it("fails with the error it was given when no restore ran, and announces it as DrillFailed", () => {
    const { recoveryPointId: _none, ...withoutPoint } = begun;

    const drill = drillOutcome({
      drill: withoutPoint,
      error: { code: "NO_RECOVERY_POINT", message: "no recovery point to restore" },
      scratchRemoved: true,
      at: "2026-12-07T03:00:02.000Z",
    });

    const event = parsePgProtectEvent(
      JSON.parse(JSON.stringify(restoreDrillEvent(drill, { source: "/pgprotect/test" }))),
    );
    const view = describeEvent(event);

    expect(drill).toMatchObject({ verdict: "Failed", error: { code: "NO_RECOVERY_POINT" } });
    expect(event.type).toBe("PgProtect.Restore.DrillFailed");
    expect(view.title).toBe("Restore drill failed");
    expect(view.facts).toContainEqual({
      title: "Status",
      value: "Not proven restorable: no recovery point to restore",
    });
  });
});
