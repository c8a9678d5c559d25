/** Named retry policies for activities: transient failures are thrown and retried with back-off. */
import * as df from "durable-functions";

/** Calls to Azure or the local provider that may fail transiently (throttling, restarts). */
export function transientRetry(): df.RetryOptions {
  const options = new df.RetryOptions(5_000, 5);
  options.backoffCoefficient = 2;
  options.maxRetryIntervalInMilliseconds = 60_000;
  return options;
}

/** How long `protectDatasource` keeps asking validateForBackup while role assignments propagate. */
export const validationRetry = {
  /** Attempts in all, the first included. */
  attempts: 6,
  /** Wait before the second attempt; doubles each time. */
  firstDelaySeconds: 15,
} as const;

/** How `protectDatasource` waits for a new backup instance to reach ProtectionConfigured. */
export const protectionPolling = {
  intervalSeconds: 10,
  maxPolls: 60,
} as const;

/** How `adhocBackup` follows a job to its end. */
export const jobPolling = {
  /** The first wait after a read that finds the job running; doubles up to the interval. */
  firstIntervalSeconds: 0.25,
  intervalSeconds: 15,
  /** A backup that runs longer than this many polls is reported as still running, not failed. */
  maxPolls: 2_880,
} as const;

/** How long `protectServer` waits for each batch of database protections. */
export const serverProtectionWaiting = {
  /**
   * A database whose protection is still running this long after its batch started is reported
   * as stuck and no longer waited on (`PROTECT_SERVER_CHILD_TIMEOUT_MINUTES`). A protection
   * normally ends within minutes: validation retries wait about 8 minutes in all, configuration
   * 10 at most.
   */
  defaultChildTimeoutMinutes: 60,
  /** The longest bound a caller may set: a week. */
  maxChildTimeoutMinutes: 10_080,
} as const;
