import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalScheduler } from "../../../src/providers/local/scheduler.js";
import { poll } from "../../support/poll.js";
import { usePostgresCluster } from "../../support/postgres.js";
import { createTestProvider, protectDatabase } from "../../support/localProvider.js";

const pgFixture = usePostgresCluster();
let env: Awaited<ReturnType<typeof createTestProvider>>;

beforeAll(async () => {
  await pgFixture.query("postgres", "CREATE DATABASE orders");
  await pgFixture.query(
    "orders",
    "CREATE TABLE big AS SELECT g AS id FROM generate_series(1, 100) g",
  );
  env = await createTestProvider(pgFixture.cluster);
});

afterAll(async () => {
  await env?.dispose();
});

/** The next Sunday 07:00 UTC after now: past the default policy's Sunday 06:30 occurrence. */
function nextSundayMorning(): Date {
  const now = new Date();
  const days = (7 - now.getUTCDay()) % 7 || 7;
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + days, 7));
}

describe("local scheduler: one backup at a time per backup instance", () => {
  it("defers a scheduled backup that falls due while an ad-hoc backup runs, with a log line, and runs it at the next tick after", async () => {
    // Arrange: an ad-hoc backup held by a table lock
    const { instance } = await protectDatabase(
      env.provider,
      env.vaultId,
      pgFixture.cluster,
      "orders",
    );
    const locker = new pg.Client({ connectionString: pgFixture.cluster.connectionUrl("orders") });
    await locker.connect();
    await locker.query("BEGIN; LOCK TABLE big IN ACCESS EXCLUSIVE MODE");
    const { jobId } = await env.provider.backup.triggerBackup(env.vaultId, instance.name, {
      ruleName: "BackupWeekly",
    });
    const lines: string[] = [];
    const scheduler = new LocalScheduler(env.provider, { log: (line) => lines.push(line) });
    const due = nextSundayMorning();

    // Act
    const whileRunning = await scheduler.tick(due);
    const jobsWhileRunning = await env.provider.backup.listJobs(env.vaultId, {
      operation: ["ScheduledBackup"],
    });
    await locker.query("COMMIT");
    await locker.end();
    await env.provider.backup.waitForJob(env.vaultId, jobId);
    const after = await scheduler.tick(new Date(due.getTime() + 60_000));
    const scheduled = await poll(
      () => env.provider.backup.listJobs(env.vaultId, { operation: ["ScheduledBackup"] }),
      (jobs) => jobs.length > 0 && jobs.every((j) => j.status !== "InProgress"),
    );

    // Assert
    expect(whileRunning.backups).toEqual([]);
    expect(whileRunning.deferred).toEqual([
      expect.objectContaining({ instanceName: instance.name, runningJob: jobId.split("/").pop() }),
    ]);
    expect(lines.some((line) => line.includes("is deferred: a backup of the instance runs"))).toBe(
      true,
    );
    expect(jobsWhileRunning).toEqual([]);
    expect(after.backups).toEqual([expect.objectContaining({ status: "Completed" })]);
    expect(scheduled).toHaveLength(1);
    expect(await env.provider.backup.listRecoveryPoints(env.vaultId, instance.name)).toHaveLength(
      2,
    );
  });
});
