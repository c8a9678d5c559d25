/**
 * The host's HTTP front door (node:http): HTTP triggers under the route prefix, extension
 * webhooks under `/runtime/webhooks/{extension}`, the local Event Grid topics, and the admin API.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { DurableExtension, LocalHttpRequest, LocalHttpResponse } from "../contracts.js";
import type { HostLog } from "../core/hostLog.js";
import type { LoggedInvoker } from "../core/loggedInvoker.js";
import { isAuthorized, presentedKey } from "./hostKeys.js";
import {
  flattenHeaders,
  matchHttpRoute,
  serveHttpTrigger,
  type HttpRoute,
} from "./httpTriggers.js";

/** Serves one local request (webhooks, topics, admin). */
export type LocalHttpHandler = (request: LocalHttpRequest) => Promise<LocalHttpResponse>;

/** Everything the server routes to, available once the app has loaded. */
export interface HostRoutes {
  readonly invoker: LoggedInvoker;
  readonly httpRoutes: readonly HttpRoute[];
  /** Without slashes; "" serves HTTP triggers at the root. */
  readonly routePrefix: string;
  readonly hostKey: string;
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

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function writeLocalResponse(res: http.ServerResponse, response: LocalHttpResponse): void {
  res.writeHead(response.status, { ...response.headers });
  res.end(response.body ?? "");
}

function plain(status: number, text: string): LocalHttpResponse {
  return { status, headers: { "content-type": "text/plain; charset=utf-8" }, body: text };
}

async function toLocalRequest(req: http.IncomingMessage, url: URL): Promise<LocalHttpRequest> {
  return {
    method: req.method ?? "GET",
    url,
    headers: flattenHeaders(req.headers),
    body: await readBody(req),
  };
}

async function route(
  routes: HostRoutes,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
): Promise<void> {
  const path = url.pathname;
  const lowerPath = path.toLowerCase();

  if (
    lowerPath.startsWith("/runtime/webhooks/durabletask") ||
    lowerPath.startsWith("/durabletask/")
  ) {
    if (!routes.durable)
      return writeLocalResponse(res, plain(404, "The Durable Functions extension is not enabled."));
    return writeLocalResponse(res, await routes.durable.handleHttp(await toLocalRequest(req, url)));
  }

  const webhook = /^\/runtime\/webhooks\/([^/]+)\/?/i.exec(path);
  if (webhook?.[1] !== undefined) {
    const handler = routes.webhooks[webhook[1].toLowerCase()];
    if (!handler) return writeLocalResponse(res, plain(404, `No extension named '${webhook[1]}'.`));
    return writeLocalResponse(res, await handler(await toLocalRequest(req, url)));
  }

  const topic = /^\/runtime\/topics\/([^/]+)(?:\/api\/events)?\/?$/i.exec(path);
  if (topic?.[1] !== undefined && routes.topics) {
    return writeLocalResponse(
      res,
      await routes.topics(decodeURIComponent(topic[1]), await toLocalRequest(req, url)),
    );
  }

  if (lowerPath.startsWith("/admin/")) {
    const request = await toLocalRequest(req, url);
    if (!isAuthorized("admin", presentedKey(request.headers, url), routes.hostKey)) {
      return writeLocalResponse(res, { status: 401 });
    }
    if (lowerPath === "/admin/host/status") {
      return writeLocalResponse(res, {
        status: 200,
        headers: { "content-type": "application/json; charset=utf-8" },
        body: JSON.stringify({ state: "Running" }),
      });
    }
    const invoke = /^\/admin\/functions\/([^/]+)\/?$/i.exec(path);
    if (invoke?.[1] !== undefined && req.method === "POST" && routes.adminInvoke) {
      return writeLocalResponse(
        res,
        await routes.adminInvoke(decodeURIComponent(invoke[1]), request),
      );
    }
    return writeLocalResponse(res, plain(404, "Not found."));
  }

  const prefix = routes.routePrefix === "" ? "/" : `/${routes.routePrefix.toLowerCase()}/`;
  if (lowerPath.startsWith(prefix) || lowerPath === prefix.slice(0, -1)) {
    const routePath = path.slice(prefix.length - 1).replace(/^\/+/, "");
    const match = matchHttpRoute(routes.httpRoutes, req.method ?? "GET", routePath);
    if (match) {
      const key = presentedKey(flattenHeaders(req.headers), url);
      if (!isAuthorized(match.route.authLevel, key, routes.hostKey)) {
        req.resume();
        return writeLocalResponse(res, { status: 401 });
      }
      return serveHttpTrigger(routes, match, req, res, url);
    }
  }
  req.resume();
  writeLocalResponse(res, { status: 404 });
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
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? `${hostname}:${port}`}`);
    if (!routes) {
      req.resume();
      writeLocalResponse(res, plain(503, "The host is starting."));
      return;
    }
    route(routes, req, res, url).catch((error: unknown) => {
      log.write(
        "error",
        `Request ${req.method ?? ""} ${url.pathname} failed: ${(error as Error).message}`,
      );
      if (!res.headersSent) writeLocalResponse(res, { status: 500 });
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
