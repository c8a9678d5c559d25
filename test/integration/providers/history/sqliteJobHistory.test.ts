import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  openSqliteJobHistory,
  type SqliteJobHistory,
} from "../../../../src/providers/history/sqliteJobHistory.js";
import { jobAt, jobHistoryContract } from "../../../support/jobHistoryContract.js";

const opened: SqliteJobHistory[] = [];
const folders: string[] = [];

async function freshFolder(): Promise<string> {
  const folder = await mkdtemp(path.join(tmpdir(), "pgprotect-history-"));
  folders.push(folder);
  return folder;
}

async function open(folder: string): Promise<SqliteJobHistory> {
  const history = await openSqliteJobHistory(folder);
  opened.push(history);
  return history;
}

afterEach(async () => {
  for (const history of opened.splice(0)) history.close();
  for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
});

describe("the SQLite job history", () => {
  jobHistoryContract(async () => open(await freshFolder()));

  it("still has every job after the process closes it and opens it again", async () => {
    // Arrange
    const folder = await freshFolder();
    const first = await open(folder);
    await first.recordJobs([jobAt("a", "2026-04-01T00:00:00.000Z", 3)]);
    first.close();

    // Act
    const reopened = await open(folder);

    // Assert
    expect((await reopened.queryJobs({ top: 5 })).value.map((job) => job.name)).toEqual(["a"]);
  });

  it("keeps the later state when two writers on one file record the same job at once", async () => {
    // Arrange: two connections to the same file, as a host and a CLI would hold.
    const folder = await freshFolder();
    const one = await open(folder);
    const two = await open(folder);
    const start = "2026-05-01T00:00:00.000Z";
    const jobs = Array.from({ length: 50 }, (_, index) => `j${index}`);

    // Act: one records every job running, the other every job done, interleaved.
    await Promise.all([
      ...jobs.map((name) => one.recordJobs([jobAt(name, start)])),
      ...jobs.map((name) => two.recordJobs([jobAt(name, start, 2)])),
      ...jobs.map((name) => one.recordJobs([jobAt(name, start)])),
    ]);

    // Assert
    const page = await one.queryJobs({ top: 100 });
    expect(page.value).toHaveLength(50);
    expect(new Set(page.value.map((job) => job.status))).toEqual(new Set(["Completed"]));
    expect(await two.runningJobs()).toEqual([]);
  });
});
