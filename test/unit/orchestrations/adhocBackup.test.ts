import { describe, expect, it } from "vitest";
import { adhocBackup, type AdhocBackupInput } from "../../../src/orchestrations/adhocBackup.js";
import { activityCalls, driveOrchestration } from "../../support/orchestrationDriver.js";

const input: AdhocBackupInput = {
  vaultId: "/v",
  backupInstanceName: "pg1-sales-1",
  ruleName: "BackupWeekly",
  retentionTagOverride: "Monthly",
};
const job = (status: string, extra: object = {}) => ({
  id: "job-1",
  name: "job-1",
  status,
  startTime: "2026-11-24T08:00:00Z",
  ...extra,
});

describe("adhocBackup", () => {
  it("follows the job to its end and publishes each state once", () => {
    const statuses = ["InProgress", "InProgress", "InProgress", "Completed"];
    const run = driveOrchestration(adhocBackup, input, {
      checkWeeklyLimit: () => ({ ok: true, value: true }),
      triggerBackup: () => ({ ok: true, value: { jobId: "job-1" } }),
      getJob: (_key, call) => job(statuses[call] ?? "Completed"),
      publishEvents: () => undefined,
    });

    const published = run.scheduled.filter(
      (t) => t.kind === "activity" && t.name === "publishEvents",
    );
    expect(run.output).toEqual({ outcome: "Completed", jobId: "job-1" });
    expect(published).toHaveLength(2);
    expect(published[0]).toMatchObject({
      input: [{ kind: "jobStateChanged", job: { id: "job-1", status: "InProgress" } }],
    });
    expect(run.scheduled.filter((t) => t.kind === "timer")).toHaveLength(3);
  });

  it("looks again soon after the start, then backs off to the polling interval", () => {
    const run = driveOrchestration(adhocBackup, input, {
      checkWeeklyLimit: () => ({ ok: true, value: true }),
      triggerBackup: () => ({ ok: true, value: { jobId: "job-1" } }),
      getJob: (_key, call) => job(call < 7 ? "InProgress" : "Completed"),
      publishEvents: () => undefined,
    });

    const start = new Date("2026-11-24T08:00:00Z").getTime();
    const fireTimes = run.scheduled.flatMap((t) =>
      t.kind === "timer" ? [(t.fireAt.getTime() - start) / 1000] : [],
    );
    expect(fireTimes).toEqual([0.25, 0.75, 1.75, 3.75, 7.75, 15.75, 30.75]);
  });

  it("carries the job's error out when the backup fails", () => {
    const run = driveOrchestration(adhocBackup, input, {
      checkWeeklyLimit: () => ({ ok: true, value: true }),
      triggerBackup: () => ({ ok: true, value: { jobId: "job-1" } }),
      getJob: () =>
        job("Failed", {
          errorDetails: [
            { code: "UserErrorMissingDBPermissions", message: "permission denied for table t" },
          ],
        }),
      publishEvents: () => undefined,
    });

    expect(run.output).toMatchObject({
      outcome: "Failed",
      error: { code: "MISSING_DB_PERMISSIONS", serviceCode: "UserErrorMissingDBPermissions" },
    });
  });

  it("skips quietly for a backup plan when this week's backup of a Flexible Server already ran", () => {
    const run = driveOrchestration(
      adhocBackup,
      { ...input, whenWeeklyLimitReached: "skip" },
      {
        checkWeeklyLimit: () => ({
          ok: false,
          code: "BACKUP_LIMIT_PER_WEEK_REACHED",
          message: "already backed up this week",
        }),
      },
    );

    expect(run.output.outcome).toBe("Skipped");
    expect(activityCalls(run.scheduled)).toEqual(["checkWeeklyLimit"]);
  });

  it("ends Skipped, naming the running job, for a backup plan when a backup of the instance runs", () => {
    const refusal = {
      ok: false,
      code: "BACKUP_IN_PROGRESS",
      message: "Backup instance 'pg1-sales-1' has a backup running: job job-0",
    };
    const run = driveOrchestration(
      adhocBackup,
      { ...input, whenBackupRunning: "skip" },
      { checkWeeklyLimit: () => ({ ok: true, value: true }), triggerBackup: () => refusal },
    );

    expect(run.output).toEqual({ outcome: "Skipped", error: refusal });
    expect(activityCalls(run.scheduled)).toEqual(["checkWeeklyLimit", "triggerBackup"]);
  });

  it("ends Failed, naming the running job, when a user asks while a backup of the instance runs", () => {
    const run = driveOrchestration(adhocBackup, input, {
      checkWeeklyLimit: () => ({ ok: true, value: true }),
      triggerBackup: () => ({
        ok: false,
        code: "BACKUP_IN_PROGRESS",
        message: "Backup instance 'pg1-sales-1' has a backup running: job job-0",
      }),
    });

    expect(run.output).toMatchObject({
      outcome: "Failed",
      error: { code: "BACKUP_IN_PROGRESS", message: expect.stringContaining("job-0") },
    });
  });

  it("refuses, with the reason, when a user asks and the weekly limit is reached", () => {
    const run = driveOrchestration(adhocBackup, input, {
      checkWeeklyLimit: () => ({
        ok: false,
        code: "BACKUP_LIMIT_PER_WEEK_REACHED",
        message: "already backed up this week",
      }),
    });

    expect(run.output).toMatchObject({
      outcome: "Failed",
      error: { code: "BACKUP_LIMIT_PER_WEEK_REACHED" },
    });
  });

  it("only follows a job the caller already triggered: no weekly-limit check and no second backup", () => {
    const statuses = ["InProgress", "Completed"];
    const run = driveOrchestration(
      adhocBackup,
      { ...input, jobId: "job-7" },
      {
        getJob: (key, call) => ({
          ...job(statuses[call] ?? "Completed"),
          id: (key as { jobId: string }).jobId,
        }),
        publishEvents: () => undefined,
      },
    );

    expect(run.output).toEqual({ outcome: "Completed", jobId: "job-7" });
    expect(activityCalls(run.scheduled)).toEqual([
      "getJob",
      "publishEvents",
      "getJob",
      "publishEvents",
    ]);
    expect(run.scheduled[0]).toMatchObject({ input: { vaultId: "/v", jobId: "job-7" } });
  });
});
