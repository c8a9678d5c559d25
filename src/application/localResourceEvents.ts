/**
 * Local resource events: plays the part of Azure's subscription system topic for the local
 * provider. The local resource directory's changes (new databases, tag changes made with
 * `COMMENT ON DATABASE`) become `Microsoft.Resources.ResourceWriteSuccess` CloudEvents, published
 * to the local runtime's `resources` topic, which delivers them to `eventGridAutoProtect`.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { stableUuid } from "../domain/events/stableId.js";
import { resourceWriteSuccessType } from "../domain/plans/autoProtect.js";
import { parseResourceId } from "../domain/protection/ids.js";
import type {
  EventPublisherPort,
  PublishedEvent,
  ResourceDirectoryPort,
  ResourceWriteChange,
} from "../providers/ports.js";

/** The local runtime's topic for resource events (see `eventgrid.local.json`). */
export const localResourcesTopicName = "resources";
/**
 * Every second, so that a tag written with SQL starts its protection within seconds. A look is
 * one catalogue query per server (`pg_database` and its comments, no user table is read) and
 * writes nothing when nothing changed.
 */
export const localResourceEventsSchedule = "* * * * * *";

/** Looks starting this soon after a slow look ended are skipped (see {@link ResourceEventPoll}). */
export const resourceEventsMinGapMs = 500;
/** A look taking longer than this is slow: longer than the schedule's period. */
export const resourceEventsSlowMs = 1000;

/** A directory change as the subscription system topic's CloudEvent would carry it. */
export function resourceWriteEventOf(change: ResourceWriteChange): PublishedEvent {
  const { subscriptionId } = parseResourceId(change.resourceId);
  const id = stableUuid([
    change.eventType,
    change.resourceId.toLowerCase(),
    change.reason,
    change.eventTime,
  ]);
  return {
    type: resourceWriteSuccessType,
    source: `/subscriptions/${subscriptionId}`,
    subject: change.resourceId,
    id,
    time: change.eventTime,
    // The shape of Event Grid's ResourceWriteSuccess data; like it, no tags.
    data: {
      resourceProvider: "Microsoft.DBforPostgreSQL",
      resourceUri: change.resourceId,
      operationName: change.operationName,
      status: "Succeeded",
      subscriptionId,
      correlationId: id,
    },
  };
}

/** Where the watermark of the directory's changes is kept between runs, in the state directory. */
export function watermarkFile(stateDir: string): string {
  return path.join(stateDir, "resource-events.watermark.json");
}

/** What publishing the directory's changes needs. */
export interface ResourceEventDependencies {
  /** `PGPROTECT_STATE_DIR`. */
  readonly stateDir: string;
  readonly directory: ResourceDirectoryPort;
  readonly publisher: EventPublisherPort;
}

async function readWatermark(file: string): Promise<string | undefined> {
  try {
    const json = JSON.parse(await readFile(file, "utf8")) as { watermark?: unknown };
    return typeof json.watermark === "string" ? json.watermark : undefined;
  } catch {
    // No watermark yet, or an unreadable one: every change is published again (at least once).
    return undefined;
  }
}

async function writeWatermark(file: string, watermark: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  // Written aside and renamed, so a crash never leaves half a watermark.
  await writeFile(`${file}.tmp`, `${JSON.stringify({ watermark })}\n`);
  await rename(`${file}.tmp`, file);
}

/**
 * Publishes the directory's changes since the stored watermark, then stores the new one; a
 * failed publish keeps the old watermark, so the changes go out again (at least once).
 *
 * @returns how many events were published.
 */
export async function publishResourceChanges(deps: ResourceEventDependencies): Promise<number> {
  const file = watermarkFile(deps.stateDir);
  const stored = await readWatermark(file);
  const page = await deps.directory.changesSince(stored);
  // Most looks find nothing new: then nothing is published and nothing written.
  if (page.changes.length === 0 && page.watermark === stored) return 0;
  if (page.changes.length > 0) await deps.publisher.publish(page.changes.map(resourceWriteEventOf));
  await writeWatermark(file, page.watermark);
  return page.changes.length;
}

/**
 * Publishes the directory's changes, skipping the looks that queued up behind a slow one.
 *
 * @remarks The runtime runs a timer's invocations one after another and keeps those that fall due
 * meanwhile; after a slow look (a server slow to answer, or unreachable until the connection times
 * out) each kept invocation would look again at once, and with a look slower than the schedule's
 * period they would pile up without end. So a look that starts less than `minGapMs` after a slow
 * one (longer than `slowMs`) ended is skipped: the next one on time looks. After a quick look
 * nothing is skipped (a look run by hand right after a scheduled one looks).
 */
export class ResourceEventPoll {
  readonly #minGapMs: number;
  readonly #slowMs: number;
  readonly #now: () => number;
  #lastEnded = Number.NEGATIVE_INFINITY;
  #lastTook = 0;

  constructor(options: { minGapMs?: number; slowMs?: number; now?: () => number } = {}) {
    this.#minGapMs = options.minGapMs ?? resourceEventsMinGapMs;
    this.#slowMs = options.slowMs ?? resourceEventsSlowMs;
    this.#now = options.now ?? (() => performance.now());
  }

  /** @returns how many events were published; 0 for a skipped look. */
  async run(deps: ResourceEventDependencies): Promise<number> {
    const started = this.#now();
    if (this.#lastTook > this.#slowMs && started - this.#lastEnded < this.#minGapMs) return 0;
    try {
      return await publishResourceChanges(deps);
    } finally {
      this.#lastEnded = this.#now();
      this.#lastTook = this.#lastEnded - started;
    }
  }
}
