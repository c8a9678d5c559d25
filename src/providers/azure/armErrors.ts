/**
 * Classifies Resource Manager failures once, into the AppError family: what the service said
 * (its code, message and recommended action) and whether trying again may help.
 *
 * @remarks 400/403/404/409 are the caller's to fix and never retried; 429 and 5xx are transient
 * and carry the `Retry-After` the service asked for. Data Protection wraps its own explanation
 * in `error.additionalInfo[].info` (`type: "UserFacingError"`), which wins over the envelope.
 * The service's code becomes the catalogue's code for the same fact (`AZURE_REQUEST_FAILED` for
 * one pgprotect does not know) and travels beside it as `serviceCode`.
 */
import { isRestError, type RestError } from "@azure/core-rest-pipeline";
import { codeForServiceCode, type ErrorCode } from "../../domain/errorCodes.js";
import { AppError, NotFoundError } from "../../domain/errors.js";
import { roleAssignmentCommand } from "../../domain/protection/roleAssignments.js";
import type { ErrorOutput, UserFacingErrorOutput } from "./dataProtection/outputModels.js";

/**
 * Recommended actions for service codes users meet in onboarding, when the service names none
 * (keyed by the service's code).
 */
export const defaultRecommendedActions: Readonly<Record<string, string>> = {
  UserErrorDppDatasourceAlreadyProtected:
    "The datasource is already protected; use the existing backup instance, or stop protection there before protecting it again.",
  UserErrorMissingRequiredPermissions:
    "Grant the Backup vault's managed identity the roles it needs: for a Flexible Server, 'PostgreSQL Flexible Server Long Term Retention Backup Role' on the server and Reader on its resource group; for a Single Server database, Reader on the server and Key Vault Secrets User on the key vault (or get and list secret permissions in its access policy). Role assignments can take a few minutes to apply.",
  UserErrorMissingDBPermissions:
    "Grant the database user in the secret CONNECT on the database and SELECT on its tables and sequences.",
  ResourceNotFound:
    "Check the resource id: the datasource, vault, policy or backup instance it names does not exist in this subscription.",
  ResourceGroupNotFound: "Check the resource group name; it does not exist in this subscription.",
  UserErrorPolicyNotFound:
    "Create the backup policy in the vault first, or name a policy that exists in the vault.",
  UserErrorBackupLimitPerWeekReached:
    "A Flexible Server allows one backup a week; wait for next week or rely on the backup already taken.",
  AuthorizationFailed:
    "Grant the app's identity access to the Backup vault (for example Backup Contributor on the vault's resource group).",
  TooManyRequests: "Resource Manager is throttling requests; try again later.",
};

/** HTTP statuses that operation failures map to, by service code. */
const operationErrorStatus: Readonly<Record<string, number>> = {
  UserErrorDppDatasourceAlreadyProtected: 409,
  UserErrorMissingRequiredPermissions: 403,
  UserErrorMissingDBPermissions: 403,
  ResourceNotFound: 404,
  UserErrorPolicyNotFound: 404,
  UserErrorBackupLimitPerWeekReached: 409,
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
  /** The service's own code, when it named one. */
  readonly serviceCode?: string;
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

  constructor(code: ErrorCode, message: string, options: ArmErrorOptions) {
    super(code, message, {
      ...(options.serviceCode ? { serviceCode: options.serviceCode } : {}),
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
  /** The service's code, when it named one. */
  readonly serviceCode: string | undefined;
  readonly message: string;
  readonly recommendedAction: string | undefined;
  readonly target: string | undefined;
  readonly serviceRetryable: boolean | undefined;
}

/**
 * What to grant when Resource Manager refused the app's identity an action, read from its
 * `AuthorizationFailed` message ("The client '…' with object id '…' does not have authorization
 * to perform action '…' over scope '…'"): the refusal names the caller, the action and the scope,
 * which says more than advice about the Backup vault when the scope is a server or its group.
 */
export function refusedActionAdvice(message: string): string | undefined {
  const refused =
    /object id '([^']+)' does not have authorization(?: or an ABAC condition not fulfilled)? to perform action '([^']+)' over scope '([^']+)'/i.exec(
      message,
    );
  if (!refused) return undefined;
  const [, objectId = "", action = "", over = ""] = refused;
  // A list is refused over its parent's provider namespace (`…/rg/providers/Microsoft.Authorization`);
  // the role is granted on the parent itself.
  const scope = over.replace(/\/providers\/[^/]+$/i, "") || over;
  if (/\/read$/i.test(action)) {
    return `Grant pgprotect's identity (object id ${objectId}) Reader on ${scope}, which allows '${action}': ${roleAssignmentCommand(objectId, "Reader", scope)}; role assignments can take a few minutes to apply.`;
  }
  return `Grant pgprotect's identity (object id ${objectId}) a role that allows '${action}' on ${scope}; role assignments can take a few minutes to apply.`;
}

function explain(error: ErrorOutput | undefined, fallbackMessage: string): Explained {
  const facing = userFacingErrorOf(error);
  const code = error?.code || facing?.code || undefined;
  const detailed = facing?.innerError?.additionalInfo?.["DetailedNonLocalisedMessage"];
  const baseMessage = facing?.message || error?.message || fallbackMessage;
  const message =
    detailed && !baseMessage.includes(detailed) ? `${baseMessage} (${detailed})` : baseMessage;
  const fromService = facing?.recommendedAction?.filter((a) => a.trim() !== "").join(" ");
  // Only Resource Manager's own refusal names pgprotect's identity as the client; inside a
  // service's error (a Data Protection validation) the refused client is the vault's identity.
  const refusedAdvice =
    code === undefined || code === "AuthorizationFailed" ? refusedActionAdvice(message) : undefined;
  return {
    serviceCode: code,
    message,
    recommendedAction:
      fromService || refusedAdvice || (code ? defaultRecommendedActions[code] : undefined),
    target: error?.target || facing?.target,
    serviceRetryable: facing?.isRetryable,
  };
}

