/**
 * The ports notification delivery uses: a Teams sender and an email sender, each failing with a
 * {@link NotificationDeliveryError} that says whether trying again may help and when.
 */
import { AppError, type ErrorCode } from "../../domain/errors.js";
import { ErrorCodes } from "../../domain/errorCodes.js";
import type { TeamsMessage } from "../../domain/notifications/teamsCard.js";

/** An email ready to send; the sender adds the `from` address it was configured with. */
export interface OutgoingEmail {
  readonly to: readonly string[];
  readonly cc?: readonly string[];
  readonly bcc?: readonly string[];
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** A stable id of this message (the event or digest id); services that de-duplicate use it. */
  readonly messageId?: string;
}

/** Sends email. */
export interface EmailSender {
  send(email: OutgoingEmail): Promise<void>;
}

/** What a sender may use besides the message. */
export interface SendContext {
  /** A stable id of this message (the event or digest id). */
  readonly messageId?: string;
}

/** Posts a message to one Teams channel. */
export interface TeamsSender {
  send(message: TeamsMessage, context?: SendContext): Promise<void>;
}

/** Error codes of notification delivery: a named view onto the catalogue. */
export const NotificationErrorCodes = {
  /** The endpoint asked to slow down (HTTP 429) more times than the sender retries. */
  throttled: ErrorCodes.NOTIFICATION_THROTTLED,
  /** The endpoint failed (5xx, network, timeout); trying later may work. */
  unavailable: ErrorCodes.NOTIFICATION_ENDPOINT_UNAVAILABLE,
  /** The endpoint refused the message (4xx other than 429); trying again will not help. */
  rejected: ErrorCodes.NOTIFICATION_REJECTED,
  /** The SMTP relay offered no STARTTLS or refused it; nothing was sent, credentials included. */
  tlsUnavailable: ErrorCodes.NOTIFICATION_TLS_UNAVAILABLE,
  /** The TLS handshake with the SMTP relay failed (certificate not trusted, wrong name); nothing was sent. */
  tlsFailed: ErrorCodes.NOTIFICATION_TLS_FAILED,
  /** Another delivery of the same event to the same channel is in progress. */
  inProgress: ErrorCodes.NOTIFICATION_IN_PROGRESS,
  /** Some channels failed; the others were delivered and will not be repeated. */
  partialFailure: ErrorCodes.NOTIFICATION_PARTIAL_FAILURE,
} as const;

/** One of {@link NotificationErrorCodes}. */
export type NotificationErrorCode =
  (typeof NotificationErrorCodes)[keyof typeof NotificationErrorCodes];

/** A delivery failure. Messages never contain webhook URLs or credentials. */
export class NotificationDeliveryError extends AppError {
  override readonly name = "NotificationDeliveryError";
  /** How long the endpoint asked to wait before the next attempt, when it said. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: {
      retryable: boolean;
      retryAfterMs?: number;
      cause?: unknown;
      recommendedAction?: string;
    },
  ) {
    super(code, message, {
      httpStatus: options.retryable ? 503 : 502,
      retryable: options.retryable,
      cause: options.cause,
      ...(options.recommendedAction ? { recommendedAction: options.recommendedAction } : {}),
    });
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * Reads a `Retry-After` header: delay-seconds or an HTTP date.
 *
 * @returns milliseconds to wait (never negative), or `undefined` when absent or unreadable.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined || value.trim() === "") return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** How a sender retries a message in-process; the options both senders share. */
export interface DeliveryRetryOptions {
  /** Attempts per message, the first included. Default 3. */
  readonly maxAttempts?: number;
  /**
   * The longest `Retry-After` waited for in-process. A longer one ends the call with a retryable
   * error carrying the delay, for Event Grid or a durable retry to honour. Default 30 s.
   */
  readonly maxRetryAfterMs?: number;
  /** Wait when a failure gives no `Retry-After`; doubled per attempt. Default 1 s. */
  readonly backoffMs?: number;
  /** Replaceable for tests; must wait `ms` milliseconds. */
  readonly wait?: (ms: number) => Promise<void>;
}

/**
 * Runs `attempt` until it succeeds (answers `undefined`), fails for good, runs out of attempts,
 * or asks for a wait longer than the sender may hold a function invocation; then throws the last
 * failure.
 */
export async function deliverWithRetries(
  attempt: () => Promise<NotificationDeliveryError | undefined>,
  options: DeliveryRetryOptions,
): Promise<void> {
  const maxAttempts = Math.max(1, options.maxAttempts ?? 3);
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
  const backoffMs = options.backoffMs ?? 1_000;
  const wait = options.wait ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  for (let attemptNumber = 1; ; attemptNumber++) {
    const failure = await attempt();
    if (failure === undefined) return;
    if (!failure.retryable || attemptNumber >= maxAttempts) throw failure;
    const delay = failure.retryAfterMs ?? backoffMs * 2 ** (attemptNumber - 1);
    if (delay > maxRetryAfterMs) throw failure;
    await wait(delay);
  }
}
