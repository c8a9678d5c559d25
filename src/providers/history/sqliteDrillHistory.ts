/**
 * The drill history in SQLite (`node:sqlite`), in the job history's file under
 * `PGPROTECT_STATE_DIR` (its own table), for the local runtime.
 *
 * @remarks Beginning a drill is one `BEGIN IMMEDIATE` transaction (write lock first, then the
 * checks, then the insert), so two starters (a timer tick and an on-demand request, or two
 * processes on one state folder) can neither both begin a drill of one backup instance nor both
 * take the last place under `maxRunning`. Drills are pruned with the job history's retention.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import { abandonedDrillAfterMs, type DrillRecord } from "../../domain/drills/drill.js";
import { drillCursorAt, type DrillPage, type DrillQuery } from "../../domain/drills/query.js";
import type { DrillHistoryPort } from "../ports.js";
import { jobHistoryFileName, loadSqlite } from "./sqliteJobHistory.js";

const schema = `
CREATE TABLE IF NOT EXISTS drills (
  id TEXT PRIMARY KEY,
  instance_key TEXT NOT NULL,
  instance_name TEXT NOT NULL,
  instance_friendly TEXT NOT NULL,
  schedule TEXT NOT NULL,
  verdict TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  drill TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS drills_by_start ON drills (start_ms DESC, id DESC);
CREATE INDEX IF NOT EXISTS drills_by_instance ON drills (instance_key, start_ms DESC, id DESC);
CREATE INDEX IF NOT EXISTS drills_running ON drills (instance_key) WHERE verdict = 'InProgress';
`;

const lower = (text: string) => text.toLowerCase();

/** Opens (creating if needed) the drill history in `stateDir`'s history file. */
export async function openSqliteDrillHistory(stateDir: string): Promise<SqliteDrillHistory> {
  const { DatabaseSync } = await loadSqlite();
  mkdirSync(stateDir, { recursive: true });
  const db = new DatabaseSync(path.join(stateDir, jobHistoryFileName));
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
  db.exec(schema);
  return new SqliteDrillHistory(db);
}

