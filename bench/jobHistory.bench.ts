/**
 * The job history under one million job records: `GET /api/jobs`-style windows, filters and
 * paging answered by the SQLite history the local runtime keeps, with the process's memory read
 * before and after the queries.
 *
 * Records: 1,000,000 jobs of 200 backup instances in 2 vaults over 400 days (a job every ~35 s),
 * 94 % completed, 5 % failed, 1 % cancelled; 3 % restores, 7 % on-demand backups. Queries: the
 * newest pages, a 30-day window in the middle and one at the oldest end, `status=Failed`, one
 * instance, one datasource, `since` a week, and failed jobs of one instance, each followed page
 * by page (50 a page, keyset paging) as a client following `nextLink` does.
 *
 * Run: `npm run build && node dist/bench/jobHistory.bench.js` (`JOB_HISTORY_BENCH_RECORDS` sets
 * another size). Goal: p95 of the pages under 200 ms, the resident set growing by less than
 * 128 MiB over the queries; the process exits non-zero when either is missed.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { JobHistoryQuery } from "../src/domain/history/jobQuery.js";
import type { BackupJob, JobOperation, JobStatus } from "../src/domain/protection/types.js";
import {
  jobHistoryFileName,
  openSqliteJobHistory,
} from "../src/providers/history/sqliteJobHistory.js";

const records = Number(process.env["JOB_HISTORY_BENCH_RECORDS"] ?? 1_000_000);
const instances = 200;
const vaults = ["bench-vault-a", "bench-vault-b"];
const pageSize = 50;
const pagesPerQuery = 10;
const goalP95Ms = 200;
const goalRssGrowthBytes = 128 * 1024 * 1024;
const day = 86_400_000;
const end = Date.UTC(2026, 10, 30);
const begin = end - 400 * day;
const stepMs = Math.floor((end - begin) / records);
const subscription = "/subscriptions/00000000-0000-0000-0000-00000000bench";

function instanceOf(index: number) {
  const vault = vaults[index % vaults.length]!;
  const vaultId = `${subscription}/resourceGroups/rg-bench/providers/Microsoft.DataProtection/backupVaults/${vault}`;
  const server = `pg-bench-${index % 20}`;
  const database = `db${index}`;
  const datasourceId = `${subscription}/resourceGroups/rg-bench/providers/Microsoft.DBforPostgreSQL/servers/${server}/databases/${database}`;
  const friendly = `${server}/${database}`;
  return {
    vault,
    vaultId,
    datasourceId,
    friendly,
    instanceId: `${vaultId}/backupInstances/${server}-${database}-bi`,
    name: database,
  };
}

/** A deterministic job: the i-th record, oldest first. */
function jobOf(i: number): BackupJob {
  const instance = instanceOf(i % instances);
  // A multiplicative hash, so that status, operation and instance vary independently.
  const roll = Math.imul(i, 2_654_435_761) >>> 0;
  const status: JobStatus =
    roll % 100 < 5 ? "Failed" : roll % 100 === 5 ? "Cancelled" : "Completed";
  const kind = (roll >>> 8) % 100;
  const operation: JobOperation =
    kind < 3 ? "Restore" : kind < 10 ? "OnDemandBackup" : "ScheduledBackup";
  const start = begin + i * stepMs;
  const minutes = 3 + (i % 40);
  const name = `00000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`;
  return {
    id: `${instance.vaultId}/backupJobs/${name}`,
    name,
    vaultName: instance.vault,
    operation,
    operationCategory: operation === "Restore" ? "Restore" : "Backup",
    isUserTriggered: operation !== "ScheduledBackup",
    status,
    startTime: new Date(start).toISOString(),
    endTime: new Date(start + minutes * 60_000).toISOString(),
    duration: `PT${minutes}M`,
    backupInstanceId: instance.instanceId,
    backupInstanceFriendlyName: instance.friendly,
    dataSourceId: instance.datasourceId,
    dataSourceName: instance.name,
    dataSourceType: "Microsoft.DBforPostgreSQL/servers/databases",
    dataSourceLocation: "westeurope",
    policyName: "weekly",
    ...(operation === "Restore" ? {} : { ruleName: "BackupWeekly", retentionTag: "Default" }),
    dataTransferredInBytes: 1_000_000 + (i % 1000) * 1000,
    ...(status === "Failed"
      ? {
          errorDetails: [
            {
              code: "BACKUP_FAILED",
              message: "pg_dump exited with status 1: connection refused",
            },
          ],
        }
      : {}),
  } as BackupJob;
}

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

