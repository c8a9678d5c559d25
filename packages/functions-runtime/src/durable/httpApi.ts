/**
 * The Durable Functions HTTP management API (`/runtime/webhooks/durabletask/...`), as far as the
 * unmodified durable-functions `DurableClient` and the URLs of `createCheckStatusResponse` use it.
 */
import { isRuntimeError } from "../errors.js";
import type { LocalHttpRequest, LocalHttpResponse } from "../contracts.js";
import {
  isJsonMediaType,
  methodNotAllowed,
  notFound,
  problem,
  unsupportedMediaType,
} from "../http/refusals.js";
import type { DurableEngine } from "./engine.js";
import { EventType, eventTypeName, type HistoryEvent } from "./history.js";
import { parseJsonLenient } from "./payload.js";
import {
  terminalStatuses,
  type InstanceFilter,
  type InstanceRow,
  type RuntimeStatus,
} from "./store.js";

/** The path under which the extension's webhooks live. */
export const webhookPath = "/runtime/webhooks/durabletask";

/** The path under which the worker's RPC calls arrive, as on the extension's loopback listener. */
export const rpcPath = "/durabletask";

/** Where the management URLs point. */
export interface UrlSettings {
  readonly taskHub: string;
  readonly connectionName: string;
  /**
   * The `durabletask_extension` system key the URLs carry as `code=`, as Azure's do; absent, they
   * carry none.
   */
  readonly systemKey?: string;
}

/** `taskHub`, `connection` and, when there is one, `code`: what every management URL carries. */
function requiredQuery(urls: UrlSettings): string {
  const code = urls.systemKey === undefined ? "" : `&code=${encodeURIComponent(urls.systemKey)}`;
  return `taskHub=${encodeURIComponent(urls.taskHub)}&connection=${encodeURIComponent(urls.connectionName)}${code}`;
}

/**
 * The management URLs of one instance (`HttpManagementPayload`).
 *
 * @param origin - the host's own origin, never one taken from a request's `Host` header.
 */
export function managementPayload(
  origin: string,
  instanceId: string,
  urls: UrlSettings,
): Record<string, string> {
  const base = `${origin}${webhookPath}/instances/${encodeURIComponent(instanceId)}`;
  const query = requiredQuery(urls);
  return {
    id: instanceId,
    statusQueryGetUri: `${base}?${query}`,
    sendEventPostUri: `${base}/raiseEvent/{eventName}?${query}`,
    terminatePostUri: `${base}/terminate?reason={text}&${query}`,
    rewindPostUri: `${base}/rewind?reason={text}&${query}`,
    purgeHistoryDeleteUri: `${base}?${query}`,
    restartPostUri: `${base}/restart?${query}`,
    suspendPostUri: `${base}/suspend?reason={text}&${query}`,
    resumePostUri: `${base}/resume?reason={text}&${query}`,
  };
}

/**
 * The `durableClient` input binding value (`DurableOrchestrationClientToString`).
 *
 * @remarks The client builds its RPC URLs by resolving paths against `rpcBaseUrl`, which drops
 * any query and lets it add no header, so the system key rides in that base's path. In Azure the
 * RPC base is a loopback listener of the extension; here it shares the host's port, keyed.
 */
export function clientBindingData(origin: string, urls: UrlSettings): Record<string, unknown> {
  const management = managementPayload(origin, "INSTANCEID", urls);
  const query = requiredQuery(urls);
  const rpcKey = urls.systemKey === undefined ? "" : `${encodeURIComponent(urls.systemKey)}/`;
  return {
    taskHubName: urls.taskHub,
    connectionName: urls.connectionName,
    creationUrls: {
      createNewInstancePostUri: `${origin}${webhookPath}/orchestrators/{functionName}[/{instanceId}]?${query}`,
      createAndWaitOnNewInstancePostUri: `${origin}${webhookPath}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${query}`,
    },
    managementUrls: { ...management, id: "INSTANCEID" },
    baseUrl: `${origin}${webhookPath}`,
    requiredQueryStringParameters:
      urls.systemKey === undefined ? "" : `code=${encodeURIComponent(urls.systemKey)}`,
    rpcBaseUrl: `${origin}${rpcPath}/${rpcKey}`,
  };
}

function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): LocalHttpResponse {
  return {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(body),
  };
}

/**
 * A refusal of the API itself, not of the engine (whose errors carry their own code): a request
 * it cannot read (400) or an operation the local runtime does not offer (501).
 */
function message(status: 400 | 501, text: string, instance?: string): LocalHttpResponse {
  return problem(status, status === 400 ? "BAD_REQUEST" : "NOT_IMPLEMENTED", text, {
    ...(instance !== undefined ? { instance } : {}),
  });
}

/** `ToString("s") + "Z"`. */
function sortableTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function decodeBody(body: Uint8Array): string {
  return Buffer.from(body).toString("utf8");
}

/** A request body as JSON text; empty means no input. */
function bodyAsJson(body: Uint8Array): string | null {
  const text = decodeBody(body).trim();
  if (text === "") return null;
  JSON.parse(text);
  return text;
}

