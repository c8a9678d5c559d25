/**
 * The one error family of pgprotect. Every failure a user can see carries a stable `code`
 * (kept across process and activity boundaries, where `instanceof` no longer works), the HTTP
 * status it maps to, and whether trying again may help. Codes come from the one catalogue
 * (`errorCodes.ts`); where the service had a code of its own, it travels beside as `serviceCode`.
 */
import type { ErrorCode } from "./errorCodes.js";

export type { ErrorCode } from "./errorCodes.js";

/** One problem in a caller's input, located by a JSON path (`$.policyRules[0].name`) or a flag. */
export interface InputProblem {
  /** JSON path (`$.a.b[0]`) or CLI flag (`--interval-count`) of the value at fault. */
  readonly path: string;
  /** Stable machine-readable code of the catalogue, e.g. `SCHEDULE_FREQUENCY_UNSUPPORTED`. */
  readonly code: ErrorCode;
  /** A sentence a user understands. */
  readonly message: string;
}

/** Options shared by every {@link AppError}. */
export interface AppErrorOptions {
  readonly httpStatus?: number;
  readonly retryable?: boolean;
  readonly cause?: unknown;
  readonly problems?: readonly InputProblem[];
  /** What the user can do about it. */
  readonly recommendedAction?: string;
  /** The service's own code, where the failure comes from Azure (or a mirror of it). */
  readonly serviceCode?: string;
}

/**
 * The base of every error pgprotect raises on purpose.
 *
 * @remarks `code` is the contract: HTTP problem details, CLI messages, activity results and events
 * all carry it. Messages may be reworded; codes may not. The code is one of the catalogue's, so a
 * literal outside it does not compile.
 */
export class AppError extends Error {
  override readonly name: string = "AppError";
  readonly code: ErrorCode;
  /** The service's own code (e.g. `UserErrorDppDatasourceAlreadyProtected`), where there is one. */
  readonly serviceCode: string | undefined;
  readonly httpStatus: number;
  readonly retryable: boolean;
  readonly problems: readonly InputProblem[];
  readonly recommendedAction: string | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.serviceCode = options.serviceCode;
    this.httpStatus = options.httpStatus ?? 500;
    this.retryable = options.retryable ?? false;
    this.problems = options.problems ?? [];
    this.recommendedAction = options.recommendedAction;
  }

  /** A plain object that survives JSON (activity results, events, logs). */
  toJSON(): SerializedAppError {
    return {
      code: this.code,
      ...(this.serviceCode ? { serviceCode: this.serviceCode } : {}),
      message: this.message,
      httpStatus: this.httpStatus,
      retryable: this.retryable,
      ...(this.problems.length > 0 ? { problems: this.problems } : {}),
      ...(this.recommendedAction ? { recommendedAction: this.recommendedAction } : {}),
    };
  }
}

/** The JSON form of an {@link AppError}. */
export interface SerializedAppError {
  readonly code: ErrorCode;
  readonly serviceCode?: string;
  readonly message: string;
  readonly httpStatus: number;
  readonly retryable: boolean;
  readonly problems?: readonly InputProblem[];
  readonly recommendedAction?: string;
}

/** Input that breaks a rule; carries every problem found, not just the first. */
export class InvalidInputError extends AppError {
  override readonly name = "InvalidInputError";

  constructor(
    code: ErrorCode,
    message: string,
    problems: readonly InputProblem[],
    cause?: unknown,
  ) {
    super(code, message, { httpStatus: 400, retryable: false, problems, cause });
  }
}

/** Something named does not exist. */
export class NotFoundError extends AppError {
  override readonly name = "NotFoundError";

  constructor(code: ErrorCode, message: string, options: Omit<AppErrorOptions, "httpStatus"> = {}) {
    super(code, message, { ...options, httpStatus: 404, retryable: false });
  }
}

/** Configuration read at start is unusable; the host must not start. */
export class ConfigurationError extends AppError {
  override readonly name = "ConfigurationError";

  constructor(message: string, problems: readonly InputProblem[]) {
    super("CONFIG_INVALID", message, { httpStatus: 500, retryable: false, problems });
  }
}

/** Narrows an unknown throwable to an {@link AppError}. */
export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}

/** Turns anything thrown into an {@link AppError}, keeping the original as `cause`. */
export function toAppError(value: unknown): AppError {
  if (isAppError(value)) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new AppError("INTERNAL", message, { httpStatus: 500, retryable: false, cause: value });
}
