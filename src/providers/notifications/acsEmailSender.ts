/**
 * Sends email with Azure Communication Services (`@azure/communication-email`).
 *
 * @remarks The service queues the message and answers a long-running operation; `send` waits for
 * it to finish so a failure reaches the caller. The message id is passed as the operation id, so
 * the service itself recognises a repeated send of the same message.
 */
import { EmailClient, type EmailMessage } from "@azure/communication-email";
import {
  NotificationDeliveryError,
  NotificationErrorCodes,
  parseRetryAfter,
  type EmailSender,
  type OutgoingEmail,
} from "./types.js";

/** A credential `EmailClient` accepts (a managed identity, `DefaultAzureCredential`, a key). */
export type AcsCredential = Extract<ConstructorParameters<typeof EmailClient>[1], object>;

/** Options of {@link AcsEmailSender}: a connection string, or an endpoint and a credential. */
export type AcsEmailSenderOptions =
  | {
      readonly connectionString: string;
      readonly senderAddress: string;
      readonly pollIntervalMs?: number;
    }
  | {
      readonly endpoint: string;
      readonly credential: AcsCredential;
      readonly senderAddress: string;
      readonly pollIntervalMs?: number;
    };

/** {@link EmailSender} over Azure Communication Services Email. */
export class AcsEmailSender implements EmailSender {
  readonly #client: EmailClient;
  readonly #senderAddress: string;
  readonly #pollIntervalMs: number;

  constructor(options: AcsEmailSenderOptions) {
    this.#client =
      "connectionString" in options
        ? new EmailClient(options.connectionString)
        : new EmailClient(options.endpoint, options.credential);
    this.#senderAddress = options.senderAddress;
    this.#pollIntervalMs = options.pollIntervalMs ?? 2_000;
  }

  /** Keeps the connection string out of `console.log(sender)` and JSON dumps. */
  toJSON(): Record<string, unknown> {
    return { kind: "AcsEmailSender", senderAddress: this.#senderAddress };
  }

  /**
   * Sends one message and waits until the service reports it sent.
   *
   * @throws NotificationDeliveryError: retryable for 429 (with the service's `Retry-After`) and
   * 5xx, not retryable for other refusals and for a send the service reports as failed.
   */
  async send(email: OutgoingEmail): Promise<void> {
    const message: EmailMessage = {
      senderAddress: this.#senderAddress,
      content: { subject: email.subject, plainText: email.text, html: email.html },
      recipients: {
        to: email.to.map((address) => ({ address })),
        ...(email.cc && email.cc.length > 0
          ? { cc: email.cc.map((address) => ({ address })) }
          : {}),
        ...(email.bcc && email.bcc.length > 0
          ? { bcc: email.bcc.map((address) => ({ address })) }
          : {}),
      },
    };
    let result;
    try {
      const poller = await this.#client.beginSend(message, {
        ...(email.messageId ? { operationId: email.messageId } : {}),
        updateIntervalInMs: this.#pollIntervalMs,
      });
      result = await poller.pollUntilDone();
    } catch (error) {
      throw acsError(error);
    }
    if (result.status !== "Succeeded") {
      throw new NotificationDeliveryError(
        NotificationErrorCodes.rejected,
        `Azure Communication Services did not send the message (${result.status}${result.error?.code ? `: ${result.error.code}` : ""})`,
        { retryable: false },
      );
    }
  }
}

function acsError(error: unknown): NotificationDeliveryError {
  const details = error as {
    statusCode?: number;
    code?: string;
    response?: { headers?: { get(name: string): string | undefined } };
  };
  const status = details.statusCode;
  const retryAfterMs = parseRetryAfter(details.response?.headers?.get("retry-after"));
  if (status === 429) {
    return new NotificationDeliveryError(
      NotificationErrorCodes.throttled,
      "Azure Communication Services is throttling email (HTTP 429)",
      {
        retryable: true,
        cause: error,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      },
    );
  }
  if (status !== undefined && status >= 400 && status < 500) {
    return new NotificationDeliveryError(
      NotificationErrorCodes.rejected,
      `Azure Communication Services refused the message (HTTP ${status}${details.code ? `, ${details.code}` : ""})`,
      {
        retryable: false,
        cause: error,
        recommendedAction: "Check the sender address (a verified domain) and the recipients.",
      },
    );
  }
  return new NotificationDeliveryError(
    NotificationErrorCodes.unavailable,
    `Azure Communication Services could not be reached (${status ?? details.code ?? "network error"})`,
    { retryable: true, cause: error },
  );
}
