import { describe, expect, it } from "vitest";
import { TableJobHistory } from "../../../../src/providers/history/tableJobHistory.js";
import { uniqueTableName, useAzuriteTable } from "../../../support/azurite.js";
import { jobAt, jobHistoryContract } from "../../../support/jobHistoryContract.js";

const azurite = useAzuriteTable();

/** A store over a table no other test uses, created on first use. */
function freshHistory(tableName = uniqueTableName("history")): TableJobHistory {
  return new TableJobHistory(() => azurite.service.client(tableName));
}

describe("the Table Storage job history, against Azurite", () => {
  jobHistoryContract(async () => freshHistory());

  it("keeps the later state when two instances record the same jobs at once", async () => {
    // Arrange: two app instances, each with its own client of the one table.
    const tableName = uniqueTableName("history");
    const one = freshHistory(tableName);
    const two = freshHistory(tableName);
    const start = "2026-05-01T00:00:00.000Z";
    const names = Array.from({ length: 20 }, (_, index) => `j${index}`);
    await one.recordJobs([]);

    // Act: running and done states raced against each other for every job.
    await Promise.all([
      ...names.map((name) => one.recordJobs([jobAt(name, start)])),
      ...names.map((name) => two.recordJobs([jobAt(name, start, 2)])),
      ...names.map((name) => one.recordJobs([jobAt(name, start)])),
    ]);

    // Assert
    const page = await two.queryJobs({ top: 50 });
    expect(page.value).toHaveLength(20);
    expect(new Set(page.value.map((job) => job.status))).toEqual(new Set(["Completed"]));
  });

  it("pages across months newest first", async () => {
    const history = freshHistory();
    await history.recordJobs([
      jobAt("jan", "2026-01-31T23:59:00.000Z", 1),
      jobAt("feb", "2026-02-01T00:00:00.000Z", 1),
      jobAt("mar", "2026-03-15T00:00:00.000Z", 1),
    ]);

    const first = await history.queryJobs({ top: 2 });
    const second = await history.queryJobs({
      top: 2,
      ...(first.next ? { after: first.next } : {}),
    });

    expect(first.value.map((job) => job.name)).toEqual(["mar", "feb"]);
    expect(second.value.map((job) => job.name)).toEqual(["jan"]);
    expect(second.next).toBeUndefined();
  });
});
