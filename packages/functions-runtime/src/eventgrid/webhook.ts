/**
 * The Event Grid extension's webhook, `/runtime/webhooks/eventgrid?functionName=NAME`: the
 * subscription-validation handshake (Event Grid schema), the CloudEvents OPTIONS handshake, and
 * notifications dispatched one invocation per event, all in parallel — 202 when every
 * invocation succeeded, 500 with the first failure's message otherwise. The host checks the
 * `eventgrid_extension` key and Event Grid's 1 MB batch limit before the handler runs.
 */
import { randomUUID } from "node:crypto";
import type { FunctionInvoker, LocalHttpRequest, LocalHttpResponse } from "../contracts.js";
import { notFound, problem } from "../http/refusals.js";

/** Event Grid's most events in one delivery (`maxEventsPerBatch` takes 1 to 5,000). */
export const maxEventsPerDelivery = 5000;

/** Origins Event Grid sends in `WebHook-Request-Origin`; anything else is answered with the first. */
const eventGridOrigins = [
  "eventgrid.azure.net",
  "eventgrid.azure.us",
  "eventgrid.azure.eaglex.ic.gov",
  "eventgrid.azure.microsoft.scloud",
  "eventgrid.azure.cn",
];

function text(status: number, body: string): LocalHttpResponse {
  return { status, headers: { "content-type": "text/plain; charset=utf-8" }, body };
}

function badRequest(detail: string, request: LocalHttpRequest): LocalHttpResponse {
  return problem(400, "BAD_REQUEST", detail, { instance: request.url.pathname });
}

/** The `WebHook-Allowed-Origin` answer to a CloudEvents abuse-protection request. */
export function allowedOrigin(requestOrigin: string | undefined): string {
  const origin = requestOrigin?.trim().toLowerCase();
  return origin !== undefined && eventGridOrigins.includes(origin) ? origin : "eventgrid.azure.net";
}

/**
 * The validation code of a SubscriptionValidation request: `events[0].data.validationCode` for an
 * Event Grid array, or from a CloudEvent's double-encoded `data`.
 */
export function validationCode(body: unknown): string | undefined {
  const event = Array.isArray(body) ? (body[0] as unknown) : body;
  if (typeof event !== "object" || event === null) return undefined;
  let data = (event as { data?: unknown }).data;
  if (typeof data === "string") {
    try {
      data = JSON.parse(data) as unknown;
    } catch {
      return undefined;
    }
  }
  const code = (data as { validationCode?: unknown } | null | undefined)?.validationCode;
  return typeof code === "string" ? code : undefined;
}

/** Creates the webhook handler over the app's Event Grid triggers. */
export function createEventGridWebhook(
  invoker: FunctionInvoker,
): (request: LocalHttpRequest) => Promise<LocalHttpResponse> {
  return async (request) => {
    const functionName = request.url.searchParams.get("functionName") ?? "";
    const fn = invoker.get(functionName);
    const trigger = fn
      ? Object.entries(fn.bindings).find(
          ([, binding]) => binding.type.toLowerCase() === "eventgridtrigger",
        )
      : undefined;
    if (!fn || !trigger)
      return notFound(`cannot find function: '${functionName}'`, request.url.pathname);

    if (request.method.toUpperCase() === "OPTIONS") {
      return {
        status: 200,
        headers: {
          "webhook-allowed-origin": allowedOrigin(request.headers["webhook-request-origin"]),
        },
      };
    }

    const eventType = request.headers["aeg-event-type"]?.toLowerCase();
    if (eventType === "unsubscribe") return { status: 202 };
    if (eventType !== "subscriptionvalidation" && eventType !== "notification") {
      return badRequest(
        eventType === undefined
          ? "Missing aeg-event-type header."
          : `Unknown aeg-event-type '${eventType}'.`,
        request,
      );
    }

    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(request.body).toString("utf8")) as unknown;
    } catch {
      return badRequest("The request body is not valid JSON.", request);
    }

    if (eventType === "subscriptionvalidation") {
      const code = validationCode(body);
      if (code === undefined)
        return badRequest("The validation request has no data.validationCode.", request);
      return {
        status: 200,
        headers: { "content-type": "application/json; charset=utf-8" },
        body: JSON.stringify({ validationResponse: code }),
      };
    }

    const events = Array.isArray(body) ? (body as unknown[]) : [body];
    if (events.length > maxEventsPerDelivery) {
      return problem(
        413,
        "TOO_MANY_EVENTS",
        `A delivery holds at most ${maxEventsPerDelivery} events; this one has ${events.length}.`,
        { instance: request.url.pathname },
      );
    }
    const outcomes = await Promise.allSettled(
      events.map((event) =>
        invoker.invoke(fn.name, {
          inputData: [{ name: trigger[0], data: { json: JSON.stringify(event) } }],
          triggerMetadata: {
            data: { json: JSON.stringify((event as { data?: unknown } | null)?.data ?? null) },
            sys: {
              json: JSON.stringify({
                MethodName: fn.name,
                UtcNow: new Date().toISOString(),
                RandGuid: randomUUID(),
              }),
            },
          },
        }),
      ),
    );
    const failure = outcomes.find((outcome) => outcome.status === "rejected");
    if (failure)
      return text(500, (failure.reason as Error | undefined)?.message ?? "The function failed.");
    return { status: 202 };
  };
}
