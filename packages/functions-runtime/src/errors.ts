/**
 * The runtime's own errors. The runtime is a host any Functions app can run on, so it shares no
 * error family with the app it hosts: a host failure carries a stable `code`, the HTTP status the
 * host answers with, and whether trying again may help. Nothing more: the host answers with the
 * message alone, so it keeps no input problems or recommended actions of the app's kind.
 */

/** Options of {@link RuntimeError}. */
export interface RuntimeErrorOptions {
  readonly httpStatus?: number;
  readonly retryable?: boolean;
  readonly cause?: unknown;
}

/** A failure of the host, with a stable code such as `RUNTIME_FUNCTION_NOT_FOUND`. */
export class RuntimeError extends Error {
  override readonly name: string = "RuntimeError";
  readonly code: string;
  readonly httpStatus: number;
  readonly retryable: boolean;

  constructor(code: string, message: string, options: RuntimeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.httpStatus = options.httpStatus ?? 500;
    this.retryable = options.retryable ?? false;
  }
}

/** A request the host refuses as malformed (400). */
export class InvalidInputError extends RuntimeError {
  override readonly name = "InvalidInputError";

  constructor(code: string, message: string) {
    super(code, message, { httpStatus: 400 });
  }
}

/** Something named (a function, an instance) is not known to the host (404). */
export class NotFoundError extends RuntimeError {
  override readonly name = "NotFoundError";

  constructor(code: string, message: string) {
    super(code, message, { httpStatus: 404 });
  }
}

/** Whether a value is one of the runtime's errors. */
export function isRuntimeError(value: unknown): value is RuntimeError {
  return value instanceof RuntimeError;
}
