/** Awaiting the failure of a call that must fail with the app's own error. */
import { expect } from "vitest";
import { AppError } from "../../src/domain/errors.js";

/** The {@link AppError} `promise` rejects with; fails the test when it resolves or rejects otherwise. */
export async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}
