import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  createActivities,
  type ActivityDependencies,
} from "../../../src/activities/createActivities.js";
import type { PgProtectEvent } from "../../../src/domain/events/types.js";
import type { EventLogger } from "../../../src/observability/eventLogger.js";
import type { JobHistoryPort, PublishedEvent } from "../../../src/providers/ports.js";
import { openSqliteJobHistory } from "../../../src/providers/history/sqliteJobHistory.js";
import { jobAt } from "../../support/jobHistoryContract.js";
import { SOURCE } from "../../support/notificationFixtures.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function sqliteHistory() {
  const folder = await mkdtemp(path.join(tmpdir(), "pgprotect-activities-"));
  const history = await openSqliteJobHistory(folder);
  cleanups.push(async () => {
    history.close();
    await rm(folder, { recursive: true, force: true });
  });
  return history;
}

/** The activities over a history, with a publisher that keeps what it is given. */
function activitiesOver(history: JobHistoryPort, config: ActivityDependencies["config"] = {}) {
  const published: PgProtectEvent[] = [];
  const logged: string[] = [];
  const deps = {
    provider: {
      backup: {},
      secrets: {},
      directory: { getTags: async () => ({}) },
      access: undefined,
    },
    events: {
      publish: async (events: readonly PublishedEvent[]) => {
        published.push(...(events as PgProtectEvent[]));
      },
    },
    eventSource: SOURCE,
    history,
    config,
  } as unknown as ActivityDependencies;
  const log: EventLogger = {
    correlation: {},
    emit: (event) => {
      logged.push(event.name);
    },
    with: () => log,
  };
  return { activities: createActivities(deps), published, logged, log };
}

describe("the job history activities", () => {
  it("tell the end of a stuck job as such when the ad-hoc follow-up publishes it first", async () => {
    // Arrange: the watcher reported the job stuck; the ad-hoc follow-up then sees it end.
    const history = await sqliteHistory();
    const { activities, published } = activitiesOver(history, { STUCK_JOB_CEILING_HOURS: 1 });
    const start = "2026-09-01T00:00:00.000Z";
    await activities.recordJobHistory({
      jobs: [{ job: jobAt("hung", start) }],
      at: "2026-09-01T02:00:00.000Z",
    });
    published.length = 0;

    // Act
    await activities.publishEvents([{ kind: "jobStateChanged", job: jobAt("hung", start, 150) }]);

    // Assert
    expect(published).toHaveLength(1);
    expect(published[0]?.data).toMatchObject({
      status: "Completed",
      stuck: { reportedAt: "2026-09-01T02:00:00.000Z", expectedWithinMinutes: 60 },
    });
    expect((await history.queryJobs({ top: 5 })).value.map((job) => job.status)).toEqual([
      "Completed",
    ]);
  });

  it("publish a job's state even when the history cannot be written, and say so in the log", async () => {
    // Arrange
    const broken = {
      recordJobs: async () => {
        throw new Error("disk full");
      },
    } as unknown as JobHistoryPort;
    const { activities, published, logged, log } = activitiesOver(broken);

    // Act
    await activities.publishEvents(
      [{ kind: "jobStateChanged", job: jobAt("b", "2026-09-02T00:00:00.000Z", 3) }],
      log,
    );

    // Assert
    expect(published.map((event) => event.type)).toEqual(["PgProtect.Backup.JobStateChanged"]);
    expect(logged).toContain("PgProtect.JobHistory.Unavailable");
  });
});
