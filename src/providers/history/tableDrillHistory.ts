/**
 * The drill history in Azure Table Storage: the table `<TASKHUB_NAME>Drills` of the host's storage
 * account, shared by every instance of the app.
 *
 * @remarks Drills live in the partition `drill` under their id. One drill per backup instance is
 * held by a lock entity per instance (partition `lock`, keyed by a digest of the instance's ARM
 * id) naming the drill that holds it: it is taken by an insert (a second starter gets 409) or, once
 * its drill ended or was abandoned, by an ETag-conditional replace (a second starter gets 412), so
 * two instances of the app never both begin a drill of one backup instance. The lock is written
 * before the drill's record: a holder cut off in between finds its own lock when its step runs
 * again. `maxRunning` counts running drills before the lock is taken and is not itself atomic: two
 * instances may both begin the last free place's drill (a bound of scheduled drills' load, not a
 * guarantee).
 */
import { createHash } from "node:crypto";
import { odata, type TableClient } from "@azure/data-tables";
import { abandonedDrillAfterMs, type DrillRecord } from "../../domain/drills/drill.js";
import {
  compareDrills,
  drillCursorAt,
  isAfterCursor,
  matchesDrillFilter,
  type DrillPage,
  type DrillQuery,
} from "../../domain/drills/query.js";
import type { DrillHistoryPort } from "../ports.js";
import type { HistoryTableConnector } from "./tableJobHistory.js";

/** The table's name for a task hub. */
export function drillTableName(taskHub: string): string {
  return `${taskHub}Drills`;
}

const DRILL_PARTITION = "drill";
const LOCK_PARTITION = "lock";

interface DrillEntity {
  partitionKey: string;
  rowKey: string;
  instanceKey: string;
  verdict: string;
  /** The start, normalized to `toISOString()`: fixed width, so string order is time order. */
  start: string;
  drill: string;
}

interface LockEntity {
  partitionKey: string;
  rowKey: string;
  drillId: string;
  start: string;
  /** The holder as it began, answered to a refused starter while its record is not written yet. */
  drill: string;
}

const lower = (text: string) => text.toLowerCase();
const iso = (at: string) => new Date(Date.parse(at)).toISOString();

function lockKey(backupInstanceId: string): string {
  return createHash("sha256").update(lower(backupInstanceId)).digest("hex").slice(0, 40);
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" ? status : undefined;
}

function drillEntity(drill: DrillRecord): DrillEntity {
  return {
    partitionKey: DRILL_PARTITION,
    rowKey: drill.id,
    instanceKey: lower(drill.backupInstanceId),
    verdict: drill.verdict,
    start: iso(drill.startTime),
    drill: JSON.stringify(drill),
  };
}

/** The Table Storage drill history; see the module's remarks. */
export class TableDrillHistory implements DrillHistoryPort {
  readonly #connect: HistoryTableConnector;
  #ready: Promise<TableClient> | undefined;

  constructor(connect: HistoryTableConnector) {
    this.#connect = connect;
  }