/** DTFx `OrchestrationStatus` codes to names. */
const statusByCode: Record<number, string> = {
  0: "Running",
  1: "Completed",
  2: "ContinuedAsNew",
  3: "Failed",
  4: "Canceled",
  5: "Terminated",
  6: "Pending",
  7: "Suspended",
};

const statusNames: readonly RuntimeStatus[] = [
  "Pending",
  "Running",
  "Completed",
  "ContinuedAsNew",
  "Failed",
  "Canceled",
  "Terminated",
  "Suspended",
];

function parseFilter(query: URLSearchParams): InstanceFilter {
  const from = query.get("createdTimeFrom");
  const to = query.get("createdTimeTo");
  const statuses = (query.get("runtimeStatus") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => statusNames.find((n) => n.toLowerCase() === s.toLowerCase()))
    .filter((s): s is RuntimeStatus => s !== undefined);
  return {
    ...(from ? { createdFrom: Date.parse(from) } : {}),
    ...(to ? { createdTo: Date.parse(to) } : {}),
    ...(statuses.length > 0 ? { statuses } : {}),
  };
}

/** The status API's history: readable event names, scheduling merged into completions. */
export function historyForStatus(
  history: readonly HistoryEvent[],
  showHistoryOutput: boolean,
): Record<string, unknown>[] {
  const scheduled = new Map<number, HistoryEvent>();
  for (const event of history) {
    if (
      event.EventType === EventType.TaskScheduled ||
      event.EventType === EventType.SubOrchestrationInstanceCreated
    ) {
      scheduled.set(event.EventId, event);
    }
  }
  const completedIds = new Set<number>();
  for (const event of history) {
    if (event.TaskScheduledId !== undefined) completedIds.add(event.TaskScheduledId);
  }
  const out: Record<string, unknown>[] = [];
  for (const event of history) {
    const type = event.EventType;
    if (type === EventType.OrchestratorStarted || type === EventType.OrchestratorCompleted)
      continue;
    if (
      (type === EventType.TaskScheduled || type === EventType.SubOrchestrationInstanceCreated) &&
      completedIds.has(event.EventId)
    )
      continue;
    const { EventType: _t, EventId: _i, IsPlayed: _p, ...fields } = event;
    const item: Record<string, unknown> = { EventType: eventTypeName(type), ...fields };
    switch (type) {
      case EventType.ExecutionStarted:
        item.FunctionName = event.Name;
        delete item.Name;
        delete item.OrchestrationInstance;
        delete item.ParentInstance;
        delete item.Version;
        delete item.Tags;
        delete item.Generation;
        item.Input = parseJsonLenient(event.Input);
        break;
      case EventType.TaskCompleted:
      case EventType.TaskFailed:
      case EventType.SubOrchestrationInstanceCompleted:
      case EventType.SubOrchestrationInstanceFailed: {
        const origin = scheduled.get(event.TaskScheduledId ?? -1);
        item.FunctionName = origin?.Name;
        item.ScheduledTime = origin?.Timestamp;
        delete item.TaskScheduledId;
        if (
          type === EventType.TaskCompleted ||
          type === EventType.SubOrchestrationInstanceCompleted
        ) {
          if (showHistoryOutput) item.Result = parseJsonLenient(event.Result);
          else delete item.Result;
        }
        break;
      }
      case EventType.TaskScheduled:
      case EventType.SubOrchestrationInstanceCreated:
        delete item.Version;
        delete item.Input;
        delete item.Tags;
        break;
      case EventType.EventRaised:
        item.Input = parseJsonLenient(event.Input);
        break;
      case EventType.ExecutionCompleted:
        item.OrchestrationStatus =
          statusByCode[event.OrchestrationStatus ?? -1] ?? event.OrchestrationStatus;
        if (showHistoryOutput) item.Result = parseJsonLenient(event.Result);
        else delete item.Result;
        break;
      default:
        break;
    }
    out.push(item);
  }
  return out;
}

function statusPayload(
  instance: InstanceRow,
  options: { showInput: boolean; history?: Record<string, unknown>[] },
): Record<string, unknown> {
  return {
    name: instance.name,
    instanceId: instance.instanceId,
    runtimeStatus: instance.status,
    input: options.showInput ? parseJsonLenient(instance.input) : null,
    customStatus: parseJsonLenient(instance.customStatus),
    output: parseJsonLenient(instance.output),
    createdTime: sortableTime(instance.createdAt),
    lastUpdatedTime: sortableTime(instance.updatedAt),
    ...(options.history ? { historyEvents: options.history } : {}),
  };
}

/**
 * The 415 for a body that is not JSON by its media type (or has none), which is also what keeps
 * a web page's simple cross-site POST (text/plain, a form) from starting or signalling anything.
 * An empty body carries nothing to misread, whatever its type.
 */
function jsonBodyRefusal(request: LocalHttpRequest): LocalHttpResponse | undefined {
  if (request.body.length === 0) return undefined;
  const contentType = request.headers["content-type"] ?? "";
  if (isJsonMediaType(contentType)) return undefined;
  return unsupportedMediaType(
    contentType === "" ? "a body without a type" : contentType,
    request.url.pathname,
  );
}

