/**
 * Following a job, as the on-demand backup and the restore do it: the activities, their order and
 * the timers are what the histories of running orchestrations hold, so they are pinned here as
 * those histories were written.
 */
import { describe, expect, it } from "vitest";
import { adhocBackup, type AdhocBackupInput } from "../../../src/orchestrations/adhocBackup.js";
import {
  restoreToServer,
  type RestoreToServerInput,
} from "../../../src/orchestrations/restoreToServer.js";
import { driveOrchestration, type Scheduled } from "../../support/orchestrationDriver.js";

const start = new Date("2026-11-24T08:00:00Z");
const backupInput: AdhocBackupInput = {
  vaultId: "/v",
  backupInstanceName: "pg-shop-1",
  ruleName: "BackupWeekly",
  jobId: "job-1",
};
const restoreInput: RestoreToServerInput = {
  vaultId: "/v",
  backupInstanceName: "pg-shop-1",
  jobId: "job-1",
  requestedAt: "2026-11-24T07:59:00Z",
};
const job = (status: string) => ({
  id: "job-1",
  name: "job-1",
  status,
  startTime: "2026-11-24T08:00:00Z",
});
const jobSeenAs = (statuses: readonly string[]) => ({
  getJob: (_input: unknown, call: number) => job(statuses[call] ?? statuses.at(-1) ?? "Completed"),
  publishEvents: () => undefined,
});

/** The scheduled work as a history reads it: activity names and timers' offsets in seconds. */
function history(scheduled: readonly Scheduled[]): string[] {
  return scheduled.map((task) =>
    task.kind === "activity"
      ? task.name
      : task.kind === "timer"
        ? `timer +${(task.fireAt.getTime() - start.getTime()) / 1000}s`
        : task.kind,
  );
}

describe("following a job", () => {
  const followed = [
    "getJob",
    "publishEvents",
    "timer +0.25s",
    "getJob",
    "timer +0.75s",
    "getJob",
    "publishEvents",
  ];

  it("reads the backup job, publishes each state once and waits on growing timers, as running histories hold it", () => {
    // Act
    const run = driveOrchestration(
      adhocBackup,
      backupInput,
      jobSeenAs(["InProgress", "InProgress", "Completed"]),
      { start },
    );

    // Assert
    expect(history(run.scheduled)).toEqual(followed);
    expect(run.output).toEqual({ outcome: "Completed", jobId: "job-1" });
  });

  it("follows a restore job with the same reads, events and timers as a backup job", () => {
    // Act
    const run = driveOrchestration(
      restoreToServer,
      restoreInput,
      jobSeenAs(["InProgress", "InProgress", "Completed"]),
      { start },
    );

    // Assert
    expect(history(run.scheduled)).toEqual(followed);
    expect(run.output).toMatchObject({ outcome: "Completed", jobId: "job-1", step: "job" });
  });

  it("answers still running once the last poll's wait is over, having published the state once", () => {
    // Act
    const backup = driveOrchestration(adhocBackup, backupInput, jobSeenAs(["InProgress"]), {
      start,
    });
    const restore = driveOrchestration(restoreToServer, restoreInput, jobSeenAs(["InProgress"]), {
      start,
    });

    // Assert
    const reads = history(backup.scheduled).filter((name) => name === "getJob");
    const waits = history(backup.scheduled).filter((name) => name.startsWith("timer"));
    expect(reads).toHaveLength(2_881);
    expect(waits).toHaveLength(2_881);
    expect(history(backup.scheduled).filter((name) => name === "publishEvents")).toHaveLength(1);
    // The first three waits and then every hundredth are logged: polls 0-2 and 100, 200, ... 2800.
    const waitsLogged = backup.logs.filter((line) =>
      line.includes("PgProtect.Orchestration.Waiting"),
    );
    expect(waitsLogged).toHaveLength(31);
    expect(backup.output).toEqual({ outcome: "StillRunning", jobId: "job-1" });
    expect(history(restore.scheduled)).toEqual(history(backup.scheduled));
    expect(restore.output).toMatchObject({ outcome: "StillRunning", step: "job" });
  });
});
