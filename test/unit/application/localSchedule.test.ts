import { describe, expect, it } from "vitest";
import {
  runLocalSchedule,
  type LocalSchedulePort,
  type LocalScheduleTickReport,
} from "../../../src/application/localSchedule.js";

const quietTick: LocalScheduleTickReport = {
  backups: [],
  retention: [],
  missed: [],
  deferred: [],
  errors: [],
};

/** A schedule port answering one report and counting its ticks. */
function scheduleAnswering(report: LocalScheduleTickReport): LocalSchedulePort & { ticks: number } {
  const port = {
    ticks: 0,
    tick: async () => {
      port.ticks += 1;
      return report;
    },
  };
  return port;
}

describe("runLocalSchedule", () => {
  it("does nothing when the provider keeps no schedules of its own (Azure)", async () => {
    expect(await runLocalSchedule(undefined)).toBeUndefined();
  });

  it("says nothing for a tick with nothing due", async () => {
    // Arrange
    const schedule = scheduleAnswering(quietTick);

    // Act
    const report = await runLocalSchedule(schedule);

    // Assert
    expect(schedule.ticks).toBe(1);
    expect(report).toEqual({ lines: [], warnings: [] });
  });

  it("counts what a tick did, names each deferred backup and warns of each failure", async () => {
    // Arrange
    const schedule = scheduleAnswering({
      backups: [{}, {}],
      retention: [{}],
      missed: [{ occurrences: ["2026-12-07T01:00:00Z", "2026-12-07T02:00:00Z"] }],
      deferred: [
        {
          vaultName: "pgprotect-vault",
          instanceName: "local-shop",
          occurrence: "2026-12-07T03:00:00Z",
          runningJob: "job-1",
        },
      ],
      errors: [
        {
          vaultName: "pgprotect-vault",
          instanceName: "local-crm",
          code: "PROTECTION_NOT_CONFIGURED",
          message: "stopped",
        },
      ],
    });

    // Act
    const report = await runLocalSchedule(schedule);

    // Assert
    expect(report).toEqual({
      lines: [
        "local schedule: 2 backup(s), 1 retention step(s), 2 missed occurrence(s), 1 failure(s)",
        "local schedule: pgprotect-vault/local-shop: the backup due 2026-12-07T03:00:00Z is deferred while job-1 runs",
      ],
      warnings: ["local schedule: pgprotect-vault/local-crm: PROTECTION_NOT_CONFIGURED: stopped"],
    });
  });
});
