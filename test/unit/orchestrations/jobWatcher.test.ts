import { describe, expect, it } from "vitest";
import type {
  EventRequest,
  ListJobsSinceInput,
  WatchedJob,
} from "../../../src/activities/names.js";
import type { BackupJob } from "../../../src/domain/protection/types.js";
import {
  jobWatcher,
  jobWatching,
  type JobWatcherInput,
  type JobWatcherOutput,
} from "../../../src/orchestrations/jobWatcher.js";
import { backupJob, VAULT_ID } from "../../support/notificationFixtures.js";
import {
  activityCalls,
  driveOrchestration,
  type Scheduled,
} from "../../support/orchestrationDriver.js";

const start = new Date("2026-11-24T08:00:00Z");
const minutes = (n: number, from = start) => new Date(from.getTime() + n * 60_000);

const running = (name: string, startTime: string) =>
  backupJob({
    name,
    id: `${VAULT_ID}/backupJobs/${name}`,
    status: "InProgress",
    startTime,
    endTime: undefined,
    duration: undefined,
  });
const completed = (name: string, startTime: string, endTime: string) =>
  backupJob({
    name,
    id: `${VAULT_ID}/backupJobs/${name}`,
    status: "Completed",
    startTime,
    endTime,
  });

/** The service as the watcher sees it: the jobs a listing from `since` returns. */
function jobsSince(jobs: readonly BackupJob[], tags?: Record<string, string>) {
  return (input: unknown): WatchedJob[] => {
    const since = Date.parse((input as ListJobsSinceInput).since);
    return jobs
      .filter(
        (job) =>
          Date.parse(job.startTime) >= since ||
          (job.endTime !== undefined && Date.parse(job.endTime) >= since),
      )
      .map((job) => (tags ? { job, datasourceTags: tags } : { job }));
  };
}

function pass(
  input: JobWatcherInput,
  jobs: readonly BackupJob[],
  at: Date,
  tags?: Record<string, string>,
) {
  const published: EventRequest[] = [];
  const run = driveOrchestration<JobWatcherOutput>(
    jobWatcher,
    input,
    {
      listJobsSince: jobsSince(jobs, tags),
      recordJobHistory: recordsNothingStuck,
      publishEvents: (requests) => {
        published.push(...(requests as EventRequest[]));
        return (requests as EventRequest[]).length;
      },
    },
    { start: at },
  );
  const states = published.map((request) =>
    request.kind === "jobStateChanged" ? `${request.job.name} ${request.job.status}` : request.kind,
  );
  return { run, published, states };
}

/** The history's answer when no job seen had been reported stuck. */
const recordsNothingStuck = () => ({ alarms: [], stuckEnded: [] });

const listings = (scheduled: readonly Scheduled[]) =>
  scheduled.flatMap((task) =>
    task.kind === "activity" && task.name === "listJobsSince"
      ? [task.input as ListJobsSinceInput]
      : [],
  );

