/**
 * `POST /api/alerts`: Azure Monitor action groups post Azure Backup's built-in alerts here, in the
 * common alert schema (see `application/monitorAlerts.ts`). Authenticated by the function key in
 * the webhook's URL, or, with App Service authentication on, by Entra ID (the action group's
 * secure webhook, holding the `Backup.AlertSender` app role). Answers 200 with what became of the
 * alert; a delivery that may succeed later answers 503, and Azure retries the webhook.
 */
import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { receiveMonitorAlert } from "../application/monitorAlerts.js";
import { appDependencies } from "../composition.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";
import { readJson } from "../http/requestBody.js";
import { notificationDependencies } from "../notificationsComposition.js";
import { invocationLogger } from "../observability/functionsLogger.js";

/** Answers one alert notification. */
export async function receiveMonitorAlertRequest(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  authorize(request, "Backup.AlertSender", deps.config.WEBSITE_AUTH_ENABLED);
  const body = await readJson(request);
  const result = await receiveMonitorAlert(
    body,
    deps,
    notificationDependencies,
    invocationLogger(context),
    new Date(),
  );
  return json(200, result);
}

app.http("receiveMonitorAlert", {
  route: "alerts",
  methods: ["POST"],
  authLevel: "function",
  handler: withProblemDetails(receiveMonitorAlertRequest),
});
