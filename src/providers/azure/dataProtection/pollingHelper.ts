/**
 * Long-running operations: turns the first answer of an operation into an `@azure/core-lro`
 * poller that follows whatever status URL the service returned.
 *
 * @remarks Data Protection answers 201 with a body and `Azure-AsyncOperation`, or 202 with
 * `Azure-AsyncOperation` and `Location`; status URLs may be scoped to the subscription and
 * location, the resource group or the vault. Statuses are `Inprogress`/`InProgress` (core-lro
 * treats any unknown status as running), then `Succeeded`, `Failed` or `Canceled`. The wait
 * between polls is done here rather than in core-lro so that `Retry-After` is honoured on every
 * poll, the first included, and so that tests can shorten it.
 *
 * Polling is bounded by {@link LongRunningOptions.maxWaitMs}: these calls run inside activities,
 * and a wait longer than that belongs to the orchestration's durable timers, so an operation
 * still running then is answered as `running` with its status URL instead of being waited on.
 */
import type { Client, HttpResponse } from "@azure-rest/core-client";
import {
  createHttpPoller,
  type OperationResponse,
  type OperationState,
  type PollerLike,
  type RunningOperation,
} from "@azure/core-lro";
import { AppError } from "../../../domain/errors.js";
import { ProviderErrorCodes } from "../../ports.js";
import {
  armErrorFromOperation,
  armErrorFromResponse,
  armErrorFromThrown,
  parseRetryAfterMs,
} from "../armErrors.js";
import { systemClock, type AbortSignalLike, type ThrottleClock } from "../throttling.js";
import type { OperationResourceOutput } from "./outputModels.js";

/** Options of a long-running operation. */
export interface LongRunningOptions {
  /** Wait between polls when the service gives no `Retry-After`; 10 s by default. */
  readonly intervalInMs?: number;
  /** Factor applied to the service's `Retry-After`; 1 in production, small in tests. */
  readonly retryAfterScale?: number;
  /** Where the final result is: `location` (the contract's choice) by default. */
  readonly resourceLocationConfig?: "location" | "azure-async-operation" | "original-uri";
  readonly abortSignal?: AbortSignalLike;
  /** Sleeps between polls; real time by default. */
  readonly sleep?: ThrottleClock["sleep"];
  /**
   * The most one operation is waited on, in all (after `retryAfterScale`); 30 s by default, well
   * inside the Functions timeout. An operation still running then is answered as `running`.
   */
  readonly maxWaitMs?: number;
}

/** How long one operation is polled before it is answered as still running. */
export const defaultMaxOperationWaitMs = 30_000;

/** What an operation left behind: its end, success or not, or `running` past the wait bound. */
export interface LongRunningOutcome<TResult> {
  readonly status: "succeeded" | "failed" | "canceled" | "running";
  readonly result: TResult | undefined;
  /** The last body of the status monitor (`OperationResource`), when there was one. */
  readonly lastStatus: OperationResourceOutput | undefined;
  /** The status URL last polled, when the operation is still `running`: its handle. */
  readonly statusUrl?: string;
}

/** Thrown inside the poller to stop it when the next wait would pass the bound. */
class WaitBoundReached extends Error {
  constructor(readonly statusUrl: string) {
    super("The operation is still running after the wait bound");
  }
}

function lowerCaseHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

const terminalStatuses = ["succeeded", "failed", "canceled", "cancelled"];

function isStatusBody(body: unknown): body is OperationResourceOutput {
  return (
    typeof body === "object" &&
    body !== null &&
    typeof (body as { status?: unknown }).status === "string"
  );
}

/**
 * A poller over an operation whose first answer is `initialResponse`.
 *
 * @param onPoll - sees every status body, so callers can read `properties.jobId` or `error`.
 */
