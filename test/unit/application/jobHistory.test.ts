import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  recordWatchedJobs,
  type JobHistoryDependencies,
} from "../../../src/application/jobHistory.js";
import type { PgProtectEvent } from "../../../src/domain/events/types.js";
import {
  openSqliteJobHistory,
  type SqliteJobHistory,
} from "../../../src/providers/history/sqliteJobHistory.js";
import { openSqliteDrillHistory } from "../../../src/providers/history/sqliteDrillHistory.js";
import { drillRecord } from "../../support/drillHistoryContract.js";
import { jobAt } from "../../support/jobHistoryContract.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function recorder(config: JobHistoryDependencies["config"] = {}) {
  const folder = await mkdtemp(path.join(tmpdir(), "pgprotect-history-"));
  const history: SqliteJobHistory = await openSqliteJobHistory(folder);
  const drills = await openSqliteDrillHistory(folder);
  cleanups.push(async () => {
    history.close();
    drills.close();
    await rm(folder, { recursive: true, force: true });
  });
  const published: PgProtectEvent[] = [];
  let failPublishing = false;
  const deps: JobHistoryDependencies = {
    history,
    drills,
    eventSource: "/pgprotect/test",
    config,
    events: {
      publish: async (events) => {
        if (failPublishing) throw new Error("topic unavailable");
        published.push(...(events as PgProtectEvent[]));
      },
    },
  };
  return {
    history,
    drills,
    published,
    failNextPublishing: (fail: boolean) => {
      failPublishing = fail;
    },
    record: (jobs: Parameters<typeof jobAt>[], at: string) =>
      recordWatchedJobs(
        deps,
        jobs.map((args) => ({ job: jobAt(...args) })),
        at,
      ),
  };
}

describe("recordWatchedJobs", () => {
  it("raises one anomaly for a backup at a tenth of its instance's usual size, with the numbers side by side", async () => {
    // Arrange: two ordinary backups recorded on earlier passes.
    const { record, published } = await recorder();
    await record(
      [["b1", "2026-06-01T00:00:00.000Z", 2, { dataTransferredInBytes: 1_000_000 }]],
      "2026-06-01T00:10:00.000Z",
    );
    await record(
      [["b2", "2026-06-02T00:00:00.000Z", 2, { dataTransferredInBytes: 1_200_000 }]],
      "2026-06-02T00:10:00.000Z",
    );
    const small: Parameters<typeof jobAt> = [
      "b3",
      "2026-06-03T00:00:00.000Z",
      2,
      { dataTransferredInBytes: 110_000 },
    ];

    // Act: the small backup, seen by two passes.
    await record([small], "2026-06-03T00:10:00.000Z");
    await record([small], "2026-06-03T00:11:00.000Z");

    // Assert
    expect(published.map((event) => event.type)).toEqual(["PgProtect.Backup.Anomaly"]);
    expect(published[0]?.data).toMatchObject({
      jobName: "b3",
      findings: [{ measure: "size", observed: 110_000, usual: 1_100_000, ratio: 0.1, limit: 0.5 }],
      earlierBackups: 2,
    });
  });

  it("reports a job running past three times its usual time stuck once, and tells its end as a stuck job's", async () => {
    // Arrange: earlier runs of ten minutes; a floor of 15 minutes (and no duration anomaly).
    const { record, published } = await recorder({
      STUCK_JOB_FLOOR_MINUTES: 15,
      ANOMALY_DURATION_RATIO: 10,
    });
    await record(
      [
        ["r1", "2026-07-01T00:00:00.000Z", 10],
        ["r2", "2026-07-02T00:00:00.000Z", 10],
      ],
      "2026-07-02T01:00:00.000Z",
    );
    const start = "2026-07-03T00:00:00.000Z";

    // Act: passes at 20, 31 and 40 minutes, then the end.
    const early = await record([["hung", start]], "2026-07-03T00:20:00.000Z");
    await record([], "2026-07-03T00:31:00.000Z");
    await record([], "2026-07-03T00:40:00.000Z");
    const ended = await record([["hung", start, 45]], "2026-07-03T00:46:00.000Z");

    // Assert
    expect(early.alarms).toEqual([]);
    expect(published.map((event) => event.type)).toEqual(["PgProtect.Job.Stuck"]);
    expect(published[0]?.data).toMatchObject({
      jobName: "hung",
      runningMinutes: 31,
      expectedWithinMinutes: 30,
      usualP95Minutes: 10,
      earlierRuns: 2,
      basis: "history",
    });
    expect(ended.stuckEnded).toEqual([
      {
        jobId: expect.stringContaining("hung") as string,
        stuck: { reportedAt: "2026-07-03T00:31:00.000Z", expectedWithinMinutes: 30 },
      },
    ]);
  });

  it("publishes an alarm on the next pass when publishing it failed, and never twice", async () => {
    const { record, published, failNextPublishing } = await recorder({
      STUCK_JOB_FLOOR_MINUTES: 1,
      STUCK_JOB_CEILING_HOURS: 1,
    });
    await record([["hung", "2026-08-01T00:00:00.000Z"]], "2026-08-01T00:00:30.000Z");
    failNextPublishing(true);

    await expect(record([], "2026-08-01T02:00:00.000Z")).rejects.toThrow("topic unavailable");
    failNextPublishing(false);
    await record([], "2026-08-01T02:01:00.000Z");
    await record([], "2026-08-01T02:02:00.000Z");

    expect(published.map((event) => event.type)).toEqual(["PgProtect.Job.Stuck"]);
    expect(published[0]?.data).toMatchObject({ basis: "ceiling", expectedWithinMinutes: 60 });
  });

  it("prunes drills with the jobs, by HISTORY_RETENTION_DAYS", async () => {
    // Arrange: a drill and a job of 40 days ago, a drill of 20 days ago; a retention of 30 days.
    const { record, history, drills } = await recorder({ HISTORY_RETENTION_DAYS: 30 });
    await drills.finishDrill(
      drillRecord("old", { startTime: "2026-04-22T03:00:00.000Z", verdict: "Succeeded" }),
    );
    await drills.finishDrill(
      drillRecord("recent", { startTime: "2026-05-12T03:00:00.000Z", verdict: "Failed" }),
    );
    await history.recordJobs([jobAt("old-job", "2026-04-22T02:00:00.000Z", 2)]);

    // Act: a watcher pass on 1 June.
    await record([], "2026-06-01T00:00:00.000Z");

    // Assert
    expect((await drills.queryDrills({ top: 10 })).value.map((drill) => drill.id)).toEqual([
      "recent",
    ]);
    expect((await history.queryJobs({ top: 10 })).value).toEqual([]);
  });
});
