import { app } from "@azure/functions";
import { routeNotifications } from "../application/routeNotification.js";
import { invocationLogger } from "../observability/functionsLogger.js";
import { notificationDependencies } from "../notificationsComposition.js";

// A delivery that may succeed later throws, and Event Grid redelivers the event.
app.eventGrid<unknown>("eventGridRouteNotifications", {
  handler: async (event, context) => {
    await routeNotifications(event, invocationLogger(context), notificationDependencies);
  },
});
