/**
 * RFC 9457 problem details: every HTTP error pgprotect answers has this shape, with the stable
 * `code` of the {@link AppError} behind it and, for bad input, the JSON paths at fault.
 */
import type { HttpResponseInit } from "@azure/functions";
import { isAppError, toAppError, type ErrorCode } from "../domain/errors.js";

/** The media type of a problem details body. */
export const problemContentType = "application/problem+json";

/** A problem details body (RFC 9457) with pgprotect's extension members. */
export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance?: string;
  /** The stable code of the catalogue, e.g. `POLICY_INVALID` or `DATASOURCE_ALREADY_PROTECTED`. */
  readonly code: ErrorCode;
  /** The service's own code, where the failure came from Azure (`UserErrorDppDatasourceAlreadyProtected`). */
  readonly serviceCode?: string;
  readonly retryable: boolean;
  readonly recommendedAction?: string;
  /** For bad input: every problem with its JSON path. */
  readonly errors?: ReadonlyArray<{
    readonly path: string;
    readonly code: ErrorCode;
    readonly message: string;
  }>;
}

const titles: Record<number, string> = {
  400: "The request is not valid",
  401: "Authentication is required",
  403: "The caller may not do this",
  404: "Not found",
  405: "Method not allowed",
  409: "Conflict with the current state",
  413: "The request body is too large",
  415: "Unsupported media type",
  429: "Too many requests",
  500: "Internal error",
  502: "The backup service failed",
  503: "Temporarily unavailable",
};

/**
 * The problem details response for anything thrown.
 *
 * @remarks Unknown errors become a 500 whose detail does not leak internals; their message is
 * for the logs only.
 */
export function problemResponse(error: unknown, instance?: string): HttpResponseInit {
  const appError = toAppError(error);
  const status = appError.httpStatus;
  const known = isAppError(error);
  const body: ProblemDetails = {
    type: `urn:pgprotect:problem:${appError.code}`,
    title: titles[status] ?? "Request failed",
    status,
    detail: known ? appError.message : "An unexpected error occurred; it has been logged.",
    ...(instance ? { instance } : {}),
    code: appError.code,
    ...(appError.serviceCode ? { serviceCode: appError.serviceCode } : {}),
    retryable: appError.retryable,
    ...(appError.recommendedAction ? { recommendedAction: appError.recommendedAction } : {}),
    ...(appError.problems.length > 0
      ? { errors: appError.problems.map(({ path, code, message }) => ({ path, code, message })) }
      : {}),
  };
  return {
    status,
    headers: {
      "content-type": problemContentType,
      ...(status === 503 || status === 429 ? { "retry-after": "30" } : {}),
    },
    body: JSON.stringify(body),
  };
}