/** The SQLite drill history; see {@link openSqliteDrillHistory}. */
export class SqliteDrillHistory implements DrillHistoryPort {
  readonly #db: DatabaseSync;
  #closed = false;

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  #row(drill: DrillRecord): SQLInputValue[] {
    return [
      drill.id,
      lower(drill.backupInstanceId),
      lower(drill.backupInstanceName),
      lower(drill.friendlyName),
      lower(drill.schedule ?? ""),
      drill.verdict,
      Date.parse(drill.startTime),
      JSON.stringify(drill),
    ];
  }

  /** @inheritdoc */
  async beginDrill(
    drill: DrillRecord,
    options: { readonly maxRunning?: number } = {},
  ): Promise<
    { begun: true } | { begun: false; running: DrillRecord } | { begun: false; atCapacity: number }
  > {
    const notBefore = Date.parse(drill.startTime) - abandonedDrillAfterMs;
    const maxRunning = options.maxRunning ?? Number.MAX_SAFE_INTEGER;
    // IMMEDIATE takes the write lock before the first read: a starter in another process waits
    // (busy_timeout) instead of counting the same free place.
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const answer = this.#beginHeld(drill, notBefore, maxRunning);
      this.#db.exec("COMMIT");
      return answer;
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /** The decision of {@link beginDrill}, inside its transaction. */
  #beginHeld(
    drill: DrillRecord,
    notBefore: number,
    maxRunning: number,
  ):
    | { begun: true }
    | { begun: false; running: DrillRecord }
    | { begun: false; atCapacity: number } {
    // The same drill again (a retried step): it stands.
    if (this.#db.prepare("SELECT 1 FROM drills WHERE id = ?").get(drill.id)) return { begun: true };
    const running = this.#db
      .prepare(
        `SELECT drill FROM drills WHERE instance_key = ? AND verdict = 'InProgress' AND start_ms > ?
         ORDER BY start_ms DESC LIMIT 1`,
      )
      .get(lower(drill.backupInstanceId), notBefore) as { drill: string } | undefined;
    if (running) return { begun: false, running: JSON.parse(running.drill) as DrillRecord };
    const counted = this.#db
      .prepare("SELECT count(*) AS n FROM drills WHERE verdict = 'InProgress' AND start_ms > ?")
      .get(notBefore) as { n: number };
    if (Number(counted.n) >= maxRunning) return { begun: false, atCapacity: maxRunning };
    this.#db
      .prepare(
        `INSERT INTO drills (id, instance_key, instance_name, instance_friendly, schedule, verdict, start_ms, drill)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(...this.#row(drill));
    return { begun: true };
  }

  /** @inheritdoc */
  async finishDrill(drill: DrillRecord): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO drills (id, instance_key, instance_name, instance_friendly, schedule, verdict, start_ms, drill)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET verdict = excluded.verdict, drill = excluded.drill`,
      )
      .run(...this.#row(drill));
  }

  /** @inheritdoc */
  async getDrill(id: string): Promise<DrillRecord | undefined> {
    const row = this.#db.prepare("SELECT drill FROM drills WHERE id = ?").get(id) as
      { drill: string } | undefined;
    return row ? (JSON.parse(row.drill) as DrillRecord) : undefined;
  }

  /** @inheritdoc */
  async queryDrills(query: DrillQuery): Promise<DrillPage> {
    const where: string[] = [];
    const values: SQLInputValue[] = [];
    if (query.from !== undefined) {
      where.push("start_ms >= ?");
      values.push(Date.parse(query.from));
    }
    if (query.to !== undefined) {
      where.push("start_ms < ?");
      values.push(Date.parse(query.to));
    }
    if (query.verdict && query.verdict.length > 0) {
      where.push(`verdict IN (${query.verdict.map(() => "?").join(", ")})`);
      values.push(...query.verdict);
    }
    if (query.instance !== undefined) {
      where.push("(instance_key = ? OR instance_name = ? OR instance_friendly = ?)");
      values.push(lower(query.instance), lower(query.instance), lower(query.instance));
    }
    if (query.schedule !== undefined) {
      where.push("schedule = ?");
      values.push(lower(query.schedule));
    }
    if (query.after) {
      const at = Date.parse(query.after.s);
      where.push("(start_ms < ? OR (start_ms = ? AND id < ?))");
      values.push(at, at, query.after.i);
    }
    const rows = this.#db
      .prepare(
        `SELECT drill FROM drills ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
         ORDER BY start_ms DESC, id DESC LIMIT ?`,
      )
      .all(...values, query.top + 1) as { drill: string }[];
    const drills = rows.map((row) => JSON.parse(row.drill) as DrillRecord);
    const value = drills.slice(0, query.top);
    const last = value.at(-1);
    return drills.length > query.top && last ? { value, next: drillCursorAt(last) } : { value };
  }

  /** @inheritdoc */
  async runningDrills(): Promise<DrillRecord[]> {
    const rows = this.#db
      .prepare("SELECT drill FROM drills WHERE verdict = 'InProgress' ORDER BY start_ms")
      .all() as { drill: string }[];
    return rows.map((row) => JSON.parse(row.drill) as DrillRecord);
  }

  /** @inheritdoc */
  async lastDrills(
    backupInstanceIds: readonly string[],
  ): Promise<ReadonlyMap<string, DrillRecord>> {
    const statement = this.#db.prepare(
      "SELECT drill FROM drills WHERE instance_key = ? ORDER BY start_ms DESC, id DESC LIMIT 1",
    );
    const found = new Map<string, DrillRecord>();
    for (const id of new Set(backupInstanceIds.map(lower))) {
      const row = statement.get(id) as { drill: string } | undefined;
      if (row) found.set(id, JSON.parse(row.drill) as DrillRecord);
    }
    return found;
  }

  /** @inheritdoc */
  async prune(before: string): Promise<number> {
    const removed = this.#db
      .prepare("DELETE FROM drills WHERE start_ms < ?")
      .run(Date.parse(before));
    return Number(removed.changes);
  }

  /** Closes the file; later calls fail. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}
