/**
 * The exit codes of the client commands (`protect`, `backup`, `restore`, `jobs`, `instances`,
 * `status`, `policies` and the lifecycle's `stop`, `suspend`, `resume`, `change-policy`, `delete`,
 * `undelete`, `deleted`, and `vaults`): a script branches on them, so each keeps its meaning
 * for good.
 */
export const ClientExitCodes = {
  /** Done: the request was accepted and, with `--wait`, the work succeeded. */
  ok: 0,
  /**
   * The work ended badly: a protection's outcome `Failed`, a job `Failed` or `Cancelled`, a
   * lifecycle operation `Failed`.
   */
  failed: 1,
  /** The command line is wrong (an unknown option, a missing argument, a bad value). */
  usage: 2,
  /** The API answered with a problem document (a 4xx other than 401 and 403, or a 5xx). */
  refused: 3,
  /** The API refused the caller (401, 403): no key, a wrong key or token, or a missing role. */
  unauthorized: 4,
  /** No API could be reached: nothing answers at the URL, or no URL was given or found. */
  unreachable: 5,
  /**
   * `vaults --strict`: a vault falls short of the recommended baseline (a warning, an unknown
   * setting, or a vault that could not be read). Without `--strict` warnings exit 0.
   */
  belowBaseline: 6,
  /** Waiting (`--wait`, `--watch`) was stopped with Ctrl+C; the work goes on in the app. */
  interrupted: 130,
} as const;

/** One of {@link ClientExitCodes}. */
export type ClientExitCode = (typeof ClientExitCodes)[keyof typeof ClientExitCodes];
