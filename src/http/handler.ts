/** The one place HTTP handlers turn failures into problem details and log them. */
import type {
  HttpHandler,
  HttpRequest,
  HttpResponseInit,
  InvocationContext,
} from "@azure/functions";
import { isAppError } from "../domain/errors.js";
import { problemResponse } from "./problemDetails.js";

/**
 * Wraps a handler so anything it throws is answered as RFC 9457 problem details: expected
 * errors with their code and message, unexpected ones as a 500 that is logged in full.
 */
export function withProblemDetails(
  handler: (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>,
): HttpHandler {
  return async (request, context) => {
    try {
      return await handler(request, context);
    } catch (error) {
      if (!isAppError(error) || error.httpStatus >= 500) {
        context.error(`${context.functionName} failed`, error);
      }
      return problemResponse(error, new URL(request.url).pathname);
    }
  };
}

/** A JSON response. */
export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResponseInit {
  return { status, jsonBody: body, headers: { "content-type": "application/json", ...headers } };
}
