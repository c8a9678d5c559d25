/**
 * Route a notification: one pgprotect CloudEvent, as Event Grid delivers it, to the channels its
 * routing rules name (Teams, email, digests), at most once per channel.
 */
import { isAppError } from "../domain/errors.js";
import { parsePgProtectEvent } from "../domain/events/schema.js";
import type { PgProtectEvent } from "../domain/events/types.js";

/** What one channel's delivery came to (the dispatcher's outcome, as this story reads it). */
export interface DeliveryOutcome {
  readonly channelId: string;
  readonly result: "sent" | "digest" | "held" | "duplicate" | "failed";
  readonly error?: Error;
}

/** Routes an event to its channels (the notification dispatcher). */
export interface NotificationRouter {
  /** @throws when a channel failed; `retryable` on the error says whether to deliver again. */
  dispatch(event: PgProtectEvent): Promise<readonly DeliveryOutcome[]>;
}

/** Where the outcome of a delivery is logged (a trigger's `InvocationContext`). */
export interface NotificationLog {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** What one delivery of an event came to. */
export interface RouteNotificationsResult {
  /** `ignored` when the event is not a valid pgprotect event (it is acknowledged, not retried). */
  readonly status: "routed" | "ignored";
  readonly eventId?: string;
  readonly outcomes: readonly DeliveryOutcome[];
}

/**
 * Routes one pgprotect CloudEvent to the channels its rules name.
 *
 * @remarks Event Grid delivers at least once; the dispatcher records each event and channel it
 * delivered, so a redelivered event sends nothing twice. A channel that failed in a way worth
 * retrying makes this throw, and Event Grid redelivers the event later: only the failed channels
 * are tried again. An event that cannot be valid (unknown type, malformed payload) or a refusal
 * that retrying cannot fix is logged and acknowledged, since redelivery would only fail again.
 *
 * @throws NotificationDeliveryError when a channel failed and a later attempt may succeed.
 */
export async function routeNotifications(
  event: unknown,
  context: NotificationLog,
  dependencies: () => Promise<{ readonly dispatcher: NotificationRouter }>,
): Promise<RouteNotificationsResult> {
  let parsed;
  try {
    parsed = parsePgProtectEvent(event);
  } catch (error) {
    const id = (event as { id?: unknown } | null)?.id;
    context.warn(
      `Event ${typeof id === "string" ? id : "(no id)"} ignored: ${isAppError(error) ? `${error.code}: ` : ""}${(error as Error).message}`,
    );
    return { status: "ignored", outcomes: [] };
  }
  const { dispatcher } = await dependencies();
  try {
    const outcomes = await dispatcher.dispatch(parsed);
    context.log(
      `Event ${parsed.id} (${parsed.type}): ${outcomes.length === 0 ? "no channel" : outcomes.map((o) => `${o.channelId} ${o.result}`).join(", ")}`,
    );
    return { status: "routed", eventId: parsed.id, outcomes };
  } catch (error) {
    // Messages of delivery errors never carry webhook URLs or credentials.
    if (isAppError(error) && !error.retryable) {
      context.error(
        `Event ${parsed.id} (${parsed.type}) was not delivered everywhere: ${error.message}`,
      );
      return { status: "routed", eventId: parsed.id, outcomes: [] };
    }
    context.warn(
      `Event ${parsed.id} (${parsed.type}) will be delivered again: ${(error as Error).message}`,
    );
    throw error;
  }
}
