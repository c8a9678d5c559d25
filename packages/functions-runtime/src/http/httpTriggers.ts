/**
 * HTTP triggers: the route table built from the app's registrations, the request as the host
 * hands it to the worker (RpcHttpData), and the worker's response written back to the client,
 * buffered or streamed through the library's HTTP-stream proxy.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import { Transform } from "node:stream";
import type { RegisteredFunction, RpcTypedData } from "../contracts.js";
import type { LoggedInvoker } from "../core/loggedInvoker.js";
import type { HostLog } from "../core/hostLog.js";
import { payloadTooLarge, problem, readBodyWithin, RequestBodyTooLargeError } from "./refusals.js";
import { compareRoutePrecedence, parseRouteTemplate, type RouteTemplate } from "./routeTemplate.js";

/** One HTTP-triggered function in the route table. */
export interface HttpRoute {
  readonly functionName: string;
  readonly triggerBindingName: string;
  readonly template: RouteTemplate;
  /** Upper-case methods; empty means any method. */
  readonly methods: readonly string[];
  readonly authLevel: string;
}

/** A route that matched a request, with its route values. */
export interface HttpRouteMatch {
  readonly route: HttpRoute;
  readonly params: Record<string, string>;
}

/** Builds the route table, most specific template first. */
export function buildHttpRoutes(functions: readonly RegisteredFunction[]): HttpRoute[] {
  const routes: HttpRoute[] = [];
  for (const fn of functions) {
    const entry = Object.entries(fn.bindings).find(
      ([, binding]) => binding.type.toLowerCase() === "httptrigger",
    );
    if (!entry) continue;
    const [triggerBindingName, binding] = entry;
    const route =
      typeof binding["route"] === "string" && binding["route"] !== "" ? binding["route"] : fn.name;
    const methods = Array.isArray(binding["methods"])
      ? (binding["methods"] as unknown[]).map((method) => String(method).toUpperCase())
      : [];
    routes.push({
      functionName: fn.name,
      triggerBindingName,
      template: parseRouteTemplate(route),
      methods,
      authLevel: typeof binding["authLevel"] === "string" ? binding["authLevel"] : "function",
    });
  }
  return routes.sort((a, b) => compareRoutePrecedence(a.template, b.template));
}

/** The first route whose template and method match, if any. */
export function matchHttpRoute(
  routes: readonly HttpRoute[],
  method: string,
  path: string,
): HttpRouteMatch | undefined {
  for (const route of routes) {
    if (route.methods.length > 0 && !route.methods.includes(method.toUpperCase())) continue;
    const params = route.template.match(path);
    if (params) return { route, params };
  }
  return undefined;
}

/**
 * The methods the routes whose template matches `path` take (upper case, in table order): what
 * a 405 lists in `Allow` when the path is served but not for the request's method.
 */
export function allowedHttpMethods(routes: readonly HttpRoute[], path: string): string[] {
  const allowed = new Set<string>();
  for (const route of routes) {
    if (route.template.match(path)) for (const method of route.methods) allowed.add(method);
  }
  return [...allowed];
}

/** Node's request headers flattened the way the host passes them (repeated values joined by ", "). */
export function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    flat[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return flat;
}

/** The request as the host hands it to the worker. */
export function toRpcHttpRequest(
  method: string,
  url: URL,
  headers: Record<string, string>,
  params: Record<string, string>,
  body: Uint8Array | undefined,
): RpcTypedData {
  const query: Record<string, string> = {};
  for (const key of new Set(url.searchParams.keys()))
    query[key] = url.searchParams.getAll(key).join(",");
  return {
    http: {
      method,
      url: url.href,
      headers,
      query,
      params,
      ...(body && body.length > 0 ? { body: { bytes: body }, rawBody: { bytes: body } } : {}),
    },
  };
}

interface RpcNullable<T> {
  readonly value?: T;
}

interface RpcCookie {
  readonly name: string;
  readonly value: string;
  readonly domain?: RpcNullable<string>;
  readonly path?: RpcNullable<string>;
  readonly expires?: RpcNullable<{ readonly seconds?: number | string; readonly nanos?: number }>;
  readonly secure?: RpcNullable<boolean>;
  readonly httpOnly?: RpcNullable<boolean>;
  readonly sameSite?: string;
  readonly maxAge?: RpcNullable<number>;
}

