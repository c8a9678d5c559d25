/**
 * An {@link IdempotencyStore} in Azure Table Storage, shared by every instance of the app: a
 * redelivered event that lands on another instance finds the first delivery's record.
 */
import type { TableClient } from "@azure/data-tables";
import type { ClaimResult, IdempotencyStore } from "./idempotencyStore.js";
import { escapeTableKey, statusOf, type NotificationTable } from "./tableStorage.js";

/** The partition key prefix of delivery records; the delivery log uses another partition. */
const PARTITION_PREFIX = "delivery:";
/** One entity per partition: the key is the partition, so every lookup is a point read. */
const ROW_KEY = "state";
/** Rounds of create / read / take over before answering `busy`; each lost round means a rival moved. */
const MAX_ROUNDS = 4;

/** The entity of one key. */
interface DeliveryEntity {
  readonly partitionKey: string;
  readonly rowKey: string;
  /** The key as given, for people reading the table. */
  readonly key: string;
  readonly state: "claimed" | "done";
  /** Set while claimed. */
  readonly leaseUntil?: Date;
  /** Set once done. */
  readonly at?: Date;
}

/**
 * An {@link IdempotencyStore} as one entity per key in a Table Storage table, safe across
 * processes and machines.
 *
 * @remarks The semantics are {@link FileIdempotencyStore}'s, with every race settled by the
 * service rather than by the file system:
 * - a first claim is an insert, which fails with 409 when the entity exists, so of many instances
 *   claiming a new key at once exactly one wins;
 * - taking over an expired claim is a replace conditional on the ETag that was read, so of many
 *   instances taking over the same stale claim exactly one wins (the file store cannot promise that);
 * - `complete` replaces the entity unconditionally, as the file store's rename does;
 * - `release` deletes only the claim it read (ETag-conditional), so it never undoes a completion
 *   that happened in between.
 *
 * Records are kept forever, as the file store keeps its files; they are small, one per event and
 * channel.
 */
export class TableIdempotencyStore implements IdempotencyStore {
  readonly #table: NotificationTable;

  /** @param table - the table of notification state, created on first use. */
  constructor(table: NotificationTable) {
    this.#table = table;
  }

  async claim(key: string, now: Date, leaseMs: number): Promise<ClaimResult> {
    const claimed: DeliveryEntity = {
      ...this.#keys(key),
      key,
      state: "claimed",
      leaseUntil: new Date(now.getTime() + leaseMs),
    };
    return this.#table.run("claiming a delivery", async (client) => {
      for (let round = 0; round < MAX_ROUNDS; round += 1) {
        if (await insertIfAbsent(client, claimed)) return "claimed";
        const existing = await readEntity(client, claimed);
        // Released between our insert and our read: try the insert again.
        if (existing === undefined) continue;
        const verdict = verdictOf(existing, now);
        if (verdict !== "free") return verdict;
        if (await replaceIfUnchanged(client, claimed, existing.etag)) return "claimed";
        // Another instance took the stale claim over first, or completed it: judge what it wrote.
        const raced = await readEntity(client, claimed);
        if (raced === undefined) continue;
        const racedVerdict = verdictOf(raced, now);
        return racedVerdict === "free" ? "busy" : racedVerdict;
      }
      return "busy";
    });
  }

  async complete(key: string, now: Date): Promise<void> {
    const done: DeliveryEntity = { ...this.#keys(key), key, state: "done", at: now };
    await this.#table.run("completing a delivery", (client) =>
      client.upsertEntity(done, "Replace"),
    );
  }

  async release(key: string): Promise<void> {
    const keys = this.#keys(key);
    await this.#table.run("releasing a delivery", async (client) => {
      const existing = await readEntity(client, keys);
      if (existing?.state !== "claimed") return;
      try {
        await client.deleteEntity(keys.partitionKey, keys.rowKey, { etag: existing.etag });
      } catch (error) {
        // 412: completed or taken over since we read it, which must stand; 404: gone already.
        const status = statusOf(error);
        if (status !== 412 && status !== 404) throw error;
      }
    });
  }

  #keys(key: string): { partitionKey: string; rowKey: string } {
    return { partitionKey: `${PARTITION_PREFIX}${escapeTableKey(key)}`, rowKey: ROW_KEY };
  }
}

type StoredEntity = DeliveryEntity & { readonly etag: string };

async function insertIfAbsent(client: TableClient, entity: DeliveryEntity): Promise<boolean> {
  try {
    await client.createEntity(entity);
    return true;
  } catch (error) {
    if (statusOf(error) === 409) return false;
    throw error;
  }
}

async function readEntity(
  client: TableClient,
  keys: { partitionKey: string; rowKey: string },
): Promise<StoredEntity | undefined> {
  try {
    return await client.getEntity<DeliveryEntity>(keys.partitionKey, keys.rowKey);
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
}

async function replaceIfUnchanged(
  client: TableClient,
  entity: DeliveryEntity,
  etag: string,
): Promise<boolean> {
  try {
    await client.updateEntity(entity, "Replace", { etag });
    return true;
  } catch (error) {
    // 412: someone wrote since we read; 404: released since we read. Either way, not ours.
    const status = statusOf(error);
    if (status === 412 || status === 404) return false;
    throw error;
  }
}

function verdictOf(entity: DeliveryEntity, now: Date): ClaimResult | "free" {
  if (entity.state === "done") return "done";
  const leaseUntil = entity.leaseUntil instanceof Date ? entity.leaseUntil.getTime() : Number.NaN;
  // An unreadable lease counts as expired: a claim that can never expire would block the event forever.
  return leaseUntil > now.getTime() ? "busy" : "free";
}
