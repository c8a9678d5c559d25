/** Loggers over a Functions invocation's log, which the host sends to Application Insights. */
import type { InvocationContext } from "@azure/functions";
import {
  createEventLogger,
  type Correlation,
  type EventLogger,
  type LogRecord,
  type RequestCorrelation,
} from "./eventLogger.js";

/** The invocation's own correlation: its id and W3C trace context, where the host gives one. */
export function requestCorrelation(context: InvocationContext): RequestCorrelation {
  const traceparent = context.traceContext?.traceParent ?? undefined;
  return {
    invocationId: context.invocationId,
    ...(traceparent ? { traceparent } : {}),
  };
}

/** Writes a record at its level through the invocation's log. */
function invocationSink(context: InvocationContext): (record: LogRecord) => void {
  return (record) => {
    switch (record.level) {
      case "trace":
        context.trace(record.line);
        break;
      case "debug":
        context.debug(record.line);
        break;
      case "warning":
        context.warn(record.line);
        break;
      case "error":
        context.error(record.line);
        break;
      default:
        context.info(record.line);
    }
  };
}

/**
 * A logger over an invocation: its events carry the invocation's id and trace context.
 *
 * @param context - the trigger's or activity's invocation context.
 * @param correlation - more correlation, such as the operation the invocation works for.
 */
export function invocationLogger(
  context: InvocationContext,
  correlation: Correlation = {},
): EventLogger {
  const own = requestCorrelation(context);
  return createEventLogger(invocationSink(context), {
    invocationId: own.invocationId,
    traceparent: own.traceparent,
    ...correlation,
  });
}

/**
 * A logger for an activity: its events name the orchestration instance it runs for (the host
 * gives it in the trigger's metadata) and, when the orchestration carried it, the request that
 * started the operation.
 */
export function activityLogger(
  context: InvocationContext,
  request: RequestCorrelation | undefined,
): EventLogger {
  const instanceId = context.triggerMetadata?.["instanceId"];
  return invocationLogger(context, {
    ...(typeof instanceId === "string" ? { operationId: instanceId } : {}),
    ...(request?.invocationId ? { requestInvocationId: request.invocationId } : {}),
    ...(request?.traceparent ? { requestTraceparent: request.traceparent } : {}),
  });
}
