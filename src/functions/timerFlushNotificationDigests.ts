import { app, type InvocationContext, type Timer } from "@azure/functions";
import type { DeliveryOutcome } from "../application/routeNotification.js";
import { invocationLogger } from "../observability/functionsLogger.js";
import { logEvents } from "../observability/logEvents.js";
import {
  notificationDependencies,
  type NotificationDependencies,
} from "../notificationsComposition.js";

/** Every five minutes: a digest waits at most this long after its window closes. */
export const flushDigestsSchedule = "0 */5 * * * *";

/**
 * Sends the digests of repeated failures whose windows have closed. Without it, failures held
 * back for a digest would wait for the next failure on the same channel.
 *
 * @throws NotificationDeliveryError when a digest could not be sent; the next run tries again.
 */
export async function flushNotificationDigests(
  _timer: Timer | undefined,
  context: InvocationContext,
  dependencies: () => Promise<NotificationDependencies> = notificationDependencies,
): Promise<readonly DeliveryOutcome[]> {
  const { dispatcher } = await dependencies();
  const outcomes = await dispatcher.flushDigests();
  if (outcomes.length > 0) {
    invocationLogger(context).emit(logEvents.notificationDigestsFlushed, {
      deliveries: outcomes.map((o) => `${o.channelId} ${o.result}`),
    });
  }
  return outcomes;
}

app.timer("timerFlushNotificationDigests", {
  schedule: flushDigestsSchedule,
  handler: async (timer, context) => {
    await flushNotificationDigests(timer, context);
  },
});
