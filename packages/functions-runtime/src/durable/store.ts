/**
 * Durable state on disk: instances, their history, their inbox of messages (timers are messages
 * that become visible when due) and the activity work queue, in one SQLite file under the
 * runtime's state folder. Every episode commits atomically (the episodes of a group commit share
 * one transaction), so a process killed at any moment restarts from a consistent state.
 *
 * The parsed histories of running instances are also kept in memory ({@link HistoryCache}) so
 * that an episode does not re-read and re-parse its whole history; SQLite stays the source of
 * truth, and the cache only ever holds committed events.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type * as sqlite from "node:sqlite";
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { EventType, type HistoryEvent } from "./history.js";
import {
  HistoryCache,
  deepFreeze,
  defaultHistoryCacheEvents,
  type CachedHistory,
} from "./historyCache.js";

/** Runtime status names as the status API prints them. */
export type RuntimeStatus =
  | "Pending"
  | "Running"
  | "Completed"
  | "ContinuedAsNew"
  | "Failed"
  | "Canceled"
  | "Terminated"
  | "Suspended";

/** Statuses after which an instance never runs again. */
export const terminalStatuses: ReadonlySet<RuntimeStatus> = new Set([
  "Completed",
  "Failed",
  "Canceled",
  "Terminated",
]);

/** Who started a sub-orchestration, and under which task id it waits. */
export interface ParentLink {
  readonly instanceId: string;
  readonly executionId: string;
  readonly taskScheduledId: number;
  readonly name: string;
}

/** One orchestration instance. JSON columns hold JSON text. */
export interface InstanceRow {
  readonly instanceId: string;
  readonly name: string;
  readonly executionId: string;
  readonly status: RuntimeStatus;
  readonly input: string | null;
  readonly output: string | null;
  readonly customStatus: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly parent: ParentLink | null;
}

/** A message waiting for an instance. */
export interface MessageRow {
  readonly id: number;
  readonly instanceId: string;
  /** The execution it belongs to; null for messages from outside (events, terminate). */
  readonly executionId: string | null;
  readonly visibleAt: number;
  readonly event: HistoryEvent;
}

/** A message to enqueue. */
export type NewMessage = Omit<MessageRow, "id">;

/** One activity execution waiting to run. */
export interface ActivityRow {
  readonly id: number;
  readonly instanceId: string;
  readonly executionId: string;
  readonly taskScheduledId: number;
  readonly name: string;
  /** `TaskScheduled.Input`. */
  readonly input: string;
}

/** Everything one episode changes, committed atomically. */
export interface EpisodeCommit {
  readonly instanceId: string;
  readonly consumedMessageIds: readonly number[];
  /** Start the history afresh (continue-as-new) before appending. */
  readonly resetHistory: boolean;
  readonly appendEvents: readonly HistoryEvent[];
  readonly instance: Pick<
    InstanceRow,
    "status" | "executionId" | "customStatus" | "output" | "updatedAt"
  > & {
    readonly input?: string | null;
  };
  /** Drop every other message still waiting for this instance (it finished). */
  readonly dropPendingMessages: boolean;
  readonly messages: readonly NewMessage[];
  readonly activities: ReadonlyArray<Omit<ActivityRow, "id">>;
  readonly newInstances: ReadonlyArray<{ readonly row: InstanceRow; readonly start: NewMessage }>;
}

/** An activity's outcome, recorded as a message to its orchestration. */
export interface ActivityCompletion {
  readonly activityId: number;
  readonly result: NewMessage;
}

/**
 * How one episode of a group commit ended: its queued activity rows, or the error that rolled
 * back that episode alone (the rest of the group committed).
 */
export type GroupCommitOutcome =
  | { readonly committed: true; readonly activities: ActivityRow[] }
  | { readonly committed: false; readonly error: unknown };

/** Options of {@link openDurableStore}. */
export interface DurableStoreOptions {
  /**
   * History events kept parsed in memory between episodes, over all running instances
   * (least recently used instances go first); 200,000 by default, 0 turns the cache off.
   */
  readonly historyCacheEvents?: number;
}

/** Filters of the list and purge endpoints. */
export interface InstanceFilter {
  readonly createdFrom?: number;
  readonly createdTo?: number;
  readonly statuses?: readonly RuntimeStatus[];
}