/**
 * pgprotect's code for what the service answered: the catalogue's code for its code, and where it
 * named none or one pgprotect does not know, the generic code its HTTP status says.
 */
function codeOf(serviceCode: string | undefined, statusCode: number | undefined): ErrorCode {
  const known =
    serviceCode === undefined ? "AZURE_REQUEST_FAILED" : codeForServiceCode(serviceCode);
  if (known !== "AZURE_REQUEST_FAILED") return known;
  // Every 403 of Resource Manager is a refusal of the caller (LinkedAuthorizationFailed,
  // RequestDisallowedByPolicy, …), whatever code it names.
  if (statusCode === 403) return "AUTHORIZATION_FAILED";
  if (statusCode === 404) return "RESOURCE_NOT_FOUND";
  if (statusCode === 429) return "AZURE_THROTTLED";
  return "AZURE_REQUEST_FAILED";
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
  const explained = explain(error, `${operation} failed with HTTP ${statusCode}`);
  const code = codeOf(explained.serviceCode, statusCode);
  const serviceCode = explained.serviceCode ? { serviceCode: explained.serviceCode } : {};
  const retryAfterMs = parseRetryAfterMs(response.headers["retry-after"]);
  if (statusCode === 404) {
    return new NotFoundError(code, explained.message, {
      ...serviceCode,
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
    : (operationErrorStatus[explained.serviceCode ?? ""] ?? statusCode);
  if (httpStatus === 404) {
    return new NotFoundError(code, explained.message, {
      ...serviceCode,
      ...(explained.recommendedAction ? { recommendedAction: explained.recommendedAction } : {}),
    });
  }
  return new ArmError(code, explained.message, {
    ...serviceCode,
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
 * @remarks There is no HTTP status here; user errors (service codes `UserError*`) are the caller's to fix,
 * anything else is the service's and retryable unless the service says otherwise.
 */
export function armErrorFromOperation(error: ErrorOutput | undefined, operation: string): AppError {
  const explained = explain(error, `${operation} did not succeed`);
  const service = explained.serviceCode ?? "";
  const userError = service.startsWith("UserError") || service in operationErrorStatus;
  const httpStatus = operationErrorStatus[service] ?? (userError ? 400 : 502);
  const code = codeOf(explained.serviceCode, httpStatus);
  const serviceCode = explained.serviceCode ? { serviceCode: explained.serviceCode } : {};
  if (httpStatus === 404) {
    return new NotFoundError(code, explained.message, {
      ...serviceCode,
      ...(explained.recommendedAction ? { recommendedAction: explained.recommendedAction } : {}),
    });
  }
  return new ArmError(code, explained.message, {
    ...serviceCode,
    httpStatus,
    retryable: explained.serviceRetryable ?? !userError,
    ...(explained.recommendedAction ? { recommendedAction: explained.recommendedAction } : {}),
    ...(explained.target ? { target: explained.target } : {}),
  });
}

/**
 * The answer a thrown `RestError` carries: SDK clients (`@azure/arm-authorization`, any client
 * built on `@azure/core-client`) throw for an error status instead of returning it, with the
 * response attached and the service's code and message parsed into the error.
 */
function answerOf(thrown: RestError, statusCode: number): ErrorResponseLike {
  const response = thrown.response;
  let body: unknown;
  try {
    body = response?.bodyAsText ? (JSON.parse(response.bodyAsText) as unknown) : undefined;
  } catch {
    body = undefined;
  }
  if (!isRecord(body) || !isRecord(body["error"])) {
    // No ARM error body to read: what the client parsed from the answer is all there is.
    body = thrown.code ? { error: { code: thrown.code, message: thrown.message } } : {};
  }
  return { status: statusCode, headers: response?.headers.toJSON() ?? {}, body };
}

/**
 * Turns anything a client call threw into an AppError: AppErrors pass through; a `RestError`
 * with a status is Resource Manager's answer and is classified as {@link armErrorFromResponse}
 * classifies one (a 403 stays a refusal, a 404 a missing resource, only 408, 429 and 5xx are
 * retryable); only a failure with no answer at all (DNS, reset, timeout) is
 * `RESOURCE_MANAGER_UNREACHABLE`, and retryable.
 */
export function armErrorFromThrown(thrown: unknown, operation: string): AppError {
  if (thrown instanceof AppError) return thrown;
  if (isRestError(thrown) && thrown.statusCode !== undefined) {
    const statusCode = thrown.statusCode;
    if (statusCode >= 400) return armErrorFromResponse(answerOf(thrown, statusCode), operation);
    // A success the client could not read (a body its model rejects): asking again reads the same.
    return new ArmError("INVALID_SERVICE_RESPONSE", `${operation}: ${thrown.message}`, {
      statusCode,
      httpStatus: 502,
      retryable: false,
      cause: thrown,
    });
  }
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  return new ArmError("RESOURCE_MANAGER_UNREACHABLE", `${operation} failed: ${message}`, {
    httpStatus: 502,
    retryable: true,
    cause: thrown,
  });
}
