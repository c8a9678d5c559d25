/**
 * The job history in SQLite (`node:sqlite`), for the local runtime: one file under
 * `PGPROTECT_STATE_DIR`, in WAL mode, indexed for each filter of the jobs list in page order.
 *
 * @remarks Every write is one statement, so two processes writing the same file (the host and a
 * CLI, or a host restarted while the old one drains) cannot interleave: a job is one row, updated
 * only by a state at least as far along as the one it holds, and an alarm is inserted once.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type * as sqlite from "node:sqlite";
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import {
  cursorAt,
  statusRank,
  type JobHistoryPage,
  type JobHistoryQuery,
} from "../../domain/history/jobQuery.js";
import { lastSegment } from "../../domain/protection/ids.js";
import type { BackupJob } from "../../domain/protection/types.js";
import type { AlarmRecord, CompletedJobsQuery, JobHistoryPort } from "../ports.js";

/** The file name of the history under the state folder. */
export const jobHistoryFileName = "history.sqlite";

const schema = `
CREATE TABLE IF NOT EXISTS jobs (
  job_key TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER,
  status TEXT NOT NULL,
  rank INTEGER NOT NULL,
  operation TEXT NOT NULL,
  category TEXT NOT NULL,
  vault TEXT NOT NULL,
  instance_key TEXT NOT NULL,
  instance_name TEXT NOT NULL,
  instance_friendly TEXT NOT NULL,
  datasource_key TEXT NOT NULL,
  datasource_name TEXT NOT NULL,
  job TEXT NOT NULL,
  recorded_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_start ON jobs (start_ms DESC, name DESC);
CREATE INDEX IF NOT EXISTS jobs_by_instance ON jobs (instance_key, category, status, start_ms DESC);
CREATE INDEX IF NOT EXISTS jobs_running ON jobs (start_ms) WHERE status = 'InProgress';
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, start_ms DESC, name DESC);
CREATE INDEX IF NOT EXISTS jobs_by_operation ON jobs (operation, start_ms DESC, name DESC);
CREATE INDEX IF NOT EXISTS jobs_by_instance_key ON jobs (instance_key, start_ms DESC, name DESC);
CREATE INDEX IF NOT EXISTS jobs_by_instance_name ON jobs (instance_name, start_ms DESC, name DESC);
CREATE INDEX IF NOT EXISTS jobs_by_instance_friendly ON jobs (instance_friendly, start_ms DESC, name DESC);
CREATE INDEX IF NOT EXISTS jobs_by_datasource ON jobs (datasource_key, start_ms DESC, name DESC);
CREATE INDEX IF NOT EXISTS jobs_by_datasource_name ON jobs (datasource_name, start_ms DESC, name DESC);
CREATE TABLE IF NOT EXISTS alarms (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  job_key TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  event TEXT NOT NULL,
  published INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS alarms_by_job ON alarms (job_key);
CREATE INDEX IF NOT EXISTS alarms_by_time ON alarms (at_ms);
`;