const schema = `
CREATE TABLE IF NOT EXISTS instances (
  instance_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  status TEXT NOT NULL,
  input TEXT,
  output TEXT,
  custom_status TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  parent TEXT
);
CREATE TABLE IF NOT EXISTS history (
  instance_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  event TEXT NOT NULL,
  PRIMARY KEY (instance_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  instance_id TEXT NOT NULL,
  execution_id TEXT,
  visible_at INTEGER NOT NULL,
  control INTEGER NOT NULL DEFAULT 0,
  event TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_visibility ON messages (visible_at);
CREATE INDEX IF NOT EXISTS messages_by_instance ON messages (instance_id, id);
CREATE TABLE IF NOT EXISTS activities (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  instance_id TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  task_scheduled_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  input TEXT NOT NULL
);
`;

type Row = Record<string, SQLInputValue>;

/** Messages that act on an instance's lifecycle and reach it even while it is suspended. */
const controlEventTypes: ReadonlySet<number> = new Set([
  EventType.ExecutionTerminated,
  EventType.ExecutionSuspended,
  EventType.ExecutionResumed,
]);

/**
 * Loads `node:sqlite`, silencing only its own "SQLite is an experimental feature" warning.
 */
async function loadSqlite(): Promise<typeof sqlite> {
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

/**
 * Opens (creating if needed) the Durable store of one task hub under `stateDir`. One store per
 * file: the history cache assumes that no other connection writes the file.
 */
export async function openDurableStore(
  stateDir: string,
  taskHub: string,
  options: DurableStoreOptions = {},
): Promise<DurableStore> {
  const { DatabaseSync } = await loadSqlite();
  mkdirSync(stateDir, { recursive: true });
  // The hub name becomes part of a file name: keep it to characters every file system accepts.
  const db = new DatabaseSync(
    join(stateDir, `durable-${taskHub.replace(/[^A-Za-z0-9_-]/g, "_")}.sqlite`),
  );
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
  db.exec(schema);
  return new DurableStore(db, options);
}

function toInstance(row: Row): InstanceRow {
  return {
    instanceId: String(row.instance_id),
    name: String(row.name),
    executionId: String(row.execution_id),
    status: String(row.status) as RuntimeStatus,
    input: row.input === null ? null : String(row.input),
    output: row.output === null ? null : String(row.output),
    customStatus: row.custom_status === null ? null : String(row.custom_status),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    parent: row.parent === null ? null : (JSON.parse(String(row.parent)) as ParentLink),
  };
}

function toMessage(row: Row): MessageRow {
  return {
    id: Number(row.id),
    instanceId: String(row.instance_id),
    executionId: row.execution_id === null ? null : String(row.execution_id),
    visibleAt: Number(row.visible_at),
    event: JSON.parse(String(row.event)) as HistoryEvent,
  };
}

/** Synchronous access to the Durable tables; see {@link openDurableStore}. */
export class DurableStore {
  private readonly db: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();
  /**
   * Invariant: an entry holds exactly the committed history rows of its instance, for the
   * execution id its instance row had when the entry was filled or extended.
   */
  private readonly historyCache: HistoryCache;
  /** Instances whose history the current transaction deleted; their entries must not come back. */
  private readonly historyRewritten = new Set<string>();
  /**
   * Instances that received a message since {@link takeNotified} last ran, oldest first: the
   * dispatcher finds work here without scanning the messages table after every episode.
   */
  private notified = new Set<string>();

  constructor(db: DatabaseSync, options: DurableStoreOptions = {}) {
    this.db = db;
    this.historyCache = new HistoryCache(options.historyCacheEvents ?? defaultHistoryCacheEvents);
  }

  /** Instances and events the history cache holds now (for tests and diagnostics). */
  get historyCacheSize(): { readonly instances: number; readonly events: number } {
    return this.historyCache.size;
  }

  /** A prepared statement, compiled once per SQL text. */
  private sql(text: string): StatementSync {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  close(): void {
    this.historyCache.clear();
    if (this.db.isOpen) this.db.close();
  }

  private transaction<T>(work: () => T): T {
    this.historyRewritten.clear();
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const result = work();
      this.db.exec("COMMIT");
      return result;
    } catch (error) {
      this.db.exec("ROLLBACK");
      throw error;
    }
  }

  getInstance(instanceId: string): InstanceRow | undefined {
    const row = this.sql("SELECT * FROM instances WHERE instance_id = ?").get(instanceId) as
      Row | undefined;
    return row ? toInstance(row) : undefined;
  }

  listInstances(filter: InstanceFilter = {}): InstanceRow[] {
    const rows = this.sql(
      "SELECT * FROM instances ORDER BY created_at, instance_id",
    ).all() as Row[];
    return rows.map(toInstance).filter((row) => matches(row, filter));
  }

  /**
   * The instance's history, oldest first. The array is the caller's own, but the events are
   * frozen: they are shared with the history cache and with later calls, so copy one to change it
   * (`{ ...event, IsPlayed: true }`).
   *
   * @param instance the instance's row as just read, when the caller has it (saves a query)
   */
  getHistory(
    instanceId: string,
    instance?: Pick<InstanceRow, "executionId" | "status">,
  ): HistoryEvent[] {
    const row = instance ?? this.getInstance(instanceId);
    // Only running instances have episodes to come; finished ones are read straight from SQLite.
    if (!row || terminalStatuses.has(row.status)) {
      return this.readHistory(instanceId);
    }
    const executionId = row.executionId;
    const cached = this.historyCache.get(instanceId, executionId);
    if (cached) return cached.slice();
    const events = this.readHistory(instanceId);
    this.historyCache.set(instanceId, executionId, events);
    return events.slice();
  }

  private readHistory(instanceId: string): HistoryEvent[] {
    const rows = this.sql("SELECT event FROM history WHERE instance_id = ? ORDER BY seq").all(
      instanceId,
    ) as Row[];
    return rows.map((row) => deepFreeze(JSON.parse(String(row.event)) as HistoryEvent));
  }

  /** Deletes an instance's history rows and forgets its cached history. */
  private deleteHistory(instanceId: string): void {
    this.sql("DELETE FROM history WHERE instance_id = ?").run(instanceId);
    this.historyCache.delete(instanceId);
    this.historyRewritten.add(instanceId);
  }

  /** Creates (or, when the old one is finished, replaces) an instance and queues its start. */
  createInstance(row: InstanceRow, start: NewMessage): void {
    this.transaction(() => this.insertInstance(row, start));
  }

  private insertInstance(row: InstanceRow, start: NewMessage): void {
    this.deleteInstanceData(row.instanceId);
    this.sql(
      `INSERT INTO instances (instance_id, name, execution_id, status, input, output, custom_status, created_at, updated_at, parent)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      row.instanceId,
      row.name,
      row.executionId,
      row.status,
      row.input,
      row.output,
      row.customStatus,
      row.createdAt,
      row.updatedAt,
      row.parent ? JSON.stringify(row.parent) : null,
    );
    this.insertMessage(start);
  }

  private deleteInstanceData(instanceId: string): void {
    this.sql("DELETE FROM instances WHERE instance_id = ?").run(instanceId);
    this.deleteHistory(instanceId);
    this.sql("DELETE FROM messages WHERE instance_id = ?").run(instanceId);
    this.sql("DELETE FROM activities WHERE instance_id = ?").run(instanceId);
  }

  private insertMessage(message: NewMessage): void {
    this.notified.add(message.instanceId);
    this.sql(
      "INSERT INTO messages (instance_id, execution_id, visible_at, control, event) VALUES (?, ?, ?, ?, ?)",
    ).run(
      message.instanceId,
      message.executionId,
      message.visibleAt,
      controlEventTypes.has(message.event.EventType) ? 1 : 0,
      JSON.stringify(message.event),
    );
  }

  /** Queues a message for an instance (a raised event, a terminate request). */
  enqueue(message: NewMessage): void {
    this.insertMessage(message);
  }

  /**
   * The instances that received a message (visible now or later) since the last call, in the
   * order they received it, and forgets them. A hint only: a rolled-back transaction may have
   * named an instance whose message is gone, and messages left from an earlier process are not
   * named; {@link readyInstanceIds} is the full answer.
   */
  takeNotified(): string[] {
    if (this.notified.size === 0) return [];
    const ids = [...this.notified];
    this.notified = new Set();
    return ids;
  }

  /**
   * Instances with at least one message visible at `now`, oldest message first. A suspended
   * instance counts only when a control message (resume, terminate) waits for it.
   */
  readyInstanceIds(now: number, limit: number): string[] {
    const rows = this.sql(
      `SELECT m.instance_id, MIN(m.id) AS first FROM messages m LEFT JOIN instances i ON i.instance_id = m.instance_id
         WHERE m.visible_at <= ? AND (i.status IS NULL OR i.status <> 'Suspended' OR m.control = 1)
         GROUP BY m.instance_id ORDER BY first LIMIT ?`,
    ).all(now, limit) as Row[];
    return rows.map((row) => String(row.instance_id));
  }

  /** Messages visible at `now`; only control messages when `controlOnly`. */
  readyMessages(instanceId: string, now: number, controlOnly = false): MessageRow[] {
    const rows = this.sql(
      `SELECT * FROM messages WHERE instance_id = ? AND visible_at <= ?${controlOnly ? " AND control = 1" : ""} ORDER BY id`,
    ).all(instanceId, now) as Row[];
    return rows.map(toMessage);
  }

  /** When the next message that is not yet visible becomes visible. */
  nextVisibleAt(now: number): number | undefined {
    const row = this.sql("SELECT MIN(visible_at) AS at FROM messages WHERE visible_at > ?").get(
      now,
    ) as Row | undefined;
    return row?.at === null || row?.at === undefined ? undefined : Number(row.at);
  }

  activities(): ActivityRow[] {
    const rows = this.sql("SELECT * FROM activities ORDER BY id").all() as Row[];
    return rows.map((row) => ({
      id: Number(row.id),
      instanceId: String(row.instance_id),
      executionId: String(row.execution_id),
      taskScheduledId: Number(row.task_scheduled_id),
      name: String(row.name),
      input: String(row.input),
    }));
  }

  /** Records an activity's outcome as a message to its orchestration and removes the work item. */
  completeActivity(activityId: number, result: NewMessage): void {
    this.completeActivities([{ activityId, result }]);
  }

  /** {@link completeActivity} for several activities, in one transaction. */
  completeActivities(completions: readonly ActivityCompletion[]): void {
    this.transaction(() => this.recordCompletions(completions));
  }

  private recordCompletions(completions: readonly ActivityCompletion[]): void {
    const deleteActivity = this.sql("DELETE FROM activities WHERE id = ?");
    for (const { activityId, result } of completions) {
      // A result for a work item that is gone (its instance was purged or replaced) is dropped.
      if (Number(deleteActivity.run(activityId).changes) > 0) this.insertMessage(result);
    }
  }

  /**
   * Commits one episode; returns the activity rows it queued. The instance's cached history is
   * extended with the appended events only once the transaction has committed.
   *
   * @throws whatever made the episode's transaction roll back (nothing of it is stored).
   */
  commitEpisode(commit: EpisodeCommit): ActivityRow[] {
    const [outcome] = this.commitGroup([commit], [], { isolate: false });
    if (!outcome?.committed) throw outcome?.error;
    return outcome.activities;
  }

  /**
   * Group commit: activity results and several episodes in one transaction, so that they share
   * one write of the touched pages to the WAL instead of one each. Each episode stays atomic on
   * its own: when one fails, the group is written again part by part, each in a transaction of
   * its own, and only the failing episode is lost (its outcome carries the error). A process
   * killed before the transaction commits keeps none of the group, and every episode in it runs
   * again.
   *
   * @param options.isolate false: a failing episode fails the whole group (it throws).
   * @throws when the activity results cannot be written (nothing of the group is stored).
   */
  commitGroup(
    commits: readonly EpisodeCommit[],
    completions: readonly ActivityCompletion[],
    options: { readonly isolate?: boolean } = {},
  ): GroupCommitOutcome[] {
    // Out of the cache while the transaction runs: if it rolls back, the entries are simply gone.
    const cached = commits.map((commit) => this.historyCache.take(commit.instanceId));
    const appended: string[][] = commits.map(() => []);
    let outcomes: GroupCommitOutcome[];
    try {
      outcomes = this.transaction(() => {
        if (completions.length > 0) this.recordCompletions(completions);
        return commits.map((commit, index) => ({
          committed: true as const,
          activities: this.writeEpisode(commit, appended[index] ?? [], cached[index]),
        }));
      });
    } catch (error) {
      if (!(options.isolate ?? true)) throw error;
      // Rare (a fault in the engine's own commit): part by part, so that only the failing
      // episode is lost. The cache entries taken stay out; the next reads go to SQLite.
      if (completions.length > 0) this.completeActivities(completions);
      return commits.map((commit): GroupCommitOutcome => {
        try {
          return {
            committed: true,
            activities: this.transaction(() => this.writeEpisode(commit, [], undefined)),
          };
        } catch (failure) {
          return { committed: false, error: failure };
        }
      });
    }
    commits.forEach((commit, index) => {
      const entry = cached[index];
      if (
        entry &&
        !this.historyRewritten.has(commit.instanceId) &&
        entry.executionId === commit.instance.executionId &&
        !terminalStatuses.has(commit.instance.status)
      ) {
        // Parsed from the text just stored, so the cache holds what a read from SQLite would give
        // (and no object the caller still holds).
        const events = (appended[index] ?? []).map((json) =>
          deepFreeze(JSON.parse(json) as HistoryEvent),
        );
        this.historyCache.set(
          commit.instanceId,
          entry.executionId,
          events.length === 0 ? entry.events : entry.events.concat(events),
        );
      }
    });
    return outcomes;
  }

  /**
   * Writes one episode inside the current transaction; pushes the appended events' JSON.
   *
   * @param cached the instance's cache entry taken for this commit: it holds exactly the stored
   *   history rows, so its length is the next sequence number (no query needed)
   */
  private writeEpisode(
    commit: EpisodeCommit,
    appended: string[],
    cached: CachedHistory | undefined,
  ): ActivityRow[] {
    const deleteMessage = this.sql("DELETE FROM messages WHERE id = ?");
    for (const id of commit.consumedMessageIds) deleteMessage.run(id);
    if (commit.dropPendingMessages) {
      this.sql("DELETE FROM messages WHERE instance_id = ?").run(commit.instanceId);
    }
    if (commit.resetHistory) this.deleteHistory(commit.instanceId);
    let seq =
      cached && !this.historyRewritten.has(commit.instanceId)
        ? cached.events.length
        : Number(
            (
              this.sql(
                "SELECT COALESCE(MAX(seq), -1) + 1 AS next FROM history WHERE instance_id = ?",
              ).get(commit.instanceId) as Row
            ).next,
          );
    const insertEvent = this.sql("INSERT INTO history (instance_id, seq, event) VALUES (?, ?, ?)");
    for (const event of commit.appendEvents) {
      const json = JSON.stringify(event);
      insertEvent.run(commit.instanceId, seq++, json);
      appended.push(json);
    }
    const i = commit.instance;
    if (i.input !== undefined) {
      this.sql("UPDATE instances SET input = ? WHERE instance_id = ?").run(
        i.input,
        commit.instanceId,
      );
    }
    this.sql(
      "UPDATE instances SET status = ?, execution_id = ?, custom_status = ?, output = ?, updated_at = ? WHERE instance_id = ?",
    ).run(i.status, i.executionId, i.customStatus, i.output, i.updatedAt, commit.instanceId);
    for (const message of commit.messages) this.insertMessage(message);
    for (const created of commit.newInstances) this.insertInstance(created.row, created.start);
    const insertActivity = this.sql(
      "INSERT INTO activities (instance_id, execution_id, task_scheduled_id, name, input) VALUES (?, ?, ?, ?, ?)",
    );
    return commit.activities.map((a) => {
      const result = insertActivity.run(
        a.instanceId,
        a.executionId,
        a.taskScheduledId,
        a.name,
        a.input,
      );
      return { ...a, id: Number(result.lastInsertRowid) };
    });
  }

  /** Deletes an instance and everything about it; returns whether it existed. */
  purge(instanceId: string): boolean {
    return this.transaction(() => {
      const existed = this.getInstance(instanceId) !== undefined;
      this.deleteInstanceData(instanceId);
      return existed;
    });
  }
}

function matches(row: InstanceRow, filter: InstanceFilter): boolean {
  if (filter.createdFrom !== undefined && row.createdAt < filter.createdFrom) return false;
  if (filter.createdTo !== undefined && row.createdAt > filter.createdTo) return false;
  if (filter.statuses && filter.statuses.length > 0 && !filter.statuses.includes(row.status))
    return false;
  return true;
}
