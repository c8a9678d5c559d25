/**
 * The one rule of how an activity answers a failure: an expected one (an {@link AppError} that
 * retrying cannot mend) becomes an {@link ActivityFailure} value with its catalogue code; a
 * transient one is thrown again for the orchestration's retry policy.
 */
import { isAppError, type AppError } from "../domain/errors.js";
import type { ActivityFailure, ActivityResult } from "./names.js";

/** Turns an expected failure into a value; rethrows transient ones for the retry policy. */
export async function expected<T>(work: () => Promise<T>): Promise<ActivityResult<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    if (isAppError(error) && !error.retryable) return failureOf(error);
    throw error;
  }
}

function failureOf(error: AppError): ActivityFailure {
  return {
    ok: false,
    code: error.code,
    ...(error.serviceCode ? { serviceCode: error.serviceCode } : {}),
    message: error.message,
    ...(error.recommendedAction ? { recommendedAction: error.recommendedAction } : {}),
  };
}
