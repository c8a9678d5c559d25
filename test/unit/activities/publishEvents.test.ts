import { describe, expect, it } from "vitest";
import {
  createActivities,
  type ActivityDependencies,
} from "../../../src/activities/createActivities.js";
import type { PgProtectEvent } from "../../../src/domain/events/types.js";
import type { PublishedEvent } from "../../../src/providers/ports.js";
import {
  backupInstance,
  backupJob,
  databaseId,
  SOURCE,
  VAULT_ID,
} from "../../support/notificationFixtures.js";

/** Activities whose publisher keeps what it is given; the provider answers nothing. */
function activitiesKeepingEvents() {
  const published: PgProtectEvent[] = [];
  const deps = {
    provider: { backup: {}, secrets: {}, directory: {}, access: undefined },
    events: {
      publish: async (events: readonly PublishedEvent[]) => {
        published.push(...(events as PgProtectEvent[]));
      },
    },
    eventSource: SOURCE,
  } as unknown as ActivityDependencies;
  return { activities: createActivities(deps), published };
}

/** The event input of a configured protection of `instance`, at `time` when one is given. */
function protectionConfigured(instance: ReturnType<typeof backupInstance>, time?: string) {
  return {
    kind: "protectionConfigured" as const,
    vaultId: VAULT_ID,
    backupInstanceName: instance.name,
    instance,
    ...(time === undefined ? {} : { time }),
  };
}

describe("publishEvents", () => {
  it("announces a configured protection at the orchestration's time when the service gave the instance no creation time", async () => {
    // Arrange: the service omitted systemData, so the instance has no createdAt.
    const { activities, published } = activitiesKeepingEvents();
    const instance = backupInstance({ createdAt: "" });

    // Act
    await activities.publishEvents([protectionConfigured(instance, "2026-11-24T08:05:00.000Z")]);

    // Assert
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      type: "PgProtect.Protection.Configured",
      time: "2026-11-24T08:05:00.000Z",
      data: { configuredAt: "2026-11-24T08:05:00.000Z" },
    });
  });

  it("falls back to its own clock when neither the service nor the request gives a time", async () => {
    const { activities, published } = activitiesKeepingEvents();
    const instance = backupInstance({ createdAt: "" });

    await activities.publishEvents([protectionConfigured(instance)]);

    expect(Number.isNaN(Date.parse(published[0]?.time ?? ""))).toBe(false);
  });

  it("keeps the service's creation time when it gives one", async () => {
    const { activities, published } = activitiesKeepingEvents();
    const instance = backupInstance({ createdAt: "2026-11-20T10:00:00.000Z" });

    await activities.publishEvents([protectionConfigured(instance, "2026-11-24T08:05:00.000Z")]);

    expect(published[0]?.time).toBe("2026-11-20T10:00:00.000Z");
  });

  it("announces a failed protection with the backup instance it created, even without a time", async () => {
    const { activities, published } = activitiesKeepingEvents();
    const instance = backupInstance();

    await activities.publishEvents([
      {
        kind: "protectionFailed",
        datasourceId: databaseId(),
        vaultId: VAULT_ID,
        failedStep: "publish",
        backupInstance: { id: instance.id, friendlyName: instance.name },
        operationId: "protect-x",
        error: { code: "PROTECTION_EVENT_NOT_PUBLISHED", message: "m" },
        time: "",
      },
    ]);

    expect(published[0]).toMatchObject({
      type: "PgProtect.Protection.Failed",
      data: {
        failedStep: "publish",
        backupInstanceId: instance.id,
        backupInstanceName: instance.name,
        error: { code: "PROTECTION_EVENT_NOT_PUBLISHED" },
      },
    });
    expect(Number.isNaN(Date.parse(published[0]?.time ?? ""))).toBe(false);
  });

  it("announces a job state whose job came without start and end times", async () => {
    const { activities, published } = activitiesKeepingEvents();

    await activities.publishEvents([
      {
        kind: "jobStateChanged",
        job: { ...backupJob(), startTime: "", endTime: undefined } as never,
      },
    ]);

    expect(published).toHaveLength(1);
    expect(Number.isNaN(Date.parse(published[0]?.time ?? ""))).toBe(false);
  });
});