  #client(): Promise<TableClient> {
    this.#ready ??= (async () => {
      const client = await this.#connect();
      await client.createTable();
      return client;
    })().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  async #read<T extends object>(
    client: TableClient,
    partitionKey: string,
    rowKey: string,
  ): Promise<(T & { etag: string }) | undefined> {
    try {
      return (await client.getEntity<T>(partitionKey, rowKey)) as T & { etag: string };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  /** @inheritdoc */
  async beginDrill(
    drill: DrillRecord,
    options: { readonly maxRunning?: number } = {},
  ): Promise<
    { begun: true } | { begun: false; running: DrillRecord } | { begun: false; atCapacity: number }
  > {
    const client = await this.#client();
    const notBefore = Date.parse(drill.startTime) - abandonedDrillAfterMs;
    for (let attempt = 0; attempt < 10; attempt += 1) {
      // The same drill again (a retried step, or the activity after the HTTP request): it stands.
      if (await this.#read<DrillEntity>(client, DRILL_PARTITION, drill.id)) return { begun: true };
      const key = lockKey(drill.backupInstanceId);
      const lock = await this.#read<LockEntity>(client, LOCK_PARTITION, key);
      if (lock && lock.drillId !== drill.id && Date.parse(lock.start) > notBefore) {
        const holder = await this.#read<DrillEntity>(client, DRILL_PARTITION, lock.drillId);
        // A holder without a record is between taking the lock and writing it: it runs.
        if (!holder || holder.verdict === "InProgress") {
          return {
            begun: false,
            running: JSON.parse(holder?.drill ?? lock.drill) as DrillRecord,
          };
        }
      }
      if (options.maxRunning !== undefined && lock?.drillId !== drill.id) {
        const running = (await this.runningDrills()).filter(
          (other) => Date.parse(other.startTime) > notBefore,
        );
        if (running.length >= options.maxRunning)
          return { begun: false, atCapacity: options.maxRunning };
      }
      const entity: LockEntity = {
        partitionKey: LOCK_PARTITION,
        rowKey: key,
        drillId: drill.id,
        start: iso(drill.startTime),
        drill: JSON.stringify(drill),
      };
      try {
        if (!lock) await client.createEntity(entity);
        else if (lock.drillId !== drill.id)
          await client.updateEntity(entity, "Replace", { etag: lock.etag });
      } catch (error) {
        const status = statusOf(error);
        // Another starter took the lock first: read again and answer what it holds.
        if (status === 409 || status === 412) continue;
        throw error;
      }
      await client.upsertEntity(drillEntity(drill), "Replace");
      return { begun: true };
    }
    throw new Error(`The drill history could not settle who drills '${drill.friendlyName}'`);
  }

  /** @inheritdoc */
  async finishDrill(drill: DrillRecord): Promise<void> {
    const client = await this.#client();
    await client.upsertEntity(drillEntity(drill), "Replace");
  }

  /** @inheritdoc */
  async getDrill(id: string): Promise<DrillRecord | undefined> {
    const client = await this.#client();
    const entity = await this.#read<DrillEntity>(client, DRILL_PARTITION, id);
    return entity ? (JSON.parse(entity.drill) as DrillRecord) : undefined;
  }

  async #list(filters: readonly string[]): Promise<DrillRecord[]> {
    const client = await this.#client();
    const found: DrillRecord[] = [];
    for await (const entity of client.listEntities<DrillEntity>({
      queryOptions: {
        filter: [odata`PartitionKey eq ${DRILL_PARTITION}`, ...filters].join(" and "),
      },
    }))
      found.push(JSON.parse(entity.drill) as DrillRecord);
    return found.sort(compareDrills);
  }

  /** @inheritdoc */
  async queryDrills(query: DrillQuery): Promise<DrillPage> {
    const bounds: string[] = [];
    if (query.from !== undefined) bounds.push(odata`start ge ${iso(query.from)}`);
    if (query.to !== undefined) bounds.push(odata`start lt ${iso(query.to)}`);
    if (query.verdict && query.verdict.length > 0)
      bounds.push(`(${query.verdict.map((verdict) => odata`verdict eq ${verdict}`).join(" or ")})`);
    const drills = (await this.#list(bounds)).filter(
      (drill) =>
        matchesDrillFilter(drill, query) &&
        (query.after === undefined || isAfterCursor(drill, query.after)),
    );
    const value = drills.slice(0, query.top);
    const last = value.at(-1);
    return drills.length > query.top && last ? { value, next: drillCursorAt(last) } : { value };
  }

  /** @inheritdoc */
  async runningDrills(): Promise<DrillRecord[]> {
    return (await this.#list([odata`verdict eq ${"InProgress"}`])).reverse();
  }

  /** @inheritdoc */
  async lastDrills(
    backupInstanceIds: readonly string[],
  ): Promise<ReadonlyMap<string, DrillRecord>> {
    const found = new Map<string, DrillRecord>();
    for (const id of new Set(backupInstanceIds.map(lower))) {
      const [latest] = await this.#list([odata`instanceKey eq ${id}`]);
      if (latest) found.set(id, latest);
    }
    return found;
  }
}
