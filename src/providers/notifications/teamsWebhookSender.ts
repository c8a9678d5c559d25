/**
 * Posts Adaptive Card messages to a Teams Workflows webhook with `fetch`.
 *
 * @remarks The webhook URL carries a signature (`sig=`): whoever has it can post to the channel.
 * It is never logged and never part of an error message.
 */
import {
  TEAMS_MESSAGE_LIMIT_BYTES,
  teamsMessageBytes,
  type TeamsMessage,
} from "../../domain/notifications/teamsCard.js";
import {
  deliverWithRetries,
  NotificationDeliveryError,
  type DeliveryRetryOptions,
  NotificationErrorCodes,
  parseRetryAfter,
  type TeamsSender,
} from "./types.js";

/** Options of {@link TeamsWebhookSender}. */
export interface TeamsWebhookSenderOptions extends DeliveryRetryOptions {
  /** The Workflows webhook URL (a secret). */
  readonly url: string;
  /** Per-request timeout. Default 15 s. */
  readonly timeoutMs?: number;
  /** Replaceable for tests. */
  readonly fetch?: typeof fetch;
}

/** {@link TeamsSender} over a Workflows webhook. */
export class TeamsWebhookSender implements TeamsSender {
  readonly #url: string;
  readonly #retry: DeliveryRetryOptions;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: TeamsWebhookSenderOptions) {
    if (!/^https?:\/\//i.test(options.url) || !URL.canParse(options.url)) {
      throw new NotificationDeliveryError(
        NotificationErrorCodes.rejected,
        "The Teams webhook URL is not an http(s) URL",
        {
          retryable: false,
          recommendedAction:
            "Copy the URL from the Workflows trigger 'When a Teams webhook request is received'.",
        },
      );
    }
    this.#url = options.url;
    this.#retry = options;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#fetch = options.fetch ?? fetch;
  }

  /** Keeps the URL out of `console.log(sender)` and JSON dumps. */
  toJSON(): Record<string, unknown> {
    return { kind: "TeamsWebhookSender", host: new URL(this.#url).host };
  }

  /**
   * Posts one message, retrying 429 and 5xx answers and network failures.
   *
   * @throws NotificationDeliveryError `NOTIFICATION_REJECTED` (not retryable) for a message over
   * Teams' limit or a 4xx answer; `NOTIFICATION_THROTTLED` or `NOTIFICATION_ENDPOINT_UNAVAILABLE`
   * (retryable, with `retryAfterMs` when known) once the attempts are spent.
   */
  async send(message: TeamsMessage): Promise<void> {
    const body = JSON.stringify(message);
    const size = teamsMessageBytes(message);
    if (size > TEAMS_MESSAGE_LIMIT_BYTES) {
      throw new NotificationDeliveryError(
        NotificationErrorCodes.rejected,
        `The Teams message has ${size} bytes; Teams accepts at most ${TEAMS_MESSAGE_LIMIT_BYTES}`,
        { retryable: false },
      );
    }
    await deliverWithRetries(() => this.#attempt(body), this.#retry);
  }

  async #attempt(body: string): Promise<NotificationDeliveryError | undefined> {
    let response: Response;
    try {
      response = await this.#fetch(this.#url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      // Network errors can quote the request; only a code and the error's kind are kept.
      const code =
        (error as { cause?: { code?: unknown } }).cause?.code ?? (error as { name?: unknown }).name;
      return new NotificationDeliveryError(
        NotificationErrorCodes.unavailable,
        `The Teams webhook could not be reached (${String(code ?? "network error")})`,
        { retryable: true },
      );
    }
    const text = await response.text().catch(() => "");
    const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
    // Legacy connectors answer 200 with the throttling message in the body instead of a 429.
    if (response.status === 429 || (response.ok && /HTTP error 429/i.test(text))) {
      return new NotificationDeliveryError(
        NotificationErrorCodes.throttled,
        "The Teams webhook is throttling requests (HTTP 429)",
        {
          retryable: true,
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        },
      );
    }
    if (response.ok) return undefined;
    const detail = summarize(text);
    if (response.status >= 500) {
      return new NotificationDeliveryError(
        NotificationErrorCodes.unavailable,
        `The Teams webhook failed with HTTP ${response.status}${detail}`,
        { retryable: true, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
      );
    }
    return new NotificationDeliveryError(
      NotificationErrorCodes.rejected,
      `The Teams webhook refused the message with HTTP ${response.status}${detail}`,
      {
        retryable: false,
        recommendedAction:
          response.status === 401 || response.status === 403 || response.status === 404
            ? "Check that the workflow still exists and is turned on, and that the configured URL is the current one."
            : "Check the workflow's run history in Power Automate for the reason.",
      },
    );
  }
}

function summarize(text: string): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  if (oneLine === "") return "";
  // Error bodies of Power Automate can echo the trigger URL; drop anything that looks like one.
  const safe = oneLine.replace(/https?:\/\/\S+/gi, "<url>");
  return `: ${safe.length > 300 ? `${safe.slice(0, 299)}…` : safe}`;
}
