/**
 * `timerLocalResourceEvents` (local provider only): plays the part of Azure's subscription system
 * topic. It turns the local resource directory's changes (new databases, tag changes made with
 * `COMMENT ON DATABASE`) into `Microsoft.Resources.ResourceWriteSuccess` CloudEvents and publishes
 * them to the local runtime's `resources` topic, which delivers them to `eventGridAutoProtect`.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { app, type InvocationContext, type Timer } from "@azure/functions";
import { appDependencies, topicCredential, type AppDependencies } from "../composition.js";
import { loadConfig, type Config } from "../config.js";
import { stableUuid } from "../domain/events/stableId.js";
import { parseResourceId } from "../domain/protection/ids.js";
import { resourceWriteSuccessType } from "../domain/plans/autoProtect.js";
import { createEventGridPublisher } from "../providers/events/eventGridPublisher.js";
import type {
  EventPublisherPort,
  PublishedEvent,
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

/** Where the watermark of the directory's changes is kept between runs. */
export function watermarkFile(config: Pick<Config, "PGPROTECT_STATE_DIR">): string {
  return path.join(config.PGPROTECT_STATE_DIR, "resource-events.watermark.json");
}

function readWatermark(file: string): string | undefined {
  try {
    const json = JSON.parse(readFileSync(file, "utf8")) as { watermark?: unknown };
    return typeof json.watermark === "string" ? json.watermark : undefined;
  } catch {
    return undefined;
  }
}

function writeWatermark(file: string, watermark: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify({ watermark })}\n`);
  renameSync(`${file}.tmp`, file);
}

/**
 * Publishes the directory's changes since the stored watermark, then stores the new one; a
 * failed publish keeps the old watermark, so the changes go out again (at least once).
 *
 * @returns how many events were published.
 */
export async function publishResourceChanges(
  deps: Pick<AppDependencies, "config" | "provider">,
  publisher: EventPublisherPort,
): Promise<number> {
  const file = watermarkFile(deps.config);
  const page = await deps.provider.directory.changesSince(readWatermark(file));
  await publisher.publish(page.changes.map(resourceWriteEventOf));
  writeWatermark(file, page.watermark);
  return page.changes.length;
}

function localResourcesPublisher(config: Config): EventPublisherPort {
  const endpoint = `http://${config.WEBSITE_HOSTNAME ?? "localhost:7071"}/runtime/topics/${localResourcesTopicName}`;
  return createEventGridPublisher({ endpoint, ...topicCredential(config, endpoint) });
}

function isLocalProvider(): boolean {
  try {
    return loadConfig().PGPROTECT_PROVIDER === "local";
  } catch {
    // Bad settings fail the host at start (index.ts); registering changes nothing then.
    return false;
  }
}

// In Azure the subscription's system topic sends these events; the timer exists only locally.
if (isLocalProvider()) {
  app.timer("timerLocalResourceEvents", {
    schedule: localResourceEventsSchedule,
    handler: async (_timer: Timer, context: InvocationContext) => {
      const deps = await appDependencies();
      const count = await publishResourceChanges(deps, localResourcesPublisher(deps.config));
      if (count > 0)
        context.log(
          `Published ${count} resource write event(s) to the '${localResourcesTopicName}' topic`,
        );
    },
  });
}
