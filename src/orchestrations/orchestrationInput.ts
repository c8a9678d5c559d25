/**
 * The one typed way an orchestration reads its input: checked against the orchestration's own
 * schema, so what crosses the boundary is never cast (lint rejects `context.df.getInput()`
 * elsewhere in `src/orchestrations`).
 */
import type { OrchestrationContext } from "durable-functions";
import { z } from "zod";
import type { RequestCorrelation } from "../observability/eventLogger.js";

/** The correlation of the invocation that started an operation, as inputs carry it. */
export const requestCorrelationSchema = z.object({
  invocationId: z.string().optional(),
  traceparent: z.string().optional(),
}) satisfies z.ZodType<RequestCorrelation>;

/** Thrown when an orchestration's input does not have the orchestration's shape. */
export class OrchestrationInputError extends Error {
  override readonly name = "OrchestrationInputError";
}

/**
 * The orchestration's input, checked.
 *
 * @param context - the orchestration's context.
 * @param schema - the orchestration's input schema.
 * @throws OrchestrationInputError when the input does not match: the instance fails with the
 * reason rather than at whichever step first trips over it.
 */
export function orchestrationInput<T>(context: OrchestrationContext, schema: z.ZodType<T>): T {
  // eslint-disable-next-line no-restricted-syntax -- the one place an input is read
  const parsed = schema.safeParse(context.df.getInput());
  if (parsed.success) return parsed.data;
  throw new OrchestrationInputError(
    `The input of ${context.df.instanceId} is not what the orchestration takes: ${z.prettifyError(parsed.error)}`,
  );
}

/**
 * The starting request's correlation, when the orchestration's input carries one (inputs
 * recorded before it was carried have none).
 */
export function startingRequest(context: OrchestrationContext): RequestCorrelation | undefined {
  const carried = z
    .object({ correlation: requestCorrelationSchema })
    // eslint-disable-next-line no-restricted-syntax -- read beside orchestrationInput, same input
    .safeParse(context.df.getInput());
  if (!carried.success) return undefined;
  const { invocationId, traceparent } = carried.data.correlation;
  if (!invocationId && !traceparent) return undefined;
  return {
    ...(invocationId ? { invocationId } : {}),
    ...(traceparent ? { traceparent } : {}),
  };
}
