/**
 * Classifies Resource Manager failures once, into the AppError family: what the service said
 * (its code, message and recommended action) and whether trying again may help.
 *
 * @remarks 400/403/404/409 are the caller's to fix and never retried; 429 and 5xx are transient
 * and carry the `Retry-After` the service asked for. Data Protection wraps its own explanation
 * in `error.additionalInfo[].info` (`type: "UserFacingError"`), which wins over the envelope.
 */
import { AppError, NotFoundError } from "../../domain/errors.js";
import { WEEKLY_BACKUP_LIMIT_CODE } from "../../domain/protection/rules.js";
import { ProviderErrorCodes } from "../ports.js";
import type { ErrorOutput, UserFacingErrorOutput } from "./dataProtection/outputModels.js";

/** Recommended actions for codes users meet in onboarding, when the service names none. */
export const defaultRecommendedActions: Readonly<Record<string, string>> = {
  [ProviderErrorCodes.datasourceAlreadyProtected]:
    "The datasource is already protected; use the existing backup instance, or stop protection there before protecting it again.",
  [ProviderErrorCodes.missingRequiredPermissions]:
    "Grant the Backup vault's managed identity the roles it needs: for a Flexible Server, 'PostgreSQL Flexible Server Long Term Retention Backup Role' on the server and Reader on its resource group; for a Single Server database, Reader on the server and Key Vault Secrets User on the key vault (or get and list secret permissions in its access policy). Role assignments can take a few minutes to apply.",
  [ProviderErrorCodes.missingDbPermissions]:
    "Grant the database user in the secret CONNECT on the database and SELECT on its tables and sequences.",
  ResourceNotFound:
    "Check the resource id: the datasource, vault, policy or backup instance it names does not exist in this subscription.",
  ResourceGroupNotFound: "Check the resource group name; it does not exist in this subscription.",
  UserErrorPolicyNotFound:
    "Create the backup policy in the vault first, or name a policy that exists in the vault.",
  [WEEKLY_BACKUP_LIMIT_CODE]:
    "A Flexible Server allows one backup a week; wait for next week or rely on the backup already taken.",
  AuthorizationFailed:
    "Grant the app's identity access to the Backup vault (for example Backup Contributor on the vault's resource group).",
  TooManyRequests: "Resource Manager is throttling requests; try again later.",
};

/** HTTP statuses that operation failures map to, by service code. */
const operationErrorStatus: Readonly<Record<string, number>> = {
  [ProviderErrorCodes.datasourceAlreadyProtected]: 409,
  [ProviderErrorCodes.missingRequiredPermissions]: 403,
  [ProviderErrorCodes.missingDbPermissions]: 403,
  ResourceNotFound: 404,
  UserErrorPolicyNotFound: 404,
  [WEEKLY_BACKUP_LIMIT_CODE]: 409,
};

/** Options of an {@link ArmError}. */
export interface ArmErrorOptions {
  readonly statusCode?: number;
  readonly httpStatus: number;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly recommendedAction?: string;
  readonly target?: string;
  readonly cause?: unknown;
}

/** A Resource Manager failure: the service's code and message, classified. */
export class ArmError extends AppError {
  override readonly name = "ArmError";
  /** The HTTP status Resource Manager answered, if the failure came from a response. */
  readonly statusCode: number | undefined;
  /** How long the service asked the caller to wait, in milliseconds. */
  readonly retryAfterMs: number | undefined;
  /** What the error is about (`error.target`), when the service says. */
  readonly target: string | undefined;

