/**
 * The record of notification decisions (sent, held, digested) that digest planning reads.
 */
import { appendFile, mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { DeliveryRecord } from "../../domain/notifications/digest.js";
import { writeFileAtomic } from "../atomicFiles.js";

/** Stores {@link DeliveryRecord}s. */
export interface DeliveryLog {
  append(record: DeliveryRecord): Promise<void>;
  /** Records at or after `since`, in the order they were appended. */
  list(since: Date): Promise<DeliveryRecord[]>;
  /** Drops records before `before`; digests never look further back than their window. */
  prune(before: Date): Promise<void>;
}

/** A {@link DeliveryLog} in memory. */
export class InMemoryDeliveryLog implements DeliveryLog {
  #records: DeliveryRecord[] = [];

  async append(record: DeliveryRecord): Promise<void> {
    this.#records.push(record);
  }

  async list(since: Date): Promise<DeliveryRecord[]> {
    return this.#records.filter((record) => isSince(record, since));
  }

  async prune(before: Date): Promise<void> {
    this.#records = this.#records.filter((record) => isSince(record, before));
  }
}

/**
 * A {@link DeliveryLog} as a JSON-lines file. Appends are single `write`s of one line; a line
 * torn by a crash is skipped on reading. Pruning rewrites the file atomically.
 */
export class FileDeliveryLog implements DeliveryLog {
  readonly #file: string;

  constructor(folder: string) {
    this.#file = path.join(folder, "deliveries.jsonl");
  }

  async append(record: DeliveryRecord): Promise<void> {
    await mkdir(path.dirname(this.#file), { recursive: true });
    await appendFile(this.#file, `${JSON.stringify(record)}\n`, "utf8");
  }

  async list(since: Date): Promise<DeliveryRecord[]> {
    return (await this.#readAll()).filter((record) => isSince(record, since));
  }

  async prune(before: Date): Promise<void> {
    const kept = (await this.#readAll()).filter((record) => isSince(record, before));
    await writeFileAtomic(this.#file, kept.map((record) => `${JSON.stringify(record)}\n`).join(""));
  }

  async #readAll(): Promise<DeliveryRecord[]> {
    let text: string;
    try {
      text = await readFile(this.#file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    const records: DeliveryRecord[] = [];
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      try {
        records.push(JSON.parse(line) as DeliveryRecord);
      } catch {
        // A torn last line from a crash mid-append: the decision it held is lost, not the log.
      }
    }
    return records;
  }
}

function isSince(record: DeliveryRecord, since: Date): boolean {
  // A held record matters until its release, whenever it was written.
  const at =
    record.kind === "held"
      ? Math.max(Date.parse(record.at), Date.parse(record.releaseAt))
      : Date.parse(record.at);
  return at >= since.getTime();
}