describe("jobWatcher", () => {
  it("publishes each job's state on the first pass, looking back one overlap, with the datasource's tags", () => {
    const jobs = [
      running("a", minutes(-3).toISOString()),
      completed("b", minutes(-8).toISOString(), minutes(-1).toISOString()),
    ];

    const { run, published, states } = pass({ vaultIds: [VAULT_ID] }, jobs, start, { env: "prod" });

    expect(listings(run.scheduled)).toEqual([
      { vaultIds: [VAULT_ID], since: minutes(-jobWatching.overlapMinutes).toISOString() },
    ]);
    expect(states).toEqual(["a InProgress", "b Completed"]);
    expect(published[0]).toMatchObject({
      kind: "jobStateChanged",
      datasourceTags: { env: "prod" },
    });
    expect(run.output).toMatchObject({
      published: 2,
      watermark: minutes(-jobWatching.overlapMinutes).toISOString(),
    });
  });

  it("does not publish a state again on later passes, and publishes the job's next state once", () => {
    const jobA = running("a", minutes(-3).toISOString());
    const first = pass({ vaultIds: [VAULT_ID] }, [jobA], start);

    const second = pass({ vaultIds: [VAULT_ID], state: first.run.output }, [jobA], minutes(1));
    const finished = completed("a", jobA.startTime, minutes(2).toISOString());
    const third = pass({ vaultIds: [VAULT_ID], state: second.run.output }, [finished], minutes(3));
    const fourth = pass({ vaultIds: [VAULT_ID], state: third.run.output }, [finished], minutes(4));

    expect(first.states).toEqual(["a InProgress"]);
    expect(second.states).toEqual([]);
    expect(activityCalls(second.run.scheduled)).toEqual(["listJobsSince", "recordJobHistory"]);
    expect(third.states).toEqual(["a Completed"]);
    expect(fourth.states).toEqual([]);
  });

  it("moves the watermark forward with the clock, keeping one overlap, and forgets states a listing can no longer return", () => {
    const old = completed("old", minutes(-9).toISOString(), minutes(-8).toISOString());
    const first = pass({ vaultIds: [VAULT_ID] }, [old], start);

    const later = pass({ vaultIds: [VAULT_ID], state: first.run.output }, [old], minutes(30));

    expect(first.states).toEqual(["old Completed"]);
    expect(listings(later.run.scheduled)[0]?.since).toBe(first.run.output.watermark);
    expect(later.run.output.watermark).toBe(minutes(30 - jobWatching.overlapMinutes).toISOString());
    expect(later.run.output.seen).toEqual([]);
    expect(later.states).toEqual([]);
  });

  it("publishes, once, a job the listing shows only minutes after it ended, as Resource Graph lags the service", () => {
    // Arrange: the job ended a minute before the first pass; the index shows it five passes later.
    const late = completed("late", minutes(-2).toISOString(), minutes(-1).toISOString());
    const lagMinutes = 5;
    let state = pass({ vaultIds: [VAULT_ID] }, [], start).run.output;
    const states: string[] = [];

    // Act
    for (let minute = 1; minute <= lagMinutes + 2; minute += 1) {
      const shown = minute >= lagMinutes ? [late] : [];
      const next = pass({ vaultIds: [VAULT_ID], state }, shown, minutes(minute));
      states.push(...next.states.map((s) => `${minute}: ${s}`));
      state = next.run.output;
    }

    // Assert
    expect(states).toEqual([`${lagMinutes}: late Completed`]);
    expect(jobWatching.overlapMinutes).toBeGreaterThan(lagMinutes);
  });

  it("never moves the watermark back when passes come quicker than the overlap", () => {
    const first = pass(
      { vaultIds: [VAULT_ID], state: { watermark: minutes(-2).toISOString(), seen: [] } },
      [],
      start,
    );

    expect(first.run.output.watermark).toBe(minutes(-2).toISOString());
  });

  it("publishes a burst of jobs in batches Event Grid accepts", () => {
    const jobs = Array.from({ length: jobWatching.publishBatch + 5 }, (_, i) =>
      completed(`job-${i}`, minutes(-5).toISOString(), minutes(-4).toISOString()),
    );

    const { run, states } = pass({ vaultIds: [VAULT_ID] }, jobs, start);

    expect(activityCalls(run.scheduled)).toEqual([
      "listJobsSince",
      "recordJobHistory",
      "publishEvents",
      "publishEvents",
    ]);
    expect(new Set(states).size).toBe(jobs.length);
  });

  it("asks for nothing when no vault is watched", () => {
    const { run } = pass({ vaultIds: [] }, [], start);

    expect(run.scheduled).toEqual([]);
    expect(run.output.published).toBe(0);
  });

  it("lists with the retry policy, so a transient failure of the service is retried, not fatal", () => {
    const { run } = pass({ vaultIds: [VAULT_ID] }, [], start);

    expect(run.scheduled[0]).toMatchObject({
      kind: "activity",
      name: "listJobsSince",
      retried: true,
    });
  });

  it("completes a pass whose listing still fails after its retries, stating why and keeping the watermark", () => {
    // Arrange
    const state = { watermark: minutes(-3).toISOString(), seen: [] };

    // Act
    const run = driveOrchestration<JobWatcherOutput>(
      jobWatcher,
      { vaultIds: [VAULT_ID], state },
      {
        listJobsSince: () => {
          throw new Error("Activity function 'listJobsSince' failed: 503");
        },
      },
      { start },
    );

    // Assert
    expect(run.output).toEqual({
      watermark: state.watermark,
      seen: [],
      published: 0,
      error: { code: "JOB_WATCH_INCOMPLETE", message: expect.stringContaining("503") },
    });
  });

  it("remembers the states it published before publishing failed, so the next pass publishes only the rest", () => {
    // Arrange: the second batch cannot be published.
    const jobs = Array.from({ length: jobWatching.publishBatch + 5 }, (_, i) =>
      completed(`job-${i}`, minutes(-5).toISOString(), minutes(-4).toISOString()),
    );
    const published: EventRequest[] = [];
    const first = driveOrchestration<JobWatcherOutput>(
      jobWatcher,
      { vaultIds: [VAULT_ID] },
      {
        listJobsSince: jobsSince(jobs),
        recordJobHistory: recordsNothingStuck,
        publishEvents: (requests, call) => {
          if (call === 1) throw new Error("Activity function 'publishEvents' failed: 401");
          published.push(...(requests as EventRequest[]));
          return (requests as EventRequest[]).length;
        },
      },
      { start },
    );

    // Act
    const second = pass({ vaultIds: [VAULT_ID], state: first.output }, jobs, minutes(1));

    // Assert
    expect(first.output.error?.code).toBe("JOB_WATCH_INCOMPLETE");
    expect(first.output.published).toBe(jobWatching.publishBatch);
    expect(published).toHaveLength(jobWatching.publishBatch);
    expect(second.states).toHaveLength(5);
    expect(second.run.output.error).toBeUndefined();
  });

  it("records the listed jobs in the history before publishing, with the pass's time", () => {
    const jobs = [completed("a", minutes(-5).toISOString(), minutes(-1).toISOString())];

    const { run } = pass({ vaultIds: [VAULT_ID] }, jobs, start);

    expect(activityCalls(run.scheduled)).toEqual([
      "listJobsSince",
      "recordJobHistory",
      "publishEvents",
    ]);
    expect(run.scheduled[1]).toMatchObject({
      input: { jobs: [{ job: { name: "a" } }], at: start.toISOString() },
    });
  });

  it("publishes the end of a job the history reported stuck with its stuck mark", () => {
    // Arrange
    const job = completed("hung", minutes(-90).toISOString(), minutes(-1).toISOString());
    const stuck = { reportedAt: minutes(-30).toISOString(), expectedWithinMinutes: 45 };
    const published: EventRequest[] = [];

    // Act
    driveOrchestration<JobWatcherOutput>(
      jobWatcher,
      { vaultIds: [VAULT_ID] },
      {
        listJobsSince: jobsSince([job]),
        recordJobHistory: () => ({
          alarms: [],
          stuckEnded: [{ jobId: job.id.toUpperCase(), stuck }],
        }),
        publishEvents: (requests) => {
          published.push(...(requests as EventRequest[]));
          return (requests as EventRequest[]).length;
        },
      },
      { start },
    );

    // Assert
    expect(published).toEqual([{ kind: "jobStateChanged", job, stuck, recorded: true }]);
  });

  it("completes a pass whose recording still fails after its retries, publishing nothing and keeping the watermark", () => {
    const state = { watermark: minutes(-3).toISOString(), seen: [] };
    const jobs = [completed("a", minutes(-2).toISOString(), minutes(-1).toISOString())];

    const run = driveOrchestration<JobWatcherOutput>(
      jobWatcher,
      { vaultIds: [VAULT_ID], state },
      {
        listJobsSince: jobsSince(jobs),
        recordJobHistory: () => {
          throw new Error("Activity function 'recordJobHistory' failed: table unavailable");
        },
      },
      { start },
    );

    expect(activityCalls(run.scheduled)).toEqual(["listJobsSince", "recordJobHistory"]);
    expect(run.output).toMatchObject({
      watermark: state.watermark,
      published: 0,
      error: { code: "JOB_WATCH_INCOMPLETE", message: expect.stringContaining("job history") },
    });
  });
});