  constructor(code: string, message: string, options: ArmErrorOptions) {
    super(code, message, {
      httpStatus: options.httpStatus,
      retryable: options.retryable,
      ...(options.recommendedAction ? { recommendedAction: options.recommendedAction } : {}),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.statusCode = options.statusCode;
    this.retryAfterMs = options.retryAfterMs;
    this.target = options.target;
  }
}

/**
 * Parses a `Retry-After` header: delay-seconds or an HTTP date.
 *
 * @returns milliseconds to wait, or `undefined` when absent or unreadable.
 */
export function parseRetryAfterMs(
  value: string | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The `UserFacingError` inside `additionalInfo`, where Data Protection puts its explanation. */
export function userFacingErrorOf(
  error: ErrorOutput | undefined,
): UserFacingErrorOutput | undefined {
  const entry = error?.additionalInfo?.find(
    (item) => item.type === "UserFacingError" && isRecord(item.info),
  );
  return entry?.info as UserFacingErrorOutput | undefined;
}

interface Explained {
  readonly code: string;
  readonly message: string;
  readonly recommendedAction: string | undefined;
  readonly target: string | undefined;
  readonly serviceRetryable: boolean | undefined;
}

function explain(
  error: ErrorOutput | undefined,
  fallbackCode: string,
  fallbackMessage: string,
): Explained {
  const facing = userFacingErrorOf(error);
  const code = error?.code || facing?.code || fallbackCode;
  const detailed = facing?.innerError?.additionalInfo?.["DetailedNonLocalisedMessage"];
  const baseMessage = facing?.message || error?.message || fallbackMessage;
  const message =
    detailed && !baseMessage.includes(detailed) ? `${baseMessage} (${detailed})` : baseMessage;
  const fromService = facing?.recommendedAction?.filter((a) => a.trim() !== "").join(" ");
  return {
    code,
    message,
    recommendedAction: fromService || defaultRecommendedActions[code],
    target: error?.target || facing?.target,
    serviceRetryable: facing?.isRetryable,
  };
}

/** The parts of a response {@link armErrorFromResponse} reads. */
export interface ErrorResponseLike {
  readonly status: string | number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: unknown;
}

/**
 * Turns an error response of Resource Manager into an AppError.
 *
 * @param operation - what was being done, for the message when the body says nothing.
 */
export function armErrorFromResponse(response: ErrorResponseLike, operation: string): AppError {
  const statusCode = Number(response.status);
  const body = isRecord(response.body) ? response.body : {};
  const error = isRecord(body["error"]) ? (body["error"] as ErrorOutput) : undefined;
  const explained = explain(
    error,
    `Http${statusCode}`,
    `${operation} failed with HTTP ${statusCode}`,
  );
  const retryAfterMs = parseRetryAfterMs(response.headers["retry-after"]);
  if (statusCode === 404) {
    return new NotFoundError(explained.code, explained.message, {
      ...(explained.recommendedAction ? { recommendedAction: explained.recommendedAction } : {}),
    });
  }
  const transient = statusCode === 429 || statusCode >= 500 || statusCode === 408;
  // A failing upstream is a gateway problem for our callers, not a fault of ours; known user
  // errors get the status that says what they are (the service answers 400 for most).
  const httpStatus = transient
    ? statusCode === 429
      ? 429
      : 502
    : (operationErrorStatus[explained.code] ?? statusCode);
  if (httpStatus === 404) {
    return new NotFoundError(explained.code, explained.message, {
      ...(explained.recommendedAction ? { recommendedAction: explained.recommendedAction } : {}),
    });
  }
  return new ArmError(explained.code, explained.message, {
    statusCode,
    httpStatus,
    retryable: transient,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    ...(explained.recommendedAction ? { recommendedAction: explained.recommendedAction } : {}),
    ...(explained.target ? { target: explained.target } : {}),
  });
}

/**
 * Turns the `error` of a failed or cancelled long-running operation into an AppError.
 *
 * @remarks There is no HTTP status here; user errors (`UserError*`) are the caller's to fix,
 * anything else is the service's and retryable unless the service says otherwise.
 */
export function armErrorFromOperation(error: ErrorOutput | undefined, operation: string): AppError {
  const explained = explain(error, "OperationFailed", `${operation} did not succeed`);
  const userError =
    explained.code.startsWith("UserError") || explained.code in operationErrorStatus;
  const httpStatus = operationErrorStatus[explained.code] ?? (userError ? 400 : 502);
  if (httpStatus === 404) {
    return new NotFoundError(explained.code, explained.message, {
      ...(explained.recommendedAction ? { recommendedAction: explained.recommendedAction } : {}),
    });
  }
  return new ArmError(explained.code, explained.message, {
    httpStatus,
    retryable: explained.serviceRetryable ?? !userError,
    ...(explained.recommendedAction ? { recommendedAction: explained.recommendedAction } : {}),
    ...(explained.target ? { target: explained.target } : {}),
  });
}

/**
 * Turns anything a client call threw into an AppError: AppErrors pass through, transport
 * failures (no response) are retryable.
 */
export function armErrorFromThrown(thrown: unknown, operation: string): AppError {
  if (thrown instanceof AppError) return thrown;
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  return new ArmError("ResourceManagerUnreachable", `${operation} failed: ${message}`, {
    httpStatus: 502,
    retryable: true,
    cause: thrown,
  });
}
