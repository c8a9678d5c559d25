/** The one place HTTP handlers turn failures into problem details and log them. */
import type {
  HttpHandler,
  HttpRequest,
  HttpResponseInit,
  InvocationContext,
} from "@azure/functions";
import { isAppError } from "../domain/errors.js";
import { invocationLogger } from "../observability/functionsLogger.js";
import { logEvents } from "../observability/logEvents.js";
import { problemResponse } from "./problemDetails.js";

/**
 * Wraps a handler so anything it throws is answered as RFC 9457 problem details: expected
 * errors with their code and message, unexpected ones as a 500 that is logged in full.
 */
export function withProblemDetails(
  handler: (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>,
): HttpHandler {
  return async (request, context) => {
    let response: HttpResponseInit;
    try {
      response = await handler(request, context);
    } catch (error) {
      const path = new URL(request.url).pathname;
      response = problemResponse(error, path);
      if (!isAppError(error) || error.httpStatus >= 500) {
        const thrown = error instanceof Error ? error : new Error(String(error));
        invocationLogger(context).emit(logEvents.requestFailed, {
          functionName: context.functionName,
          path,
          status: response.status ?? 500,
          errorCode: isAppError(error) ? error.code : undefined,
          errorMessage: thrown.message,
          errorStack: thrown.stack,
        });
      }
    }
    await discardUnreadBody(request);
    return response;
  };
}

/**
 * Reads to its end, and drops, whatever of the request body the handler left unread (a refusal
 * answered before the body, a GET sent with one).
 *
 * @remarks With `enableHttpStream` the body streams through the library's proxy while the handler
 * runs; an answer sent while the caller is still uploading ends the proxy's connection under the
 * upload, and the reset can take the answer with it, leaving the caller with no answer at all.
 * The host bounds the body, so reading the rest costs at most its limit.
 */
export async function discardUnreadBody(request: HttpRequest): Promise<void> {
  if (request.bodyUsed || request.body === null) return;
  try {
    const reader = request.body.getReader();
    while (!(await reader.read()).done) {
      // Each chunk is dropped as it arrives.
    }
  } catch {
    // A body the host cut off at its limit, or a caller that went away: nothing left to answer.
  }
}

/** A JSON response. */
export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResponseInit {
  return { status, jsonBody: body, headers: { "content-type": "application/json", ...headers } };
}
