/**
 * The codes the orchestrations state their own outcomes with, besides the providers' codes they
 * pass on (`ProviderErrorCodes`): a named view onto the catalogue. `GET /api/protections/{id}` and
 * the `PgProtect.Protection.Failed` event carry them.
 */
import { ErrorCodes } from "../errorCodes.js";

export const OrchestrationErrorCodes = {
  /** A step's activity still failed after its retries, or the step failed unexpectedly. */
  stepFailed: ErrorCodes.PROTECTION_STEP_FAILED,
  /** The backup instance is configured, but its `PgProtect.Protection.Configured` event could not be published. */
  configuredEventNotPublished: ErrorCodes.PROTECTION_EVENT_NOT_PUBLISHED,
  /** The backup instance stayed in `ConfiguringProtection` past the polling bound. */
  protectionTimedOut: ErrorCodes.PROTECTION_TIMED_OUT,
  /** The backup instance left `ConfiguringProtection` for a state other than `ProtectionConfigured`. */
  configuringProtectionFailed: ErrorCodes.CONFIGURING_PROTECTION_FAILED,
  /** The orchestration itself failed in Durable terms (an exception nothing caught). */
  orchestrationFailed: ErrorCodes.PROTECTION_ORCHESTRATION_FAILED,
  /** The orchestration was terminated (or canceled) before it stated an outcome. */
  orchestrationTerminated: ErrorCodes.PROTECTION_TERMINATED,
  /** The orchestration completed without an output (a history written by an older version). */
  noOutcome: ErrorCodes.PROTECTION_ENDED_WITHOUT_OUTCOME,
  /** A database's own protection was running under its instance id when the server's reached it. */
  protectionInProgress: ErrorCodes.PROTECTION_IN_PROGRESS,
  /** A database's protection could not start or crashed. */
  protectionNotRun: ErrorCodes.PROTECTION_NOT_RUN,
  /** A database's protection was still running when the server's bound on waiting was reached. */
  protectionStuck: ErrorCodes.PROTECTION_STUCK,
  /** Two databases of a server map to one protection instance id; only the first was protected. */
  protectionIdShared: ErrorCodes.PROTECTION_ID_SHARED,
  /** A job watcher pass could not list or publish; the next pass starts from the same watermark. */
  jobWatchIncomplete: ErrorCodes.JOB_WATCH_INCOMPLETE,
} as const;

/** One of {@link OrchestrationErrorCodes}. */
export type OrchestrationErrorCode =
  (typeof OrchestrationErrorCodes)[keyof typeof OrchestrationErrorCodes];

/**
 * The message of an error that crossed the activity or sub-orchestration boundary: the
 * extension's text names the function that failed ("Activity function 'x' failed: ..."),
 * which is kept, first line only.
 */
export function failureMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split("\n")[0] ?? text).trim() || "no message";
}
