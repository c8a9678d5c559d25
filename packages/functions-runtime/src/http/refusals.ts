/**
 * What the local host answers when it refuses a request itself (no key, no route, wrong method,
 * body too large or of the wrong type), always as an RFC 9457 problem document, and request
 * bodies read within a byte limit.
 */
import { STATUS_CODES, type IncomingMessage } from "node:http";
import getRawBody from "raw-body";
import { RuntimeError } from "../errors.js";
import type { LocalHttpResponse } from "../contracts.js";

/** The media type of a problem document. */
export const problemMediaType = "application/problem+json";

/**
 * The default limit of a request body the host reads: 1 MiB. Azure's own default
 * (`FUNCTIONS_REQUEST_BODY_SIZE_LIMIT`) is 100 MB; locally the app's API has no use for more.
 */
export const defaultMaxRequestBodyBytes = 1_048_576;

/**
 * Event Grid's limit on a delivery or a publish: 1 MB per event and 1 MB per batch; a batch
 * within the limit holds no event beyond it.
 */
export const eventGridMaxBatchBytes = 1_048_576;

/**
 * A problem document for a refusal of the host: `type` is `about:blank`, so `title` is the
 * status phrase (RFC 9457 §4.2.1), with a stable `code` as the app's own problems carry.
 */
export function problem(
  status: number,
  code: string,
  detail: string,
  options: { instance?: string; headers?: Record<string, string> } = {},
): LocalHttpResponse {
  return {
    status,
    headers: { "content-type": problemMediaType, ...options.headers },
    body: JSON.stringify({
      type: "about:blank",
      title: STATUS_CODES[status] ?? "Request refused",
      status,
      detail,
      ...(options.instance !== undefined ? { instance: options.instance } : {}),
      code,
    }),
  };
}

/** 401: the request presents no key, or not one that opens this door. */
export function unauthorized(detail: string, instance: string): LocalHttpResponse {
  return problem(401, "UNAUTHORIZED", detail, { instance });
}

/** 404: nothing is served at this path. */
export function notFound(detail: string, instance: string): LocalHttpResponse {
  return problem(404, "NOT_FOUND", detail, { instance });
}

/** 405 with the `Allow` header listing the methods the resource takes. */
export function methodNotAllowed(
  method: string,
  allowed: readonly string[],
  instance: string,
): LocalHttpResponse {
  return problem(
    405,
    "METHOD_NOT_ALLOWED",
    `${method} is not allowed here; use ${allowed.join(" or ")}.`,
    { instance, headers: { allow: allowed.join(", ") } },
  );
}

/** 415: a JSON endpoint was sent another media type. */
export function unsupportedMediaType(contentType: string, instance: string): LocalHttpResponse {
  return problem(
    415,
    "UNSUPPORTED_MEDIA_TYPE",
    `Send the body as application/json, not ${contentType}.`,
    { instance },
  );
}

/** Whether a `Content-Type` names JSON (`application/json`, `application/*+json`). */
export function isJsonMediaType(contentType: string): boolean {
  return /^application\/([a-z0-9.-]*\+)?json\s*(;|$)/i.test(contentType.trim());
}

/** Raised when a request body exceeds its limit; answered 413. */
export class RequestBodyTooLargeError extends RuntimeError {
  override readonly name = "RequestBodyTooLargeError";
  /** The limit the body exceeded, in bytes. */
  readonly limitBytes: number;
  // A plain field rather than a parameter property: the runtime loads from src/ under Node's type stripping.
  constructor(limitBytes: number) {
    super(
      "REQUEST_BODY_TOO_LARGE",
      `The request body is larger than the limit of ${limitBytes} bytes.`,
      { httpStatus: 413 },
    );
    this.limitBytes = limitBytes;
  }
}

/**
 * Reads a request body of at most `limitBytes`.
 *
 * @remarks A `Content-Length` beyond the limit is refused before a byte is read, and a body
 * without one is refused as soon as it passes the limit, so no more than the limit is ever held.
 * @throws RequestBodyTooLargeError
 */
export async function readBodyWithin(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = req.headers["content-length"];
  try {
    return await getRawBody(req, {
      limit: limitBytes,
      ...(declared !== undefined && /^\d+$/.test(declared) ? { length: Number(declared) } : {}),
    });
  } catch (error) {
    if ((error as { type?: string }).type === "entity.too.large")
      throw new RequestBodyTooLargeError(limitBytes);
    throw error;
  }
}

/** The 413 answer for a body beyond its limit. */
export function payloadTooLarge(
  error: RequestBodyTooLargeError,
  instance: string,
): LocalHttpResponse {
  return problem(413, error.code, error.message, { instance });
}