/** A `Set-Cookie` value for a cookie as the library sends it to the host. */
export function formatSetCookie(cookie: RpcCookie): string {
  const parts = [`${cookie.name}=${cookie.value}`];
  if (cookie.domain?.value) parts.push(`Domain=${cookie.domain.value}`);
  if (cookie.path?.value) parts.push(`Path=${cookie.path.value}`);
  const expires = cookie.expires?.value?.seconds;
  if (expires !== undefined)
    parts.push(`Expires=${new Date(Number(expires) * 1000).toUTCString()}`);
  if (cookie.maxAge?.value !== undefined) parts.push(`Max-Age=${cookie.maxAge.value}`);
  if (cookie.secure?.value) parts.push("Secure");
  if (cookie.httpOnly?.value) parts.push("HttpOnly");
  const sameSite = { lax: "Lax", strict: "Strict", explicitNone: "None" }[cookie.sameSite ?? ""];
  if (sameSite) parts.push(`SameSite=${sameSite}`);
  return parts.join("; ");
}

function typedDataBytes(data: RpcTypedData | undefined): Uint8Array {
  if (!data) return new Uint8Array();
  if (data.bytes) return data.bytes;
  if (data.stream) return data.stream;
  if (data.string !== undefined) return Buffer.from(data.string);
  if (data.json !== undefined) return Buffer.from(data.json);
  if (data.int !== undefined) return Buffer.from(String(data.int));
  if (data.double !== undefined) return Buffer.from(String(data.double));
  return new Uint8Array();
}

/** Writes the function's RpcHttpData response to the client. */
export function writeRpcHttpResponse(
  res: http.ServerResponse,
  returnValue: RpcTypedData | undefined,
): void {
  const response = returnValue?.http as
    | {
        statusCode?: string;
        headers?: Record<string, string>;
        cookies?: RpcCookie[];
        body?: RpcTypedData;
      }
    | undefined;
  if (!response) {
    res.writeHead(204).end();
    return;
  }
  const body = typedDataBytes(response.body);
  for (const [name, value] of Object.entries(response.headers ?? {})) res.setHeader(name, value);
  const cookies = (response.cookies ?? []).map(formatSetCookie);
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);
  res.statusCode = Number(response.statusCode ?? 200) || 200;
  res.end(body);
}

/**
 * The answer when the function failed: a 500 problem document that names the invocation (its
 * log lines carry the same id) and nothing of the failure itself.
 */
function writeFunctionFailed(res: http.ServerResponse, url: URL, invocationId?: string): void {
  const response = problem(
    500,
    "FUNCTION_FAILED",
    invocationId === undefined
      ? "The function failed; the host's log has the details."
      : `The function failed; the host's log has the details under invocation ${invocationId}.`,
    { instance: url.pathname },
  );
  res.writeHead(response.status, { ...response.headers }).end(response.body);
}

function writeTooLarge(res: http.ServerResponse, error: RequestBodyTooLargeError, url: URL): void {
  const response = payloadTooLarge(error, url.pathname);
  res.writeHead(response.status, { ...response.headers, connection: "close" }).end(response.body);
}

// What the Functions host logs as the reason of an HTTP-triggered invocation.
const httpReason = "This function was programmatically called via the host APIs.";

/** What {@link serveHttpTrigger} needs from the host. */
export interface HttpTriggerContext {
  readonly invoker: LoggedInvoker;
  readonly log: HostLog;
  /**
   * The library's HTTP-stream proxy when the app called `app.setup({ enableHttpStream: true })`
   * (it moves when the worker restarts).
   */
  readonly httpStreamUri: () => string | undefined;
  /** The largest request body passed to a function; a larger one is answered 413. */
  readonly maxRequestBodyBytes: number;
}

/**
 * Runs the matched function for one request and answers it: 413 for a body beyond the limit
 * (before the function runs when `Content-Length` says so), and a 500 problem document when the
 * function fails (the Functions host answers an empty 500).
 */
export async function serveHttpTrigger(
  context: HttpTriggerContext,
  match: HttpRouteMatch,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
): Promise<void> {
  const headers = flattenHeaders(req.headers);
  const method = req.method ?? "GET";
  const httpStreamUri = context.httpStreamUri();
  if (httpStreamUri) {
    await serveStreamed(context, httpStreamUri, match, req, res, url, headers);
    return;
  }
  let body: Buffer;
  try {
    body = await readBodyWithin(req, context.maxRequestBodyBytes);
  } catch (error) {
    if (error instanceof RequestBodyTooLargeError) return writeTooLarge(res, error, url);
    throw error;
  }
  const invocationId = randomUUID();
  try {
    const result = await context.invoker.invoke(
      match.route.functionName,
      {
        inputData: [
          {
            name: match.route.triggerBindingName,
            data: toRpcHttpRequest(method, url, headers, match.params, body),
          },
        ],
        triggerMetadata: {},
      },
      { invocationId, reason: httpReason },
    );
    writeRpcHttpResponse(res, result.returnValue);
  } catch {
    if (!res.headersSent) writeFunctionFailed(res, url, invocationId);
    else res.destroy();
  }
}

