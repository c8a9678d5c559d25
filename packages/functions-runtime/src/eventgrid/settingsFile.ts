/**
 * The local Event Grid file (`eventgrid.local.json` by convention): the app's local topics, their
 * subscriptions and delivery settings, as the host's `eventGrid` option takes them.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import type { EventGridSettings } from "./topics.js";

const subscriptionSchema = z.object({
  name: z.string().min(1).optional(),
  function: z.string().min(1),
  includedEventTypes: z.array(z.string()).optional(),
  subjectBeginsWith: z.string().optional(),
  subjectEndsWith: z.string().optional(),
  maxDeliveryAttempts: z.number().int().min(1).max(30).optional(),
  eventTimeToLiveMinutes: z.number().positive().max(1440).optional(),
});

/** The schema of the local Event Grid file. */
export const eventGridFileSchema = z.object({
  topics: z
    .record(
      z.string(),
      z.object({
        key: z.string().optional(),
        inputSchema: z.enum(["EventGridSchema", "CloudEventSchemaV1_0"]).optional(),
        subscriptions: z.array(subscriptionSchema),
      }),
    )
    .optional(),
  timeScale: z.number().positive().optional(),
  maxDeliveryAttempts: z.number().int().min(1).max(30).optional(),
  eventTimeToLiveMinutes: z.number().positive().max(1440).optional(),
});

/**
 * Reads and checks a local Event Grid file.
 *
 * @throws Error naming the file and every problem in it (`<file>: <path>: <problem>; ...`).
 */
export function readEventGridFile(file: string): EventGridSettings {
  const parsed = eventGridFileSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success) {
    throw new Error(
      `${file}: ${parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}`,
    );
  }
  return parsed.data as EventGridSettings;
}
