/**
 * The orchestrations' logger: replay-safe, so each event is logged once although the
 * orchestrator runs again from the start on every replay. Deterministic and pure, as
 * orchestrations must be.
 */
import type { OrchestrationContext } from "durable-functions";
import { createEventLogger, type EventLogger, type RequestCorrelation } from "./eventLogger.js";

/**
 * A logger that is silent while the orchestration replays its history and writes through the
 * orchestration's invocation log otherwise. Its events name the instance and the request that
 * started it (carried in the input).
 *
 * @param context - the orchestration's context.
 * @param request - the starting request's correlation, from the orchestration's input.
 */
export function replaySafeLogger(
  context: OrchestrationContext,
  request?: RequestCorrelation,
): EventLogger {
  return createEventLogger(
    (record) => {
      if (context.df.isReplaying) return;
      if (record.level === "error") context.error(record.line);
      else if (record.level === "warning") context.warn(record.line);
      else if (record.level === "debug" || record.level === "trace") context.debug(record.line);
      else context.info(record.line);
    },
    {
      operationId: context.df.instanceId,
      invocationId: context.invocationId,
      requestInvocationId: request?.invocationId,
      requestTraceparent: request?.traceparent,
    },
  );
}