export function getLongRunningPoller<TResult>(
  client: Client,
  initialResponse: HttpResponse,
  options: LongRunningOptions = {},
  onPoll?: (response: HttpResponse) => void,
): PollerLike<OperationState<TResult>, TResult> {
  const sleep = options.sleep ?? systemClock.sleep;
  const scale = options.retryAfterScale ?? 1;
  const intervalInMs = options.intervalInMs ?? 10_000;
  const maxWaitMs = options.maxWaitMs ?? defaultMaxOperationWaitMs;
  let nextWaitMs = 0;
  let waitedMs = 0;

  const toOperationResponse = (
    response: HttpResponse,
    initial = false,
  ): OperationResponse<unknown> => {
    const headers = lowerCaseHeaders(response.headers);
    const retryAfterMs = parseRetryAfterMs(headers["retry-after"]);
    const body = response.body;
    const running =
      initial ||
      response.status === "202" ||
      (isStatusBody(body) && !terminalStatuses.includes((body.status ?? "").toLowerCase()));
    // Nothing to wait for before fetching the result of a finished operation.
    nextWaitMs = !running
      ? 0
      : retryAfterMs === undefined
        ? intervalInMs
        : Math.round(retryAfterMs * scale);
    // core-lro would wait the raw Retry-After itself; the wait happens before each poll instead.
    delete headers["retry-after"];
    return {
      flatResponse: response,
      rawResponse: {
        statusCode: Number(response.status),
        headers,
        body: response.body,
        request: { method: response.request.method, url: response.request.url },
      },
    };
  };

  const lro: RunningOperation<unknown> = {
    sendInitialRequest: async () => toOperationResponse(initialResponse, true),
    sendPollRequest: async (path, pollOptions) => {
      if (waitedMs + nextWaitMs > maxWaitMs) throw new WaitBoundReached(path);
      waitedMs += nextWaitMs;
      await sleep(nextWaitMs, pollOptions?.abortSignal ?? options.abortSignal);
      const response = await client.pathUnchecked(path).get({
        ...(pollOptions?.abortSignal ? { abortSignal: pollOptions.abortSignal } : {}),
      });
      const status = Number(response.status);
      // A status URL that fails is a failure of the call, not of the operation.
      if (status >= 400 && !isStatusBody(response.body)) {
        throw armErrorFromResponse(
          { status, headers: lowerCaseHeaders(response.headers), body: response.body },
          `Polling ${new URL(path).pathname}`,
        );
      }
      onPoll?.(response);
      return toOperationResponse(response);
    },
  };

  return createHttpPoller<TResult, OperationState<TResult>>(lro, {
    intervalInMs: 0,
    resourceLocationConfig: options.resourceLocationConfig ?? "location",
    resolveOnUnsuccessful: true,
    processResult: async (result) => (result as HttpResponse).body as TResult,
  });
}

/**
 * Runs an operation to its end and reports how it ended, without throwing for a failed
 * operation (the caller decides).
 */
export async function pollLongRunningOperation<TResult>(
  client: Client,
  initialResponse: HttpResponse,
  options: LongRunningOptions = {},
): Promise<LongRunningOutcome<TResult>> {
  let lastStatus: OperationResourceOutput | undefined = isStatusBody(initialResponse.body)
    ? initialResponse.body
    : undefined;
  const poller = getLongRunningPoller<TResult>(client, initialResponse, options, (response) => {
    if (isStatusBody(response.body)) lastStatus = response.body;
  });
  let result: TResult;
  try {
    result = await poller.pollUntilDone(
      options.abortSignal ? { abortSignal: options.abortSignal } : undefined,
    );
  } catch (thrown) {
    if (!(thrown instanceof WaitBoundReached)) throw thrown;
    return { status: "running", result: undefined, lastStatus, statusUrl: thrown.statusUrl };
  }
  const state = poller.operationState;
  const status =
    state?.status === "failed" || state?.status === "canceled" ? state.status : "succeeded";
  return { status, result: status === "succeeded" ? result : undefined, lastStatus };
}

/**
 * Runs an operation to its end and returns its result.
 *
 * @param operation - what is being done, for error messages.
 * @throws AppError with the service's code when the operation fails or is cancelled, and a
 * retryable `OperationStillRunning` when it outlasts the wait bound, so that the activity's
 * durable retry, not this call, waits for it.
 */
export async function runLongRunningOperation<TResult>(
  client: Client,
  initialResponse: HttpResponse,
  operation: string,
  options: LongRunningOptions = {},
): Promise<{ result: TResult | undefined; lastStatus: OperationResourceOutput | undefined }> {
  let outcome: LongRunningOutcome<TResult>;
  try {
    outcome = await pollLongRunningOperation<TResult>(client, initialResponse, options);
  } catch (thrown) {
    throw armErrorFromThrown(thrown, operation);
  }
  if (outcome.status === "running") throw operationStillRunning(operation, outcome.statusUrl);
  if (outcome.status !== "succeeded") {
    const error: AppError = armErrorFromOperation(outcome.lastStatus?.error, operation);
    throw error;
  }
  return { result: outcome.result, lastStatus: outcome.lastStatus };
}

/**
 * The retryable failure of a call whose operation outlasted the wait bound: the caller's durable
 * retry asks again later instead of the activity waiting.
 */
export function operationStillRunning(operation: string, statusUrl?: string): AppError {
  return new AppError(
    ProviderErrorCodes.operationStillRunning,
    `${operation}: the operation is still running${statusUrl ? ` (${new URL(statusUrl).pathname})` : ""}`,
    {
      httpStatus: 503,
      retryable: true,
      recommendedAction: "Ask again in a minute; the service is still working on it",
    },
  );
}
