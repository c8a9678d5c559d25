import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  instanceAlarmMarks,
  withInstanceAlarms,
  withJobAlarms,
} from "../../../src/application/alarmMarks.js";
import { recordWatchedJobs } from "../../../src/application/jobHistory.js";
import type { BackupJob } from "../../../src/domain/protection/types.js";
import {
  openSqliteJobHistory,
  type SqliteJobHistory,
} from "../../../src/providers/history/sqliteJobHistory.js";
import { jobAt } from "../../support/jobHistoryContract.js";
import { VAULT_ID } from "../../support/notificationFixtures.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const orders = `${VAULT_ID}/backupInstances/pg-orders-orders-1234`;
const other = `${VAULT_ID}/backupInstances/pg-other-other-5678`;

/** A real SQLite history whose alarms are raised by the real rules, as the job watcher raises them. */
async function historyWithAlarms() {
  const folder = await mkdtemp(path.join(tmpdir(), "pgprotect-marks-"));
  const history: SqliteJobHistory = await openSqliteJobHistory(folder);
  cleanups.push(async () => {
    history.close();
    await rm(folder, { recursive: true, force: true });
  });
  const record = (jobs: BackupJob[], at: string) =>
    recordWatchedJobs(
      {
        history,
        eventSource: "/pgprotect/test",
        config: { STUCK_JOB_FLOOR_MINUTES: 15, ANOMALY_DURATION_RATIO: 10 },
        events: { publish: async () => undefined },
      },
      jobs.map((job) => ({ job })),
      at,
    );
  return { history, record };
}

const ofOrders = (job: BackupJob): BackupJob => ({ ...job, backupInstanceId: orders });

describe("alarm marks beside jobs and protected items", () => {
  it("marks a backup at a tenth of the usual size as an anomaly, with both sizes, and leaves the others unmarked", async () => {
    // Arrange
    const { history, record } = await historyWithAlarms();
    const usual = [
      jobAt("b1", "2026-06-01T00:00:00.000Z", 2, { dataTransferredInBytes: 1_048_576 }),
      jobAt("b2", "2026-06-02T00:00:00.000Z", 2, { dataTransferredInBytes: 1_048_576 }),
    ].map(ofOrders);
    const small = ofOrders(
      jobAt("b3", "2026-06-03T00:00:00.000Z", 2, { dataTransferredInBytes: 104_858 }),
    );
    await record(usual, "2026-06-02T00:10:00.000Z");
    await record([small], "2026-06-03T00:10:00.000Z");

    // Act
    const marked = await withJobAlarms(history, [small, ...usual]);

    // Assert
    expect(marked.map((job) => job.alarms.map((alarm) => alarm.kind))).toEqual([
      ["anomaly"],
      [],
      [],
    ]);
    expect(marked[0]?.alarms[0]).toMatchObject({
      raisedAt: "2026-06-03T00:10:00.000Z",
      summary:
        "Size down to 10 % of the usual: size 102.4 KiB against a usual 1.0 MiB (10 %; alarm below 50 %)",
    });
    expect(marked[0]).toMatchObject({ name: "b3", status: "Completed" });
  });

  it("marks an item stuck while its job reported stuck runs, and no longer once the job has ended", async () => {
    // Arrange: runs of ten minutes; one that has run 31 minutes by the last pass.
    const { history, record } = await historyWithAlarms();
    await record(
      [
        ofOrders(jobAt("r1", "2026-07-01T00:00:00.000Z", 10)),
        ofOrders(jobAt("r2", "2026-07-02T00:00:00.000Z", 10)),
      ],
      "2026-07-02T01:00:00.000Z",
    );
    const hung = ofOrders(jobAt("hung", "2026-07-03T00:00:00.000Z"));
    await record([hung], "2026-07-03T00:31:00.000Z");
    const now = new Date("2026-07-03T00:32:00.000Z");

    // Act
    const whileRunning = await instanceAlarmMarks(history, [orders.toUpperCase(), other], now);
    await record([ofOrders(jobAt("hung", "2026-07-03T00:00:00.000Z", 40))], "2026-07-03T00:41:00Z");
    const afterwards = await instanceAlarmMarks(history, [orders], now);

    // Assert
    expect(whileRunning.get(orders.toLowerCase())?.stuck).toMatchObject({
      kind: "stuck",
      jobName: "hung",
      raisedAt: "2026-07-03T00:31:00.000Z",
      summary: "Running for 31 min when reported; expected within 30 min (3 times the usual)",
    });
    expect(whileRunning.get(other.toLowerCase())).toEqual({ stuck: null, anomaly: null });
    expect(afterwards.get(orders.toLowerCase())?.stuck).toBeNull();
    const job = (await withJobAlarms(history, [hung]))[0];
    expect(job?.alarms.map((alarm) => alarm.kind)).toEqual(["stuck"]);
  });

  it("marks an item's anomaly while its latest backup is the one that departed, and clears it after a usual one", async () => {
    // Arrange
    const { history, record } = await historyWithAlarms();
    await record(
      [
        ofOrders(jobAt("b1", "2026-06-01T00:00:00.000Z", 2, { dataTransferredInBytes: 1_000_000 })),
        ofOrders(jobAt("b2", "2026-06-02T00:00:00.000Z", 2, { dataTransferredInBytes: 1_000_000 })),
      ],
      "2026-06-02T00:10:00.000Z",
    );
    await record(
      [ofOrders(jobAt("b3", "2026-06-03T00:00:00.000Z", 2, { dataTransferredInBytes: 10_000 }))],
      "2026-06-03T00:10:00.000Z",
    );
    const views = [{ id: orders, name: "orders" }];

    // Act
    const [afterSmall] = await withInstanceAlarms(history, views, new Date("2026-06-03T12:00:00Z"));
    await record(
      [ofOrders(jobAt("b4", "2026-06-04T00:00:00.000Z", 2, { dataTransferredInBytes: 990_000 }))],
      "2026-06-04T00:10:00.000Z",
    );
    const [afterUsual] = await withInstanceAlarms(history, views, new Date("2026-06-04T12:00:00Z"));

    // Assert
    expect(afterSmall?.alarms.anomaly).toMatchObject({ kind: "anomaly", jobName: "b3" });
    expect(afterSmall?.alarms.anomaly?.summary).toMatch(/^Size down to 1 % of the usual/);
    expect(afterSmall?.name).toBe("orders");
    expect(afterUsual?.alarms).toEqual({ stuck: null, anomaly: null });
  });
});
