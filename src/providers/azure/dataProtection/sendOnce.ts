/**
 * Which Data Protection requests may be sent again, and the pipeline's retry policy that keeps
 * the others from being sent twice.
 *
 * @remarks An ad-hoc backup, a restore or a protection action is carried out by the service as
 * soon as it arrives. When its answer is lost (a 5xx from a gateway, a connection reset or a
 * timeout after the request went out) the service may well have started a job: the pipeline's
 * default retry would then start a second one. Those requests are sent again only where the
 * service provably did not act: a connection refused (nothing was sent) here, and 429 in the
 * throttling policy (Resource Manager did not pass the request on). Anything else is handed back
 * to the caller, which looks for what the first request started before deciding
 * (`AzureBackupService`).
 */
import {
  exponentialRetryPolicy,
  retryPolicy,
  systemErrorRetryPolicy,
  type PipelinePolicy,
  type PipelineRetryOptions,
  type RetryStrategy,
} from "@azure/core-rest-pipeline";

/** Backup instance actions the service carries out on arrival; sending one twice does it twice. */
const NON_IDEMPOTENT_ACTIONS =
  /\/backupInstances\/[^/]+\/(backup|restore|stopProtection|suspendBackups|resumeProtection|resumeBackups|rehydrate|sync)$/i;

/** Undelete of a soft-deleted instance: carried out on arrival too. */
const UNDELETE_ACTION = /\/deletedBackupInstances\/[^/]+\/undelete$/i;

/** Whether a request changes something each time it is sent, so that it must not be re-sent blindly. */
export function isNonIdempotentRequest(method: string, url: string): boolean {
  const path = new URL(url).pathname;
  return (
    method.toUpperCase() === "POST" &&
    (NON_IDEMPOTENT_ACTIONS.test(path) || UNDELETE_ACTION.test(path))
  );
}

/** Transport errors raised before the request left: nothing reached the service. */
const NOT_SENT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN"]);

/** Whether a transport error proves the request never reached the service. */
export function provablyNotSent(thrown: unknown): boolean {
  const code = (thrown as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && NOT_SENT_CODES.has(code);
}

/**
 * Whether a failure leaves it unknown if the service acted: a 5xx or 408 answer, or a transport
 * error after the connection was made (reset, timeout). 4xx answers and 429 say it did not.
 */
export function isAmbiguousFailure(failure: { status: number } | { thrown: unknown }): boolean {
  if ("status" in failure)
    return failure.status === 408 || (failure.status >= 500 && failure.status !== 501);
  return !provablyNotSent(failure.thrown);
}

/** Name of {@link sendOnceRetryPolicy} in the pipeline. */
export const sendOnceRetryPolicyName = "sendOnceRetryPolicy";

/** The name of the pipeline's default retry policy, which this one replaces. */
export const defaultRetryPolicyName = "defaultRetryPolicy";

/**
 * The pipeline's retry policy: for requests that may be repeated, the default's exponential
 * retries of 5xx, 408 and transport errors; for non-idempotent actions, only a refused
 * connection is tried again.
 *
 * @remarks 429s and 503s with `Retry-After` are left to the throttling policy, which holds the
 * subscription's bucket and bounds a request's waits in all: the default retry would wait out
 * each of its `Retry-After`s again, without bound, after the throttling policy gave up.
 */
export function sendOnceRetryPolicy(options: PipelineRetryOptions = {}): PipelinePolicy {
  // Neither retries a throttling answer (429, or 503 with Retry-After).
  const transientAnswers = exponentialRetryPolicy(options);
  const transportErrors = systemErrorRetryPolicy(options);
  const repeatable: PipelinePolicy = {
    name: "transientRetryPolicy",
    sendRequest: (request, next) =>
      transientAnswers.sendRequest(request, (retried) =>
        transportErrors.sendRequest(retried, next),
      ),
  };
  const retryDelayInMs = options.retryDelayInMs ?? 1000;
  const notSentOnly: RetryStrategy = {
    name: "notSentOnly",
    retry: ({ retryCount, responseError }) =>
      responseError && provablyNotSent(responseError)
        ? { retryAfterInMs: retryDelayInMs * 2 ** retryCount }
        : { skipStrategy: true },
  };
  const once = retryPolicy([notSentOnly], { maxRetries: options.maxRetries ?? 3 });
  return {
    name: sendOnceRetryPolicyName,
    sendRequest: (request, next) =>
      isNonIdempotentRequest(request.method, request.url)
        ? once.sendRequest(request, next)
        : repeatable.sendRequest(request, next),
  };
}