/**
 * The streaming path, as the host does it for `enableHttpStream`: the raw request goes to the
 * library's proxy (tagged with the invocation id) while the invocation runs; the proxy's answer
 * is piped back as it is produced.
 */
async function serveStreamed(
  context: HttpTriggerContext,
  proxyUri: string,
  match: HttpRouteMatch,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  headers: Record<string, string>,
): Promise<void> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > context.maxRequestBodyBytes) {
    return writeTooLarge(res, new RequestBodyTooLargeError(context.maxRequestBodyBytes), url);
  }
  const invocationId = randomUUID();
  const method = req.method ?? "GET";
  // The library gives GET and HEAD requests no body (as fetch does) and never reads one; one
  // forwarded anyway can reset the proxy's connection under its answer, which is then lost. The
  // host reads it (within the limit) and drops it instead.
  const bodiless = ["GET", "HEAD"].includes(method.toUpperCase());
  if (bodiless) {
    try {
      await readBodyWithin(req, context.maxRequestBodyBytes);
    } catch (error) {
      if (error instanceof RequestBodyTooLargeError) return writeTooLarge(res, error, url);
      throw error;
    }
  }
  const {
    "content-length": _length,
    "transfer-encoding": _encoding,
    ...bodilessHeaders
  } = req.headers;
  const proxyUrl = new URL(`${url.pathname}${url.search}`, proxyUri);
  let responded = false;
  const proxyRequest = http.request(proxyUrl, {
    method,
    headers: {
      ...(bodiless ? bodilessHeaders : req.headers),
      host: proxyUrl.host,
      "x-ms-invocation-id": invocationId,
      "x-forwarded-host": url.host,
      "x-forwarded-proto": url.protocol.replace(/:$/, ""),
    },
  });
  proxyRequest.on("response", (proxyResponse) => {
    responded = true;
    const responseHeaders = { ...proxyResponse.headers };
    delete responseHeaders["x-ms-invocation-id"];
    res.writeHead(proxyResponse.statusCode ?? 200, responseHeaders);
    proxyResponse.pipe(res);
  });
  // Abandoning the proxy request (after a failure) is expected; it has nothing to report.
  proxyRequest.on("error", () => undefined);
  // A client that goes away must not leave the handler blocked writing to a full stream.
  res.on("close", () => {
    if (!res.writableFinished) proxyRequest.destroy();
  });
  // Counted while it flows: a body without Content-Length is cut off at the limit, so neither
  // process holds more of it than that.
  let forwarded = 0;
  let tooLarge: RequestBodyTooLargeError | undefined;
  const limiter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      forwarded += chunk.length;
      if (forwarded > context.maxRequestBodyBytes) {
        callback(new RequestBodyTooLargeError(context.maxRequestBodyBytes));
      } else {
        callback(null, chunk);
      }
    },
  });
  limiter.on("error", (error: RequestBodyTooLargeError) => {
    tooLarge = error;
    req.unpipe(limiter);
    proxyRequest.destroy();
    if (!responded && !res.headersSent) writeTooLarge(res, error, url);
  });
  if (bodiless) proxyRequest.end();
  else req.pipe(limiter).pipe(proxyRequest);

  const triggerMetadata: Record<string, RpcTypedData> = {
    Headers: { json: JSON.stringify(headers) },
    Query: { json: JSON.stringify(Object.fromEntries(url.searchParams)) },
  };
  for (const [name, value] of Object.entries(match.params))
    triggerMetadata[name] = { string: value };

  try {
    const outcome = await context.invoker.invokeDetailed(
      match.route.functionName,
      {
        inputData: [
          {
            name: match.route.triggerBindingName,
            data: toRpcHttpRequest(method, url, headers, match.params, undefined),
          },
        ],
        triggerMetadata,
      },
      { invocationId, reason: httpReason },
    );
    if (outcome.returnedNothing && !responded && !tooLarge) {
      proxyRequest.destroy();
      res.writeHead(204).end();
    }
  } catch {
    proxyRequest.destroy();
    if (tooLarge) return;
    if (!res.headersSent) writeFunctionFailed(res, url, invocationId);
    else res.destroy();
  }
}
