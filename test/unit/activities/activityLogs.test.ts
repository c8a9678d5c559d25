import { describe, expect, it } from "vitest";
import {
  createActivities,
  type ActivityDependencies,
} from "../../../src/activities/createActivities.js";
import { AppError } from "../../../src/domain/errors.js";
import { createEventLogger, type LogRecord } from "../../../src/observability/eventLogger.js";
import { backupInstance, SOURCE, VAULT_ID } from "../../support/notificationFixtures.js";

/** Activities over a provider whose backup service answers as each test says. */
function activitiesWith(backup: Record<string, unknown>) {
  const deps = {
    provider: { backup, secrets: {}, directory: {}, access: undefined },
    events: { publish: async () => undefined },
    eventSource: SOURCE,
  } as unknown as ActivityDependencies;
  return createActivities(deps);
}

/** A logger for the orchestration instance `protect-a`, keeping what it is given. */
function recordingLogger() {
  const records: LogRecord[] = [];
  const log = createEventLogger((record) => records.push(record), { operationId: "protect-a" });
  return { log, names: () => records.map((r) => r.event.name), records };
}

describe("the activities' logs", () => {
  it("log the start and the completion of an activity under the orchestration's instance", async () => {
    // Arrange
    const instance = backupInstance();
    const activities = activitiesWith({ getBackupInstance: async () => instance });
    const { log, names, records } = recordingLogger();

    // Act
    await activities.getBackupInstance(
      { vaultId: VAULT_ID, backupInstanceName: instance.name },
      log,
    );

    // Assert
    expect(names()).toEqual(["PgProtect.Activity.Started", "PgProtect.Activity.Completed"]);
    expect(records.map((r) => r.properties)).toMatchObject([
      { operationId: "protect-a", activity: "getBackupInstance" },
      { operationId: "protect-a", activity: "getBackupInstance", durationMs: expect.any(Number) },
    ]);
  });

  it("log an expected failure as declined, with its code, and return it as a value", async () => {
    // Arrange
    const activities = activitiesWith({
      triggerBackup: async () => {
        throw new AppError("BACKUP_IN_PROGRESS", "A backup of pg1-sales runs", { httpStatus: 409 });
      },
    });
    const { log, names, records } = recordingLogger();

    // Act
    const result = await activities.triggerBackup(
      { vaultId: VAULT_ID, backupInstanceName: "pg1-sales", ruleName: "BackupWeekly" },
      log,
    );

    // Assert
    expect(result).toMatchObject({ ok: false, code: "BACKUP_IN_PROGRESS" });
    expect(names()).toEqual(["PgProtect.Activity.Started", "PgProtect.Activity.Declined"]);
    expect(records[1]).toMatchObject({
      level: "warning",
      properties: { errorCode: "BACKUP_IN_PROGRESS", activity: "triggerBackup" },
    });
  });

  it("log a thrown failure as an error and throw it on, for the orchestration's retry policy", async () => {
    // Arrange
    const activities = activitiesWith({
      getJob: async () => {
        throw new Error("connection reset by peer");
      },
    });
    const { log, names, records } = recordingLogger();

    // Act
    const call = activities.getJob({ vaultId: VAULT_ID, jobId: "job-1" }, log);

    // Assert
    await expect(call).rejects.toThrow("connection reset by peer");
    expect(names()).toEqual(["PgProtect.Activity.Started", "PgProtect.Activity.Failed"]);
    expect(records[1]).toMatchObject({
      level: "error",
      properties: { errorMessage: "connection reset by peer", activity: "getJob" },
    });
  });

  it("log each event published, by its id and type", async () => {
    // Arrange
    const instance = backupInstance();
    const activities = activitiesWith({});
    const { log, records } = recordingLogger();

    // Act
    await activities.publishEvents(
      [
        {
          kind: "protectionConfigured",
          vaultId: VAULT_ID,
          backupInstanceName: instance.name,
          instance,
        },
      ],
      log,
    );

    // Assert
    const published = records.filter((r) => r.event.name === "PgProtect.Event.Published");
    expect(published.map((r) => r.properties)).toMatchObject([
      { eventType: "PgProtect.Protection.Configured", cloudEventId: expect.any(String) },
    ]);
  });

  it("run without a logger, as callers that log nothing call them", async () => {
    const instance = backupInstance();
    const activities = activitiesWith({ getBackupInstance: async () => instance });

    await expect(
      activities.getBackupInstance({ vaultId: VAULT_ID, backupInstanceName: instance.name }),
    ).resolves.toMatchObject({ backupInstanceName: instance.name });
  });
});
