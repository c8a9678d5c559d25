/**
 * A {@link DeliveryLog} in Azure Table Storage, shared by every instance of the app, so that
 * digests count the failures every instance delivered or held and the digest timer, wherever it
 * runs, flushes what any instance held.
 */
import { randomBytes } from "node:crypto";
import { odata } from "@azure/data-tables";
import type { DeliveryRecord } from "../../domain/notifications/digest.js";
import type { DeliveryLog } from "./deliveryLog.js";
import { statusOf, type NotificationTable } from "./tableStorage.js";

/**
 * The one partition of the log. Digest planning reads every channel's records of the last windows,
 * so a single partition serves it with one ordered scan; pruning to three digest windows keeps it
 * small, far below a partition's throughput limits at notification rates.
 */
const LOG_PARTITION = "log";
/** Deletes in flight at once while pruning. */
const PRUNE_CONCURRENCY = 16;

/** The entity of one record. */
interface LogEntity {
  readonly partitionKey: string;
  readonly rowKey: string;
  readonly kind: DeliveryRecord["kind"];
  readonly channelId: string;
  readonly eventId: string;
  /** When the record stops mattering to digests: its time, or a held record's release if later. */
  readonly effectiveAt: Date;
  /** The record as JSON, exactly as appended. */
  readonly record: string;
}

/**
 * A {@link DeliveryLog} as one entity per record in a single partition of a Table Storage table.
 *
 * @remarks Row keys are the append time in milliseconds, zero-padded, then a per-store counter and
 * a random instance id, so the service's row-key order is append order within one instance and
 * append time across instances (as close to "the order they were appended" as separate clocks
 * allow; digest planning compares records by their own times, not by position). `list` and `prune`
 * filter on `effectiveAt`, the same time the file log compares: a held record lives until its
 * release.
 */
export class TableDeliveryLog implements DeliveryLog {
  readonly #table: NotificationTable;
  readonly #instance = randomBytes(4).toString("hex");
  #lastMs = 0;
  #sequence = 0;

  /** @param table - the table of notification state, created on first use. */
  constructor(table: NotificationTable) {
    this.#table = table;
  }

  async append(record: DeliveryRecord): Promise<void> {
    const entity: LogEntity = {
      partitionKey: LOG_PARTITION,
      rowKey: this.#nextRowKey(),
      kind: record.kind,
      channelId: record.channelId,
      eventId: record.eventId,
      effectiveAt: new Date(effectiveMs(record)),
      record: JSON.stringify(record),
    };
    await this.#table.run("appending to the delivery log", (client) => client.createEntity(entity));
  }

  async list(since: Date): Promise<DeliveryRecord[]> {
    return this.#table.run("reading the delivery log", async (client) => {
      const records: DeliveryRecord[] = [];
      const entities = client.listEntities<Pick<LogEntity, "record">>({
        queryOptions: {
          filter: odata`PartitionKey eq ${LOG_PARTITION} and effectiveAt ge ${since}`,
          select: ["record"],
        },
      });
      for await (const entity of entities) {
        try {
          records.push(JSON.parse(entity.record) as DeliveryRecord);
        } catch {
          // Written by something else than this class: skip it, as the file log skips a torn line.
        }
      }
      return records;
    });
  }

  async prune(before: Date): Promise<void> {
    await this.#table.run("pruning the delivery log", async (client) => {
      const stale: string[] = [];
      const entities = client.listEntities<Pick<LogEntity, "rowKey">>({
        queryOptions: {
          filter: odata`PartitionKey eq ${LOG_PARTITION} and effectiveAt lt ${before}`,
          select: ["RowKey"],
        },
      });
      for await (const entity of entities) stale.push(entity.rowKey);
      // One by one rather than in a batch: another instance pruning at the same time makes some
      // deletes answer 404, which would fail a whole batch.
      for (let start = 0; start < stale.length; start += PRUNE_CONCURRENCY) {
        await Promise.all(
          stale.slice(start, start + PRUNE_CONCURRENCY).map(async (rowKey) => {
            try {
              await client.deleteEntity(LOG_PARTITION, rowKey);
            } catch (error) {
              if (statusOf(error) !== 404) throw error;
            }
          }),
        );
      }
    });
  }

  #nextRowKey(): string {
    const now = Date.now();
    // Never backwards within one store, even if the clock is set back.
    if (now > this.#lastMs) {
      this.#lastMs = now;
      this.#sequence = 0;
    } else {
      this.#sequence += 1;
    }
    return `${String(this.#lastMs).padStart(15, "0")}-${String(this.#sequence).padStart(6, "0")}-${this.#instance}`;
  }
}

function effectiveMs(record: DeliveryRecord): number {
  // The file log's rule: a held record matters until its release, whenever it was written.
  const at =
    record.kind === "held"
      ? Math.max(Date.parse(record.at), Date.parse(record.releaseAt))
      : Date.parse(record.at);
  // An unreadable time is never listed by the file log either; the epoch keeps it out and prunes it first.
  return Number.isNaN(at) ? 0 : at;
}