/** Loads `node:sqlite`, silencing only its own "SQLite is an experimental feature" warning. */
export async function loadSqlite(): Promise<typeof sqlite> {
  const original = process.emitWarning;
  process.emitWarning = function filtered(
    this: unknown,
    warning: string | Error,
    ...rest: unknown[]
  ) {
    const text = typeof warning === "string" ? warning : warning.message;
    const type =
      typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    if (type === "ExperimentalWarning" && /sqlite/i.test(text)) return;
    return (original as (...args: unknown[]) => void).call(process, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    return await import("node:sqlite");
  } finally {
    process.emitWarning = original;
  }
}

const lower = (text: string) => text.toLowerCase();

/**
 * Opens (creating if needed) the history file in `stateDir`.
 *
 * @param clock - the time a record is stamped with.
 */
export async function openSqliteJobHistory(
  stateDir: string,
  clock: () => Date = () => new Date(),
): Promise<SqliteJobHistory> {
  const { DatabaseSync } = await loadSqlite();
  mkdirSync(stateDir, { recursive: true });
  const db = new DatabaseSync(path.join(stateDir, jobHistoryFileName));
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
  db.exec(schema);
  return new SqliteJobHistory(db, clock);
}

/** The SQLite job history; see {@link openSqliteJobHistory}. */
export class SqliteJobHistory implements JobHistoryPort {
  readonly #db: DatabaseSync;
  readonly #clock: () => Date;
  #closed = false;

  constructor(db: DatabaseSync, clock: () => Date) {
    this.#db = db;
    this.#clock = clock;
  }

  /** @inheritdoc */
  async recordJobs(jobs: readonly BackupJob[]): Promise<void> {
    const upsert = this.#db.prepare(`
      INSERT INTO jobs (job_key, name, start_ms, end_ms, status, rank, operation, category, vault,
        instance_key, instance_name, instance_friendly, datasource_key, datasource_name, job, recorded_ms)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (job_key) DO UPDATE SET
        end_ms = excluded.end_ms, status = excluded.status, rank = excluded.rank,
        job = excluded.job, recorded_ms = excluded.recorded_ms
      WHERE excluded.rank >= jobs.rank AND excluded.job <> jobs.job`);
    const now = this.#clock().getTime();
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      for (const job of jobs) {
        const end = job.endTime === undefined ? null : Date.parse(job.endTime);
        upsert.run(
          lower(job.id),
          job.name,
          Date.parse(job.startTime),
          end === null || Number.isNaN(end) ? null : end,
          job.status,
          statusRank(job.status),
          job.operation,
          job.operationCategory,
          lower(job.vaultName),
          lower(job.backupInstanceId),
          lower(lastSegment(job.backupInstanceId) ?? job.backupInstanceId),
          lower(job.backupInstanceFriendlyName),
          lower(job.dataSourceId),
          lower(job.dataSourceName),
          JSON.stringify(job),
          now,
        );
      }
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /** @inheritdoc */
  async queryJobs(query: JobHistoryQuery): Promise<JobHistoryPage> {
    const { sql, args } = jobQuerySql(query);
    const rows = this.#db.prepare(sql).all(...args);
    const jobs = rows.map((row) => JSON.parse(String(row["job"])) as BackupJob);
    const value = jobs.slice(0, query.top);
    const last = value.at(-1);
    return jobs.length > query.top && last ? { value, next: cursorAt(last) } : { value };
  }

  /** @inheritdoc */
  async runningJobs(): Promise<BackupJob[]> {
    return this.#db
      .prepare("SELECT job FROM jobs WHERE status = 'InProgress' ORDER BY start_ms")
      .all()
      .map((row) => JSON.parse(String(row["job"])) as BackupJob);
  }

  /** @inheritdoc */
  async completedJobs(query: CompletedJobsQuery): Promise<BackupJob[]> {
    return this.#db
      .prepare(
        `SELECT job FROM jobs WHERE instance_key = ? AND category = ? AND status = 'Completed'
           AND start_ms < ? ORDER BY start_ms DESC LIMIT ?`,
      )
      .all(
        lower(query.backupInstanceId),
        query.operationCategory,
        Date.parse(query.startedBefore),
        query.limit,
      )
      .map((row) => JSON.parse(String(row["job"])) as BackupJob);
  }

  /** @inheritdoc */
  async recordAlarm(alarm: AlarmRecord): Promise<AlarmRecord> {
    this.#db
      .prepare(
        `INSERT INTO alarms (id, kind, job_key, at_ms, event, published) VALUES (?, ?, ?, ?, ?, 0)
         ON CONFLICT (id) DO NOTHING`,
      )
      .run(
        alarm.id,
        alarm.kind,
        lower(alarm.jobId),
        Date.parse(alarm.at),
        JSON.stringify(alarm.event),
      );
    const row = this.#db.prepare("SELECT * FROM alarms WHERE id = ?").get(alarm.id);
    return row ? alarmOf(row, alarm.jobId) : alarm;
  }

  /** @inheritdoc */
  async markAlarmPublished(id: string): Promise<void> {
    this.#db.prepare("UPDATE alarms SET published = 1 WHERE id = ?").run(id);
  }

  /** @inheritdoc */
  async alarmsOfJob(jobId: string): Promise<AlarmRecord[]> {
    return this.#db
      .prepare("SELECT * FROM alarms WHERE job_key = ? ORDER BY at_ms")
      .all(lower(jobId))
      .map((row) => alarmOf(row, jobId));
  }

  /** @inheritdoc */
  async prune(before: string): Promise<number> {
    const cutoff = Date.parse(before);
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const jobs = this.#db.prepare("DELETE FROM jobs WHERE start_ms < ?").run(cutoff);
      this.#db.prepare("DELETE FROM alarms WHERE at_ms < ?").run(cutoff);
      this.#db.exec("COMMIT");
      return Number(jobs.changes);
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /** Closes the file. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}

/**
 * The statement and arguments of one page of {@link JobHistoryQuery}: newest first, one row past
 * the page so the caller knows whether another follows.
 *
 * @remarks Every filter has an index that ends in the page order (`start_ms DESC, name DESC`), so
 * a page reads about as many rows as it answers whichever filter is given, and a page deep in
 * the history costs what the first does (keyset paging on the last row's start and name).
 */
export function jobQuerySql(query: JobHistoryQuery): { sql: string; args: SQLInputValue[] } {
  const where: string[] = [];
  const args: SQLInputValue[] = [];
  if (query.from !== undefined) {
    where.push("start_ms >= ?");
    args.push(Date.parse(query.from));
  }
  if (query.to !== undefined) {
    where.push("start_ms < ?");
    args.push(Date.parse(query.to));
  }
  if (query.since !== undefined) {
    where.push("(start_ms >= ? OR end_ms >= ?)");
    args.push(Date.parse(query.since), Date.parse(query.since));
  }
  // With an instance or a datasource named, its index is the one to read: the unary `+` keeps
  // SQLite from choosing the status or operation index instead, which (without statistics) it
  // takes for as selective and which would read every failed job of every instance.
  const narrow =
    query.instance !== undefined ||
    query.datasourceId !== undefined ||
    query.datasourceName !== undefined
      ? "+"
      : "";
  if (query.status) {
    where.push(`${narrow}status IN (${query.status.map(() => "?").join(", ") || "NULL"})`);
    args.push(...query.status);
  }
  if (query.operation) {
    where.push(`${narrow}operation IN (${query.operation.map(() => "?").join(", ") || "NULL"})`);
    args.push(...query.operation);
  }
  if (query.vault !== undefined) {
    where.push("vault = ?");
    args.push(lower(query.vault));
  }
  if (query.vaultId !== undefined) {
    const prefix = `${lower(query.vaultId)}/backupinstances/`;
    where.push("substr(instance_key, 1, ?) = ?");
    args.push(prefix.length, prefix);
  }
  if (query.instance !== undefined) {
    where.push("(instance_key = ? OR instance_name = ? OR instance_friendly = ?)");
    args.push(lower(query.instance), lower(query.instance), lower(query.instance));
  }
  if (query.datasourceId !== undefined) {
    where.push("datasource_key = ?");
    args.push(lower(query.datasourceId));
  }
  if (query.datasourceName !== undefined) {
    where.push("(datasource_name = ? OR instance_friendly = ?)");
    args.push(lower(query.datasourceName), lower(query.datasourceName));
  }
  if (query.after) {
    const start = Date.parse(query.after.s);
    where.push("(start_ms < ? OR (start_ms = ? AND name < ?))");
    args.push(start, start, query.after.n);
  }
  return {
    sql: `SELECT job FROM jobs ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY start_ms DESC, name DESC LIMIT ?`,
    args: [...args, query.top + 1],
  };
}

function alarmOf(row: Record<string, unknown>, jobId: string): AlarmRecord {
  return {
    id: String(row["id"]),
    kind: String(row["kind"]) as AlarmRecord["kind"],
    jobId,
    at: new Date(Number(row["at_ms"])).toISOString(),
    event: JSON.parse(String(row["event"])) as AlarmRecord["event"],
    published: Number(row["published"]) === 1,
  };
}