const dir = mkdtempSync(path.join(tmpdir(), "pgprotect-history-bench-"));
const history = await openSqliteJobHistory(dir, () => new Date(end));
try {
  // Arrange: the records, written as the job watcher writes them (batches in one transaction).
  const writeStarted = performance.now();
  const batch = 10_000;
  for (let from = 0; from < records; from += batch) {
    const jobs: BackupJob[] = [];
    for (let i = from; i < Math.min(records, from + batch); i += 1) jobs.push(jobOf(i));
    await history.recordJobs(jobs);
  }
  const writeMs = performance.now() - writeStarted;
  const fileBytes = statSync(path.join(dir, jobHistoryFileName)).size;

  const probe = instanceOf(17);
  const queries: Record<string, Omit<JobHistoryQuery, "top" | "after">> = {
    "newest first, no filter": {},
    "30-day window in the middle": {
      from: new Date(begin + 180 * day).toISOString(),
      to: new Date(begin + 210 * day).toISOString(),
    },
    "30-day window at the oldest end": {
      from: new Date(begin).toISOString(),
      to: new Date(begin + 30 * day).toISOString(),
    },
    "status=Failed": { status: ["Failed"] },
    "one backup instance": { instance: probe.instanceId },
    "one instance by friendly name": { instance: probe.friendly },
    "one datasource": { datasourceId: probe.datasourceId },
    "since a week": { since: new Date(end - 7 * day).toISOString() },
    "restores of one vault": { operation: ["Restore"], vault: probe.vault },
    "failed jobs of one instance": { status: ["Failed"], instance: probe.instanceId },
  };

  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const timings: number[] = [];
  const lines: string[] = [];
  for (const [label, filter] of Object.entries(queries)) {
    const own: number[] = [];
    let after: JobHistoryQuery["after"];
    let rows = 0;
    for (let page = 0; page < pagesPerQuery; page += 1) {
      const started = performance.now();
      const answer = await history.queryJobs({
        ...filter,
        top: pageSize,
        ...(after ? { after } : {}),
      });
      own.push(performance.now() - started);
      rows += answer.value.length;
      if (!answer.next) break;
      after = answer.next;
    }
    timings.push(...own);
    lines.push(
      `  ${label.padEnd(34)} ${String(own.length).padStart(2)} pages, ${String(rows).padStart(3)} rows, ` +
        `worst ${Math.max(...own).toFixed(1)} ms, p50 ${percentile(own, 50).toFixed(1)} ms`,
    );
  }
  const rssAfter = process.memoryUsage().rss;

  const p95 = percentile(timings, 95);
  const growth = rssAfter - rssBefore;
  console.log(`job history (SQLite): ${records.toLocaleString("en")} job records`);
  console.log(
    `  machine: ${availableParallelism()} CPUs, load average ${(loadavg()[0] ?? 0).toFixed(1)} at the end`,
  );
  console.log(
    `  written in ${(writeMs / 1000).toFixed(1)} s (${Math.round(records / (writeMs / 1000)).toLocaleString("en")} records/s), file ${mib(fileBytes)}`,
  );
  for (const line of lines) console.log(line);
  console.log(
    `  pages: ${timings.length}, p50 ${percentile(timings, 50).toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, worst ${Math.max(...timings).toFixed(1)} ms`,
  );
  console.log(
    `  rss before the queries ${mib(rssBefore)}, after ${mib(rssAfter)} (growth ${mib(Math.max(0, growth))})`,
  );
  const metTime = p95 < goalP95Ms;
  const metMemory = growth < goalRssGrowthBytes;
  console.log(`  goal: p95 under ${goalP95Ms} ms -> ${metTime ? "met" : "MISSED"}`);
  console.log(
    `  goal: rss growth under ${mib(goalRssGrowthBytes)} -> ${metMemory ? "met" : "MISSED"}`,
  );
  if (!metTime || !metMemory) process.exitCode = 1;
} finally {
  history.close();
  rmSync(dir, { recursive: true, force: true });
}

/** The p-th percentile (nearest rank) of the values. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(0, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[rank] ?? 0;
}
