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
/** Every 15 seconds: a tag written with SQL is noticed about as fast as Event Grid would deliver it. */
export const localResourceEventsSchedule = "*/15 * * * * *";

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
  const page = await deps.directory.changesSince(await readWatermark(file));
  await deps.publisher.publish(page.changes.map(resourceWriteEventOf));
  await writeWatermark(file, page.watermark);
  return page.changes.length;
}
