/**
 * The host's HTTP front door (node:http): HTTP triggers under the route prefix, extension
 * webhooks under `/runtime/webhooks/{extension}`, the local Event Grid topics, and the admin API.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { isRuntimeError } from "../errors.js";
import type { DurableExtension, LocalHttpRequest, LocalHttpResponse } from "../contracts.js";
import type { HostLog } from "../core/hostLog.js";
import type { LoggedInvoker } from "../core/loggedInvoker.js";
import {
  hasSystemKey,
  isAuthorized,
  presentedKey,
  type HostKeys,
  type SystemKeyName,
} from "./hostKeys.js";
import {
  flattenHeaders,
  allowedHttpMethods,
  matchHttpRoute,
  serveHttpTrigger,
  type HttpRoute,
} from "./httpTriggers.js";
import {
  eventGridMaxBatchBytes,
  methodNotAllowed,
  notFound,
  problem,
  readBodyWithin,
  unauthorized,
} from "./refusals.js";

/** Serves one local request (webhooks, topics, admin). */
export type LocalHttpHandler = (request: LocalHttpRequest) => Promise<LocalHttpResponse>;

/** Everything the server routes to, available once the app has loaded. */
export interface HostRoutes {
  readonly invoker: LoggedInvoker;
  readonly httpRoutes: readonly HttpRoute[];
  /** Without slashes; "" serves HTTP triggers at the root. */
  readonly routePrefix: string;
  /** The keys that open the doors: function and master keys, the extensions' system keys. */
  readonly keys: HostKeys;
  /** The largest request body read for HTTP triggers, the Durable API and the admin API. */
  readonly maxRequestBodyBytes: number;
  readonly log: HostLog;
  /** The library's HTTP-stream proxy, when the app enabled streaming. */
  readonly httpStreamUri: () => string | undefined;
  readonly durable?: DurableExtension;
  /** Extension webhooks by lower-case extension name (e.g. `eventgrid`). */
  readonly webhooks: Readonly<Record<string, LocalHttpHandler>>;
  /** `POST /runtime/topics/{topic}`; the topic name is the last path segment. */
  readonly topics?: (topic: string, request: LocalHttpRequest) => Promise<LocalHttpResponse>;
  /** `POST /admin/functions/{name}`. */
  readonly adminInvoke?: (
    functionName: string,
    request: LocalHttpRequest,
  ) => Promise<LocalHttpResponse>;
}

/** The listening server; routes are attached once the app has loaded. */
export interface HostHttpServer {
  readonly port: number;
  attach(routes: HostRoutes): void;
  close(): Promise<void>;
}

/** Each extension webhook's system key, as Azure names it. */
const webhookSystemKeys: Readonly<Record<string, SystemKeyName>> = {
  eventgrid: "eventgrid_extension",
  durabletask: "durabletask_extension",
};

/**
 * The methods each extension webhook answers. Event Grid delivers events and its
 * SubscriptionValidation handshake with POST and sends the CloudEvents abuse-protection
 * handshake as OPTIONS; nothing else reaches it, so anything else is a 405 before the key is
 * looked at.
 */
const webhookMethods: Readonly<Record<string, readonly string[]>> = {
  eventgrid: ["POST", "OPTIONS"],
};

/** The largest body each extension webhook reads. */
const webhookBodyLimits: Readonly<Record<string, number>> = {
  eventgrid: eventGridMaxBatchBytes,
};

/**
 * Writes an answer. A refusal sent before the request body was read closes the connection, so
 * the rest of that body is never read.
 */
function writeLocalResponse(
  res: http.ServerResponse,
  response: LocalHttpResponse,
  options: { closeConnection?: boolean } = {},
): void {
  const headers: Record<string, string> = { ...response.headers };
  if (options.closeConnection) headers["connection"] = "close";
  res.writeHead(response.status, headers);
  res.end(response.body ?? "");
}

/** Answers without reading the request body. */
function refuse(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  response: LocalHttpResponse,
): void {
  const hasBody =
    req.headers["transfer-encoding"] !== undefined ||
    (req.headers["content-length"] !== undefined && req.headers["content-length"] !== "0");
  writeLocalResponse(res, response, { closeConnection: hasBody && !req.complete });
}

async function toLocalRequest(
  req: http.IncomingMessage,
  url: URL,
  limitBytes: number,
): Promise<LocalHttpRequest> {
  return {
    method: req.method ?? "GET",
    url,
    headers: flattenHeaders(req.headers),
    body: await readBodyWithin(req, limitBytes),
  };
}