/**
 * Serves one management API request (the host has checked its key).
 *
 * @param origin - the host's own origin for the URLs in answers.
 */
export function handleDurableHttp(
  engine: DurableEngine,
  urls: UrlSettings,
  request: LocalHttpRequest,
  origin: string,
): LocalHttpResponse {
  try {
    return route(engine, urls, request, origin);
  } catch (error) {
    // The engine's refusal keeps its own code (`DURABLE_INSTANCE_EXISTS`), not the status's.
    if (isRuntimeError(error))
      return problem(error.httpStatus, error.code, error.message, {
        instance: request.url.pathname,
      });
    if (error instanceof SyntaxError)
      return message(
        400,
        `The request body is not valid JSON: ${error.message}`,
        request.url.pathname,
      );
    // A path segment with a malformed percent-escape (`%E0%A4%A`) names nothing.
    if (error instanceof URIError)
      return message(400, "The path is not validly percent-encoded.", request.url.pathname);
    throw error;
  }
}

function route(
  engine: DurableEngine,
  urls: UrlSettings,
  request: LocalHttpRequest,
  origin: string,
): LocalHttpResponse {
  const path = request.url.pathname;
  const lowerPath = path.toLowerCase();
  const prefix = lowerPath.includes(webhookPath) ? webhookPath : rpcPath;
  const at = lowerPath.indexOf(prefix);
  if (at < 0) return notFound("Not a Durable Functions webhook path.", path);
  const segments = path
    .slice(at + prefix.length)
    .split("/")
    .filter((s) => s !== "")
    .map((s) => decodeURIComponent(s));
  const method = request.method.toUpperCase();
  const query = request.url.searchParams;
  const [resource, id, action, extra] = segments;

  if (resource === "orchestrators" && id !== undefined) {
    if (method !== "POST") return methodNotAllowed(method, ["POST"], path);
    const refusal = jsonBodyRefusal(request);
    if (refusal) return refusal;
    const instance = engine.startNew(id, action, bodyAsJson(request.body));
    const payload = managementPayload(origin, instance.instanceId, urls);
    return json(202, payload, { Location: payload.statusQueryGetUri ?? "", "Retry-After": "10" });
  }
  if (resource !== "instances") {
    if (resource === "entities")
      return message(501, "Durable entities are not supported by the local runtime.", path);
    return notFound(`No Durable Functions API at '${path}'.`, path);
  }

  if (id === undefined) {
    const filter = parseFilter(query);
    if (method === "GET") {
      const showInput = query.get("showInput") === "true";
      return json(
        200,
        engine.listInstances(filter).map((i) => statusPayload(i, { showInput })),
      );
    }
    if (method === "DELETE") {
      if (filter.createdFrom === undefined)
        return message(400, "createdTimeFrom is required to purge instances.");
      let deleted = 0;
      for (const instance of engine.listInstances(filter)) {
        if (terminalStatuses.has(instance.status) && engine.purge(instance.instanceId)) deleted++;
      }
      return deleted === 0
        ? notFound("No instances matched.", path)
        : json(200, { instancesDeleted: deleted });
    }
    return methodNotAllowed(method, ["GET", "DELETE"], path);
  }

  if (action === undefined) {
    if (method === "GET") {
      const instance = engine.getInstance(id);
      if (!instance) return notFound(`No instance with ID '${id}' was found.`, path);
      const showHistory = query.get("showHistory") === "true";
      const payload = statusPayload(instance, {
        showInput: query.get("showInput") !== "false",
        ...(showHistory
          ? {
              history: historyForStatus(
                engine.history(id),
                query.get("showHistoryOutput") === "true",
              ),
            }
          : {}),
      });
      if (terminalStatuses.has(instance.status)) return json(200, payload);
      const location = new URL(
        `${webhookPath}/instances/${encodeURIComponent(id)}${request.url.search}`,
        origin,
      );
      if (urls.systemKey !== undefined) location.searchParams.set("code", urls.systemKey);
      return json(202, payload, { Location: location.href, "Retry-After": "5" });
    }
    if (method === "DELETE") {
      return engine.purge(id)
        ? json(200, { instancesDeleted: 1 })
        : notFound(`No instance with ID '${id}' was found.`, path);
    }
    return methodNotAllowed(method, ["GET", "DELETE"], path);
  }

  if (method !== "POST") return methodNotAllowed(method, ["POST"], path);
  if (action === "raiseEvent" && extra !== undefined) {
    const refusal = jsonBodyRefusal(request);
    if (refusal) return refusal;
    engine.raiseEvent(id, extra, bodyAsJson(request.body));
    return { status: 202 };
  }
  if (action === "terminate") {
    engine.terminate(id, query.get("reason"));
    return { status: 202 };
  }
  if (action === "suspend") {
    engine.suspend(id, query.get("reason"));
    return { status: 202 };
  }
  if (action === "resume") {
    engine.resume(id, query.get("reason"));
    return { status: 202 };
  }
  if (["rewind", "restart"].includes(action)) {
    return message(501, `'${action}' is not supported by the local runtime.`, path);
  }
  return notFound(`No Durable Functions API at '${path}'.`, path);
}
