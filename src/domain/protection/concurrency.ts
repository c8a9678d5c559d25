/**
 * How many databases of one server are backed up (or restored) at a time: the one home of the
 * bound that the local provider's dumps, server protection, backup plans and restore drills share.
 *
 * @remarks Several databases at once pay off where one dump leaves the machine idle (a dump waits
 * on its server, its disk, or its own start-up); beyond the cores they only contend. A server's
 * connection limit bounds it too: every dump holds connections of its own, and a server whose
 * slots run out refuses everyone else, the applications it serves included.
 */

/** The most databases of one server at a time, whatever a setting asks. */
export const MAX_DATABASES_AT_ONCE = 32;

/**
 * Databases of one server whose protection (`protectServer`) runs at a time when the request
 * does not say: protection reads and writes metadata only, so the bound spares the control plane,
 * not the server.
 */
export const DEFAULT_PROTECTIONS_AT_ONCE = 4;

/** Connections a server keeps free for everyone else while its databases are backed up. */
export const CONNECTIONS_LEFT_FREE = 5;

/** What the bound is made of. */
export interface DatabasesAtOnceInput {
  /** The setting (`LOCAL_BACKUP_CONCURRENCY`); absent: two per core. */
  readonly configured?: number | undefined;
  /** The machine's cores. */
  readonly cores: number;
  /**
   * Connections the server can still give (its `max_connections`, less its reserved slots and
   * those in use); absent when unknown.
   */
  readonly freeConnections?: number | undefined;
  /** Connections one database's backup holds at once (its dump's jobs and the snapshot's). */
  readonly connectionsPerDatabase?: number | undefined;
}

/**
 * Databases of one server backed up at a time: the setting, else two per core (a dump is two
 * processes that take turns, `pg_dump` compressing and the server's backend reading, so one dump
 * keeps a core only partly busy), never more than {@link MAX_DATABASES_AT_ONCE}, and no more than
 * the server's free connections allow after {@link CONNECTIONS_LEFT_FREE}; at least 1.
 */
export function databasesAtOnce(input: DatabasesAtOnceInput): number {
  const wanted =
    input.configured !== undefined && Number.isFinite(input.configured)
      ? Math.floor(input.configured)
      : Math.max(2, 2 * Math.floor(input.cores));
  let bound = Math.min(wanted, MAX_DATABASES_AT_ONCE);
  if (input.freeConnections !== undefined && Number.isFinite(input.freeConnections)) {
    const perDatabase = Math.max(1, Math.floor(input.connectionsPerDatabase ?? 2));
    bound = Math.min(
      bound,
      Math.floor((input.freeConnections - CONNECTIONS_LEFT_FREE) / perDatabase),
    );
  }
  return Math.max(1, bound);
}

/**
 * `items` in consecutive windows of at most `width` (at least 1), in order: what an orchestration
 * starts together and awaits as one before the next window, so that never more than `width` run
 * at once and the order of starts is the same on every replay.
 */
export function windowsOf<T>(items: readonly T[], width: number): T[][] {
  const size = Math.max(1, Math.floor(Number.isFinite(width) ? width : 1));
  const windows: T[][] = [];
  for (let offset = 0; offset < items.length; offset += size)
    windows.push(items.slice(offset, offset + size));
  return windows;
}
