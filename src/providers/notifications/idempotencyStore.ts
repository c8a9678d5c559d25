/**
 * Idempotency of notification delivery. Event Grid delivers at least once, so the same event
 * can reach a handler twice, even concurrently; a delivery is claimed by key (event id and
 * channel) before sending and completed after, so a duplicate finds it done and sends nothing.
 *
 * @remarks A claim is a lease: a handler that crashed between claim and completion leaves a
 * claim that expires, so the event is delivered by a later attempt instead of never.
 */
import { createHash, randomBytes } from "node:crypto";
import { link, mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { fsyncFolder, TEMP_PREFIX, writeFileAtomic } from "../atomicFiles.js";

/** The outcome of {@link IdempotencyStore.claim}. */
export type ClaimResult =
  /** The caller owns the delivery and must `complete` or `release` it. */
  | "claimed"
  /** Delivered before: do nothing. */
  | "done"
  /** Another delivery holds an unexpired claim: try again later. */
  | "busy";

/** Keyed delivery state; keys are opaque strings such as `<eventId>:<channelId>`. */
export interface IdempotencyStore {
  /** Claims a key for `leaseMs` unless it is done or claimed by someone else. */
  claim(key: string, now: Date, leaseMs: number): Promise<ClaimResult>;
  /** Marks a claimed key delivered; later claims answer `done`. */
  complete(key: string, now: Date): Promise<void>;
  /** Gives a claim up after a failed delivery, so a retry can claim it at once. */
  release(key: string): Promise<void>;
}

type Entry =
  | { readonly key: string; readonly state: "claimed"; readonly leaseUntil: string }
  | { readonly key: string; readonly state: "done"; readonly at: string };

/** An {@link IdempotencyStore} in memory: one process, lost on restart. */
export class InMemoryIdempotencyStore implements IdempotencyStore {
  readonly #entries = new Map<string, Entry>();

  async claim(key: string, now: Date, leaseMs: number): Promise<ClaimResult> {
    const entry = this.#entries.get(key);
    const verdict = verdictOf(entry, now);
    if (verdict !== "free") return verdict;
    this.#entries.set(key, {
      key,
      state: "claimed",
      leaseUntil: new Date(now.getTime() + leaseMs).toISOString(),
    });
    return "claimed";
  }

  async complete(key: string, now: Date): Promise<void> {
    this.#entries.set(key, { key, state: "done", at: now.toISOString() });
  }

  async release(key: string): Promise<void> {
    if (this.#entries.get(key)?.state === "claimed") this.#entries.delete(key);
  }
}

/**
 * An {@link IdempotencyStore} as one small JSON file per key under a folder, safe across
 * processes on one machine.
 *
 * @remarks A first claim is published with `link(2)`, which fails if the name exists: two
 * processes racing for a new key cannot both win, and a reader never sees a half-written file.
 * Completion replaces the file by rename. Taking over an expired claim is a rename too; two
 * processes doing that at the very same moment may both deliver, which is the at-least-once
 * floor the lease already accepts.
 */
export class FileIdempotencyStore implements IdempotencyStore {
  readonly #folder: string;

  constructor(folder: string) {
    this.#folder = folder;
  }

  async claim(key: string, now: Date, leaseMs: number): Promise<ClaimResult> {
    await mkdir(this.#folder, { recursive: true });
    const file = this.#fileOf(key);
    const entry: Entry = {
      key,
      state: "claimed",
      leaseUntil: new Date(now.getTime() + leaseMs).toISOString(),
    };
    const existing = await this.#read(file);
    if (existing === undefined) {
      if (await this.#createExclusive(file, entry)) return "claimed";
      // Someone created it between our read and our link: judge what they wrote.
      const raced = verdictOf(await this.#read(file), now);
      return raced === "free" ? "busy" : raced;
    }
    const verdict = verdictOf(existing, now);
    if (verdict !== "free") return verdict;
    await writeFileAtomic(file, JSON.stringify(entry));
    return "claimed";
  }

  async complete(key: string, now: Date): Promise<void> {
    await writeFileAtomic(
      this.#fileOf(key),
      JSON.stringify({ key, state: "done", at: now.toISOString() } satisfies Entry),
    );
  }

  async release(key: string): Promise<void> {
    const file = this.#fileOf(key);
    const existing = await this.#read(file);
    if (existing?.state === "claimed") await rm(file, { force: true });
  }

  #fileOf(key: string): string {
    // Keys hold characters no file system likes (`:`, `/`); the hash also bounds the name length.
    return path.join(this.#folder, `${createHash("sha256").update(key).digest("hex")}.json`);
  }

  async #read(file: string): Promise<Entry | undefined> {
    try {
      return JSON.parse(await readFile(file, "utf8")) as Entry;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  async #createExclusive(file: string, entry: Entry): Promise<boolean> {
    const temp = path.join(
      this.#folder,
      `${TEMP_PREFIX}${path.basename(file)}-${randomBytes(6).toString("hex")}`,
    );
    await writeFileAtomic(temp, JSON.stringify(entry));
    try {
      await link(temp, file);
      await fsyncFolder(this.#folder);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw error;
    } finally {
      await rm(temp, { force: true });
    }
  }
}

function verdictOf(entry: Entry | undefined, now: Date): ClaimResult | "free" {
  if (entry === undefined) return "free";
  if (entry.state === "done") return "done";
  return Date.parse(entry.leaseUntil) > now.getTime() ? "busy" : "free";
}
