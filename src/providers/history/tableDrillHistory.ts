/**
 * The drill history in Azure Table Storage: the table `<TASKHUB_NAME>Drills` of the host's storage
 * account, shared by every instance of the app.
 *
 * @remarks Drills live in the partition `drill` under their id. Who may begin is decided in the
 * partition `lock`, in one entity group transaction of two conditional writes: the lock of the
 * drill's backup instance (keyed by a digest of the instance's ARM id, naming the drill that holds
 * it) and the capacity row (`running`: the drills begun and not known to have ended). Each write
 * is an insert (a second starter gets 409) or a replace under the ETag read (a second starter gets
 * 412), and either both land or neither: so two instances of the app never both begin a drill of
 * one backup instance, nor both take the last place under `maxRunning`; the loser reads again and
 * answers what it finds. The capacity row drops drills that ended or were abandoned when it is
 * next written. The lock is written before the drill's record: a holder cut off in between finds
 * its own lock when its step runs again. Drills are pruned with the job history's retention.
 */
import { createHash } from "node:crypto";
import {
  odata,
  type TableClient,
  type TableEntity,
  type TransactionAction,
} from "@azure/data-tables";
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
import { openTableOnce, statusOf, type HistoryTableConnector } from "./historyTable.js";

/** The table's name for a task hub. */
export function drillTableName(taskHub: string): string {
  return `${taskHub}Drills`;
}

const DRILL_PARTITION = "drill";
const LOCK_PARTITION = "lock";
/** The capacity row's key: not a lock's (those are 40 hex digits). */
const CAPACITY_ROW = "running";
/** Attempts at the conditional writes: each one lost is a place another starter took. */
const BEGIN_ATTEMPTS = 64;

interface DrillEntity {
  partitionKey: string;
  rowKey: string;
  instanceKey: string;
  verdict: string;
  /** The start, normalized to `toISOString()`: fixed width, so string order is time order. */
  start: string;
  /** The record as JSON, its first {@link CHUNK_CHARS} characters; the rest in `drill1`, `drill2`, ... */
  drill: string;
  [chunk: `drill${number}`]: string;
}

interface LockEntity {
  partitionKey: string;
  rowKey: string;
  drillId: string;
  start: string;
  /** The holder as it began, answered to a refused starter while its record is not written yet. */
  drill: string;
}

/** A drill counted in the capacity row: its id and start (ISO 8601). */
interface CountedDrill {
  readonly id: string;
  readonly start: string;
}

interface CapacityEntity {
  partitionKey: string;
  rowKey: string;
  /** JSON list of {@link CountedDrill}. */
  drills: string;
}

type BeginAnswer =
  { begun: true } | { begun: false; running: DrillRecord } | { begun: false; atCapacity: number };

const lower = (text: string) => text.toLowerCase();
const iso = (at: string) => new Date(Date.parse(at)).toISOString();

function lockKey(backupInstanceId: string): string {
  return createHash("sha256").update(lower(backupInstanceId)).digest("hex").slice(0, 40);
}

/**
 * Characters of the record per string property: Table Storage holds at most 64 KiB (UTF-16) in
 * one, and a whole server's drill (a result per database) can be longer; an entity holds 1 MiB.
 */
const CHUNK_CHARS = 30_000;

function drillEntity(drill: DrillRecord): DrillEntity {
  const json = JSON.stringify(drill);
  const entity: DrillEntity = {
    partitionKey: DRILL_PARTITION,
    rowKey: drill.id,
    instanceKey: lower(drill.backupInstanceId),
    verdict: drill.verdict,
    start: iso(drill.startTime),
    drill: json.slice(0, CHUNK_CHARS),
  };
  for (let n = 1; n * CHUNK_CHARS < json.length; n += 1)
    entity[`drill${n}`] = json.slice(n * CHUNK_CHARS, (n + 1) * CHUNK_CHARS);
  return entity;
}

/** The record an entity holds, its chunks joined. */
function recordOf(entity: DrillEntity): DrillRecord {
  let json = entity.drill;
  for (let n = 1; typeof entity[`drill${n}`] === "string"; n += 1) json += entity[`drill${n}`];
  return JSON.parse(json) as DrillRecord;
}

/** The Table Storage drill history; see the module's remarks. */
export class TableDrillHistory implements DrillHistoryPort {
  readonly #client: () => Promise<TableClient>;

