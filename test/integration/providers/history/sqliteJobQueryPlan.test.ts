/**
 * The SQLite history answers every filter of `GET /api/jobs` through an index that names the
 * filtered column, never by walking the whole history in start order: with a million jobs such a
 * walk took seconds for one instance's page (`bench/jobHistory.bench.ts`). SQLite's own query
 * plan for the statement the store runs says which.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { JobHistoryQuery } from "../../../../src/domain/history/jobQuery.js";
import {
  jobHistoryFileName,
  jobQuerySql,
  loadSqlite,
  openSqliteJobHistory,
} from "../../../../src/providers/history/sqliteJobHistory.js";

const folders: string[] = [];

afterEach(async () => {
  for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
});

/** The plan's lines for the store's statement of `query`, over a history file the store made. */
async function planOf(query: JobHistoryQuery): Promise<string[]> {
  const folder = await mkdtemp(path.join(tmpdir(), "pgprotect-plan-"));
  folders.push(folder);
  (await openSqliteJobHistory(folder)).close();
  const { DatabaseSync } = await loadSqlite();
  const db = new DatabaseSync(path.join(folder, jobHistoryFileName));
  try {
    const { sql, args } = jobQuerySql(query);
    return db
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...args)
      .map((row) => String(row["detail"]));
  } finally {
    db.close();
  }
}

const instanceId =
  "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/v/backupInstances/pg-sales-ledger";
const after = { s: "2026-06-01T00:00:00.000Z", n: "6f1c2d3e-0000-4000-8000-000000000001" };

describe("the SQLite job history's query plans", () => {
  it.each<[string, JobHistoryQuery, string]>([
    ["one backup instance by id", { top: 50, instance: instanceId }, "instance_key=?"],
    ["one backup instance by name", { top: 50, instance: "pg-sales-ledger" }, "instance_name=?"],
    [
      "one backup instance by friendly name",
      { top: 50, instance: "pg-sales/ledger" },
      "instance_friendly=?",
    ],
    ["a later page of one instance", { top: 50, instance: instanceId, after }, "instance_key=?"],
    [
      "failed jobs of one instance",
      { top: 50, status: ["Failed"], instance: instanceId },
      "instance_key=?",
    ],
    [
      "one datasource",
      { top: 50, datasourceId: "/subscriptions/s/x/databases/ledger" },
      "datasource_key=?",
    ],
    ["a datasource by name", { top: 50, datasourceName: "ledger" }, "datasource_name=?"],
    ["failed jobs", { top: 50, status: ["Failed"] }, "status=?"],
    ["restores of a vault", { top: 50, operation: ["Restore"], vault: "v" }, "operation=?"],
    [
      "a window",
      { top: 50, from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z" },
      "start_ms>? AND start_ms<?",
    ],
  ])("reads %s through the index of its filter", async (_name, query, searched) => {
    // Act
    const plan = await planOf(query);

    // Assert
    expect(
      plan.some((line) => line.includes("SEARCH jobs USING INDEX") && line.includes(searched)),
    ).toBe(true);
    expect(plan.filter((line) => line.startsWith("SCAN jobs"))).toEqual([]);
  });
});
