/**
 * Route a notification: one pgprotect CloudEvent, as Event Grid delivers it, to the channels its
 * routing rules name (Teams, email, digests), at most once per channel.
 */
import { isAppError } from "../domain/errors.js";
import { parsePgProtectEvent } from "../domain/events/schema.js";
import type { PgProtectEvent } from "../domain/events/types.js";
import type { EventLogger } from "../observability/eventLogger.js";
import { logEvents } from "../observability/logEvents.js";

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
  log: EventLogger,
  dependencies: () => Promise<{ readonly dispatcher: NotificationRouter }>,
): Promise<RouteNotificationsResult> {
  let parsed;
  try {
    parsed = parsePgProtectEvent(event);
  } catch (error) {
    const id = (event as { id?: unknown } | null)?.id;
    log.emit(logEvents.notificationIgnored, {
      cloudEventId: typeof id === "string" ? id : "(no id)",
      errorCode: isAppError(error) ? error.code : undefined,
      errorMessage: (error as Error).message,
    });
    return { status: "ignored", outcomes: [] };
  }
  const { dispatcher } = await dependencies();
  // A protection's failure names its operation: its notifications are found under it too.
  const operation =
    parsed.type === "PgProtect.Protection.Failed"
      ? log.with({ operationId: parsed.data.operationId })
      : log;
  try {
    const outcomes = await dispatcher.dispatch(parsed);
    operation.emit(logEvents.notificationRouted, {
      cloudEventId: parsed.id,
      eventType: parsed.type,
      deliveries: outcomes.map((o) => `${o.channelId} ${o.result}`),
    });
    return { status: "routed", eventId: parsed.id, outcomes };
  } catch (error) {
    // Messages of delivery errors never carry webhook URLs or credentials.
    if (isAppError(error) && !error.retryable) {
      operation.emit(logEvents.notificationNotDelivered, {
        cloudEventId: parsed.id,
        eventType: parsed.type,
        errorCode: error.code,
        errorMessage: error.message,
      });
      return { status: "routed", eventId: parsed.id, outcomes: [] };
    }
    operation.emit(logEvents.notificationRedelivery, {
      cloudEventId: parsed.id,
      eventType: parsed.type,
      errorCode: isAppError(error) ? error.code : undefined,
      errorMessage: (error as Error).message,
    });
    throw error;
  }
}