  constructor(connect: HistoryTableConnector) {
    this.#client = openTableOnce(connect);
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
  ): Promise<BeginAnswer> {
    const client = await this.#client();
    const notBefore = Date.parse(drill.startTime) - abandonedDrillAfterMs;
    const key = lockKey(drill.backupInstanceId);
    for (let attempt = 0; attempt < BEGIN_ATTEMPTS; attempt += 1) {
      // The same drill again (a retried step, or the activity after the HTTP request): it stands.
      if (await this.#read<DrillEntity>(client, DRILL_PARTITION, drill.id)) return { begun: true };
      const [lock, capacity] = await Promise.all([
        this.#read<LockEntity>(client, LOCK_PARTITION, key),
        this.#read<CapacityEntity>(client, LOCK_PARTITION, CAPACITY_ROW),
      ]);
      if (lock?.drillId === drill.id) {
        // Admitted before its record was written (cut off in between): it stands.
        await client.upsertEntity(drillEntity(drill), "Replace");
        return { begun: true };
      }
      if (lock && Date.parse(lock.start) > notBefore) {
        const holder = await this.#read<DrillEntity>(client, DRILL_PARTITION, lock.drillId);
        // A holder without a record is between taking the lock and writing it: it runs.
        if (!holder || holder.verdict === "InProgress") {
          return {
            begun: false,
            running: holder ? recordOf(holder) : (JSON.parse(lock.drill) as DrillRecord),
          };
        }
      }
      const running = await this.#stillRunning(client, capacity, notBefore);
      if (options.maxRunning !== undefined && running.length >= options.maxRunning)
        return { begun: false, atCapacity: options.maxRunning };
      const lockEntity: LockEntity = {
        partitionKey: LOCK_PARTITION,
        rowKey: key,
        drillId: drill.id,
        start: iso(drill.startTime),
        drill: JSON.stringify(drill),
      };
      const capacityEntity: CapacityEntity = {
        partitionKey: LOCK_PARTITION,
        rowKey: CAPACITY_ROW,
        drills: JSON.stringify([...running, { id: drill.id, start: iso(drill.startTime) }]),
      };
      try {
        await client.submitTransaction([
          conditionalWrite({ ...lockEntity }, lock),
          conditionalWrite({ ...capacityEntity }, capacity),
        ]);
      } catch (error) {
        const status = statusOf(error);
        // Another starter wrote the lock or the capacity row first, or the prune removed the old
        // lock just read (404 on its replace): read again.
        if (status === 409 || status === 412 || (status === 404 && lock)) continue;
        throw error;
      }
      await client.upsertEntity(drillEntity(drill), "Replace");
      return { begun: true };
    }
    throw new Error(`The drill history could not settle who drills '${drill.friendlyName}'`);
  }

  /**
   * The drills of the capacity row that still run: begun after `notBefore`, and recorded as
   * running or not recorded yet (between their lock and their record).
   */
  async #stillRunning(
    client: TableClient,
    capacity: CapacityEntity | undefined,
    notBefore: number,
  ): Promise<CountedDrill[]> {
    const counted = capacity ? (JSON.parse(capacity.drills) as CountedDrill[]) : [];
    const recent = counted.filter((entry) => Date.parse(entry.start) > notBefore);
    const records = await Promise.all(
      recent.map((entry) => this.#read<DrillEntity>(client, DRILL_PARTITION, entry.id)),
    );
    return recent.filter((_, n) => {
      const record = records[n];
      return record === undefined || record.verdict === "InProgress";
    });
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
    return entity ? recordOf(entity) : undefined;
  }

  async #list(filters: readonly string[]): Promise<DrillRecord[]> {
    const client = await this.#client();
    const found: DrillRecord[] = [];
    for await (const entity of client.listEntities<DrillEntity>({
      queryOptions: {
        filter: [odata`PartitionKey eq ${DRILL_PARTITION}`, ...filters].join(" and "),
      },
    }))
      found.push(recordOf(entity));
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

  /** @inheritdoc */
  async prune(before: string): Promise<number> {
    const client = await this.#client();
    const cutoff = iso(before);
    let removed = 0;
    for await (const entity of client.listEntities<DrillEntity>({
      queryOptions: {
        filter: odata`PartitionKey eq ${DRILL_PARTITION} and start lt ${cutoff}`,
        select: ["PartitionKey", "RowKey"],
      },
    })) {
      if (await deleteIfThere(client, entity.partitionKey, entity.rowKey)) removed += 1;
    }
    // A lock as old is its drill's, long ended or abandoned; under its ETag, so a lock taken
    // meanwhile stays.
    for await (const entity of client.listEntities<LockEntity>({
      queryOptions: {
        filter: odata`PartitionKey eq ${LOCK_PARTITION} and RowKey ne ${CAPACITY_ROW} and start lt ${cutoff}`,
      },
    }))
      await deleteIfThere(client, entity.partitionKey, entity.rowKey, entity.etag);
    return removed;
  }
}

/** An insert where nothing was read, else a replace under the ETag read: either fails if another wrote first. */
function conditionalWrite(
  entity: TableEntity,
  read: { readonly etag: string } | undefined,
): TransactionAction {
  return read ? ["update", entity, "Replace", { etag: read.etag }] : ["create", entity];
}

/** Deletes an entity (under its ETag when given); false when it was gone or changed. */
async function deleteIfThere(
  client: TableClient,
  partitionKey: string,
  rowKey: string,
  etag?: string,
): Promise<boolean> {
  try {
    await client.deleteEntity(partitionKey, rowKey, etag ? { etag } : {});
    return true;
  } catch (error) {
    const status = statusOf(error);
    if (status === 404 || status === 412) return false;
    throw error;
  }
}