/**
 * The Durable management API: `/runtime/webhooks/durabletask/...` with the system key (or the
 * master key) as `code` or `x-functions-key`, and the worker's RPC base `/durabletask/{key}/...`,
 * whose path carries the key because the client cannot add one otherwise. The request the
 * extension sees has the key taken out of the path.
 */
async function routeDurable(
  routes: HostRoutes,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
): Promise<void> {
  const path = url.pathname;
  if (!routes.durable) {
    return refuse(req, res, notFound("The Durable Functions extension is not enabled.", path));
  }
  let requestUrl = url;
  let presented = presentedKey(flattenHeaders(req.headers), url);
  const rpc = /^\/durabletask\/([^/]+)(\/.*)?$/i.exec(path);
  if (
    rpc?.[1] !== undefined &&
    hasSystemKey("durabletask_extension", safeDecode(rpc[1]), routes.keys)
  ) {
    presented = safeDecode(rpc[1]);
    requestUrl = new URL(`/durabletask${rpc[2] ?? "/"}${url.search}`, url);
  }
  if (!hasSystemKey("durabletask_extension", presented, routes.keys)) {
    return refuse(
      req,
      res,
      unauthorized(
        "The Durable Functions API needs the durabletask_extension system key or the master key (code or x-functions-key).",
        url.pathname.toLowerCase().startsWith("/durabletask/") ? "/durabletask" : path,
      ),
    );
  }
  const request = await toLocalRequest(req, requestUrl, routes.maxRequestBodyBytes);
  writeLocalResponse(res, await routes.durable.handleHttp(request));
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

async function route(
  routes: HostRoutes,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
): Promise<void> {
  const path = url.pathname;
  const lowerPath = path.toLowerCase();
  const method = (req.method ?? "GET").toUpperCase();

  if (
    lowerPath.startsWith("/runtime/webhooks/durabletask") ||
    lowerPath.startsWith("/durabletask/")
  ) {
    return routeDurable(routes, req, res, url);
  }

  const webhook = /^\/runtime\/webhooks\/([^/]+)\/?/i.exec(path);
  if (webhook?.[1] !== undefined) {
    const name = webhook[1].toLowerCase();
    // Own entries only: `/runtime/webhooks/constructor` must not find Object.prototype's.
    const handler = Object.hasOwn(routes.webhooks, name) ? routes.webhooks[name] : undefined;
    const systemKey = Object.hasOwn(webhookSystemKeys, name) ? webhookSystemKeys[name] : undefined;
    if (!handler || !systemKey)
      return refuse(req, res, notFound(`No extension named '${webhook[1]}'.`, path));
    const methods = (Object.hasOwn(webhookMethods, name) ? webhookMethods[name] : undefined) ?? [
      "POST",
    ];
    if (!methods.includes(method)) return refuse(req, res, methodNotAllowed(method, methods, path));
    if (!hasSystemKey(systemKey, presentedKey(flattenHeaders(req.headers), url), routes.keys)) {
      return refuse(
        req,
        res,
        unauthorized(
          `The ${name} webhook needs the ${systemKey} system key or the master key (code or x-functions-key).`,
          path,
        ),
      );
    }
    const limit = webhookBodyLimits[name] ?? routes.maxRequestBodyBytes;
    return writeLocalResponse(res, await handler(await toLocalRequest(req, url, limit)));
  }

  const topic = /^\/runtime\/topics\/([^/]+)(?:\/api\/events)?\/?$/i.exec(path);
  if (topic?.[1] !== undefined && routes.topics) {
    if (method !== "POST") return refuse(req, res, methodNotAllowed(method, ["POST"], path));
    const name = safeDecode(topic[1]);
    if (name === undefined) return refuse(req, res, notFound(`No topic at '${path}'.`, path));
    return writeLocalResponse(
      res,
      await routes.topics(name, await toLocalRequest(req, url, eventGridMaxBatchBytes)),
    );
  }

  if (lowerPath.startsWith("/admin/")) {
    if (!isAuthorized("admin", presentedKey(flattenHeaders(req.headers), url), routes.keys)) {
      return refuse(req, res, unauthorized("The admin API needs the master key.", path));
    }
    if (lowerPath === "/admin/host/status") {
      if (method !== "GET") return refuse(req, res, methodNotAllowed(method, ["GET"], path));
      return writeLocalResponse(res, {
        status: 200,
        headers: { "content-type": "application/json; charset=utf-8" },
        body: JSON.stringify({ state: "Running" }),
      });
    }
    const invoke = /^\/admin\/functions\/([^/]+)\/?$/i.exec(path);
    const functionName = invoke?.[1] === undefined ? undefined : safeDecode(invoke[1]);
    if (functionName !== undefined && routes.adminInvoke) {
      if (method !== "POST") return refuse(req, res, methodNotAllowed(method, ["POST"], path));
      const request = await toLocalRequest(req, url, routes.maxRequestBodyBytes);
      return writeLocalResponse(res, await routes.adminInvoke(functionName, request));
    }
    return refuse(req, res, notFound(`No admin API at '${path}'.`, path));
  }

  const prefix = routes.routePrefix === "" ? "/" : `/${routes.routePrefix.toLowerCase()}/`;
  if (lowerPath.startsWith(prefix) || lowerPath === prefix.slice(0, -1)) {
    const routePath = path.slice(prefix.length - 1).replace(/^\/+/, "");
    const match = matchHttpRoute(routes.httpRoutes, method, routePath);
    if (match) {
      const key = presentedKey(flattenHeaders(req.headers), url);
      if (!isAuthorized(match.route.authLevel, key, routes.keys)) {
        return refuse(
          req,
          res,
          unauthorized("This function needs a function key (x-functions-key or code).", path),
        );
      }
      return serveHttpTrigger(routes, match, req, res, url);
    }
    const allowed = allowedHttpMethods(routes.httpRoutes, routePath);
    if (allowed.length > 0) return refuse(req, res, methodNotAllowed(method, allowed, path));
  }
  refuse(req, res, notFound(`Nothing is served at '${path}'.`, path));
}

/** The answer to a request that failed in the host: its own 4xx, else a 500 without internals. */
function failureResponse(error: unknown, path: string): LocalHttpResponse {
  // A body beyond its limit is one of these: a RuntimeError with status 413.
  if (isRuntimeError(error) && error.httpStatus >= 400 && error.httpStatus < 500)
    return problem(error.httpStatus, error.code, error.message, { instance: path });
  return problem(
    500,
    "HOST_REQUEST_FAILED",
    "The host failed to serve the request; it has been logged.",
    {
      instance: path,
    },
  );
}

/** The host's own origin: the interface it listens on (loopback for a wildcard) and its port. */
export function hostOrigin(hostname: string, port: number): string {
  const host = hostname === "0.0.0.0" || hostname === "::" ? "127.0.0.1" : hostname;
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/**
 * A request's URL on the host's own origin: its path and query only, whatever its `Host` header
 * or an absolute-form target name. In Azure the front end routes only the app's own host names,
 * so the URL a function sees (and the links it builds from it) cannot be steered by a client;
 * here the `Host` header is ignored for the same result.
 */
export function requestUrl(target: string, origin: string): URL {
  const parsed = new URL(target, origin);
  return new URL(`${parsed.pathname}${parsed.search}`, origin);
}

/** A request's path as logs may show it: the worker's RPC base carries a key in its path. */
function loggablePath(url: URL): string {
  return url.pathname.replace(/^\/durabletask\/[^/]+/i, "/durabletask/***");
}

/**
 * Starts listening on `hostname:port` (0 picks a free port). Requests that arrive before
 * {@link HostHttpServer.attach} get 503.
 */
export async function startHostHttpServer(
  hostname: string,
  port: number,
  log: HostLog,
): Promise<HostHttpServer> {
  let routes: HostRoutes | undefined;
  // The port is known once listening (0 picks one); requests only arrive after that.
  const origin = (): string => {
    const address = server.address();
    return hostOrigin(hostname, typeof address === "object" && address ? address.port : port);
  };
  const server = http.createServer((req, res) => {
    let url: URL;
    try {
      url = requestUrl(req.url ?? "/", origin());
    } catch {
      refuse(req, res, problem(400, "BAD_REQUEST", "The request target is not a valid path."));
      return;
    }
    if (!routes) {
      refuse(
        req,
        res,
        problem(503, "HOST_STARTING", "The host is starting.", { headers: { "retry-after": "1" } }),
      );
      return;
    }
    route(routes, req, res, url).catch((error: unknown) => {
      const response = failureResponse(error, loggablePath(url));
      if (response.status >= 500) {
        log.write(
          "error",
          `Request ${req.method ?? ""} ${loggablePath(url)} failed: ${(error as Error).message}`,
        );
      }
      if (!res.headersSent) writeLocalResponse(res, response, { closeConnection: !req.complete });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    port: address.port,
    attach(next) {
      routes = next;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
