/**
 * The local service's bound on the databases of one server dumped at a time, across every job of
 * the process: a whole-server backup's databases, the ad-hoc backups of server protection and
 * backup plans, and scheduled ones all wait for a slot of their server (see
 * `domain/protection/concurrency.ts`).
 *
 * @remarks The bound is measured again whenever a server has no dump running or waiting: its free
 * connections then are what the others leave, not what this process's own dumps hold.
 */
import pLimit, { type LimitFunction } from "p-limit";
import type pg from "pg";
import type { PostgresConnectionParams } from "../../../domain/protection/connectionString.js";
import { databasesAtOnce } from "../../../domain/protection/concurrency.js";
import { clientConfig, withClient } from "../pgConnection.js";

/** What sets a server's bound besides its free connections. */
export interface ServerSlotOptions {
  /** The setting (`LOCAL_BACKUP_CONCURRENCY`); two per core when absent. */
  readonly configured?: number | undefined;
  readonly cores: number;
}

/** A server's state of its slots, as a job log or a test reads it. */
export interface ServerSlotState {
  readonly bound: number;
  readonly running: number;
  readonly waiting: number;
}

/** Connections the server can still give to clients that are not superusers. */
async function freeConnections(client: pg.Client): Promise<number | undefined> {
  const row = (
    await client.query<{ free: number }>(
      `SELECT (pg_catalog.current_setting('max_connections')::int
               - pg_catalog.current_setting('superuser_reserved_connections')::int
               - (SELECT pg_catalog.count(*)::int FROM pg_catalog.pg_stat_activity
                   WHERE backend_type = 'client backend')) AS free`,
    )
  ).rows[0];
  return row?.free;
}

/** A server's identity for its slots: where it listens. */
export function serverKeyOf(params: PostgresConnectionParams): string {
  return `${(params.host ?? "").toLowerCase()}:${params.port ?? 5432}`;
}

/** Slots per server, shared by every job of one local service. */
export class ServerSlots {
  readonly #options: ServerSlotOptions;
  readonly #limits = new Map<string, LimitFunction>();
  /** Each server's count of free connections while it is being taken. */
  readonly #measuring = new Map<string, Promise<void>>();

  constructor(options: ServerSlotOptions) {
    this.#options = options;
  }

  /**
   * Runs `dump` of `database` once a slot of the server `params` names is free.
   *
   * @param connectionsPerDatabase - connections one dump holds at once (its jobs and its
   * snapshot's), which the server's free connections are divided by.
   */
  async run<T>(
    params: PostgresConnectionParams,
    database: string,
    connectionsPerDatabase: number,
    dump: () => Promise<T>,
  ): Promise<T> {
    const key = serverKeyOf(params);
    let limit = this.#limits.get(key);
    if (!limit) {
      limit = pLimit(databasesAtOnce({ ...this.#options }));
      this.#limits.set(key, limit);
    }
    let measuring = this.#measuring.get(key);
    if (!measuring && limit.activeCount + limit.pendingCount === 0) {
      // Dumps that come while the count is taken wait for it rather than take their own.
      measuring = this.#measure(limit, params, database, connectionsPerDatabase).finally(() =>
        this.#measuring.delete(key),
      );
      this.#measuring.set(key, measuring);
    }
    if (measuring) await measuring;
    return limit(dump);
  }

  /** Sets a server's bound from its free connections. */
  async #measure(
    limit: LimitFunction,
    params: PostgresConnectionParams,
    database: string,
    connectionsPerDatabase: number,
  ): Promise<void> {
    // A server that cannot be asked is bounded by the setting alone; the dump reports why.
    const free = await withClient(clientConfig(params, database), "Counting connections", (c) =>
      freeConnections(c),
    ).catch(() => undefined);
    limit.concurrency = databasesAtOnce({
      ...this.#options,
      freeConnections: free,
      connectionsPerDatabase,
    });
  }

  /** The slots of the server `params` names. */
  state(params: PostgresConnectionParams): ServerSlotState {
    const limit = this.#limits.get(serverKeyOf(params));
    return {
      bound: limit?.concurrency ?? databasesAtOnce({ ...this.#options }),
      running: limit?.activeCount ?? 0,
      waiting: limit?.pendingCount ?? 0,
    };
  }
}
