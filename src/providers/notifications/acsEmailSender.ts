/**
 * Sends email with Azure Communication Services (`@azure/communication-email`).
 *
 * @remarks The service queues the message and answers a long-running operation; `send` waits for
 * it to finish so a failure reaches the caller. The message id is passed as the operation id (a
 * UUID), so the service itself recognises a repeated send of the same message, and throttling and
 * 5xx answers are retried in-process, as the Teams sender does, only while the wait is short.
 */
import { randomUUID } from "node:crypto";
import {
  EmailClient,
  type EmailClientOptions,
  type EmailMessage,
  type EmailSendResult,
} from "@azure/communication-email";
import type { TlsSettings } from "@azure/core-rest-pipeline";
import { stableUuid } from "../../domain/events/stableId.js";
import {
  deliverWithRetries,
  NotificationDeliveryError,
  type DeliveryRetryOptions,
  NotificationErrorCodes,
  parseRetryAfter,
  type EmailSender,
  type OutgoingEmail,
} from "./types.js";

/** A credential `EmailClient` accepts (a managed identity, `DefaultAzureCredential`, a key). */
export type AcsCredential = Extract<ConstructorParameters<typeof EmailClient>[1], object>;

/** What every {@link AcsEmailSender} is configured with, whichever way it authenticates. */
interface AcsEmailSenderCommonOptions extends DeliveryRetryOptions {
  /** An address of a domain connected to the Communication Services resource. */
  readonly senderAddress: string;
  /** Wait between status polls when the service gives no `Retry-After`. Default 2 s. */
  readonly pollIntervalMs?: number;
  /** Extra trust: a private CA behind a TLS-inspecting proxy, or a loopback fake. */
  readonly tlsOptions?: TlsSettings;
}

/** Options of {@link AcsEmailSender}: a connection string, or an endpoint and a credential. */
export type AcsEmailSenderOptions = AcsEmailSenderCommonOptions &
  (
    | { readonly connectionString: string }
    | { readonly endpoint: string; readonly credential: AcsCredential }
  );

/** {@link EmailSender} over Azure Communication Services Email. */
export class AcsEmailSender implements EmailSender {
  readonly #client: EmailClient;
  readonly #senderAddress: string;
  readonly #pollIntervalMs: number;
  readonly #retry: DeliveryRetryOptions;

  /**
   * @throws NotificationDeliveryError `NOTIFICATION_REJECTED` for an unreadable connection string
   * or endpoint; the message never quotes the connection string.
   */
  constructor(options: AcsEmailSenderOptions) {
    const clientOptions: EmailClientOptions = {
      // The SDK's own retry waits out any Retry-After, however long, up to three times; the loop
      // in `send` bounds that wait and hands a longer one to the caller instead.
      retryOptions: { maxRetries: 0 },
      ...(options.tlsOptions ? { tlsOptions: options.tlsOptions } : {}),
    };
    try {
      this.#client =
        "connectionString" in options
          ? new EmailClient(options.connectionString, clientOptions)
          : new EmailClient(options.endpoint, options.credential, clientOptions);
    } catch {
      // The SDK's message quotes a malformed connection string whole, access key included, so
      // neither its message nor the error itself (as `cause`) may travel on.
      throw new NotificationDeliveryError(
        NotificationErrorCodes.rejected,
        "connectionString" in options
          ? "The Azure Communication Services connection string is not 'endpoint=https://…;accesskey=…'"
          : "The Azure Communication Services endpoint is not an https:// URL without a path",
        { retryable: false },
      );
    }
    this.#senderAddress = options.senderAddress;
    this.#pollIntervalMs = options.pollIntervalMs ?? 2_000;
    this.#retry = options;
  }

  /** Keeps the connection string out of `console.log(sender)` and JSON dumps. */
  toJSON(): Record<string, unknown> {
    return { kind: "AcsEmailSender", senderAddress: this.#senderAddress };
  }

  /**
   * Sends one message and waits until the service reports it sent, retrying 429 and 5xx answers
   * and network failures under the same operation id.
   *
   * @throws NotificationDeliveryError: retryable for 429 (with the service's `Retry-After`) and
   * 5xx once the attempts are spent, not retryable for other refusals and for a send the service
   * reports as failed.
   */
  async send(email: OutgoingEmail): Promise<void> {
    if (this.#senderAddress.trim() === "") {
      // The service would answer 400 after a round trip; failing here, per message rather than
      // at construction, keeps the other channels of the same notification going.
      throw new NotificationDeliveryError(
        NotificationErrorCodes.rejected,
        "Azure Communication Services email needs a sender address",
        {
          retryable: false,
          recommendedAction: "Set EMAIL_SENDER_ADDRESS to an address of a connected domain.",
        },
      );
    }
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
    // Every attempt carries the same id, so a retry after a lost answer cannot queue a second copy.
    const operationId = operationIdOf(email.messageId);
    await deliverWithRetries(() => this.#attempt(message, operationId), this.#retry);
  }

  async #attempt(
    message: EmailMessage,
    operationId: string,
  ): Promise<NotificationDeliveryError | undefined> {
    let status: EmailSendResult | undefined;
    try {
      const poller = await this.#client.beginSend(message, {
        operationId,
        updateIntervalInMs: this.#pollIntervalMs,
        onResponse: (response) => {
          const body = response.parsedBody as Partial<EmailSendResult> | undefined;
          if (typeof body?.status === "string") status = body as EmailSendResult;
        },
      });
      const result = await poller.pollUntilDone();
      if (result.status === "Succeeded") return undefined;
      status = result;
    } catch (error) {
      // The poller throws a plain Error for a Failed or Canceled operation; the last status read
      // tells that apart from a refused request or a network failure.
      if (status === undefined || !isTerminalFailure(status.status)) return acsError(error);
    }
    return notSent(status);
  }
}

/**
 * The `Operation-Id` of a message: the service requires a UUID, and the client library refuses
 * anything else before sending. Event and digest ids already are UUIDs; any other id is mapped to
 * a name-based UUID so that a repeat still carries the same one.
 */
function operationIdOf(messageId: string | undefined): string {
  if (messageId === undefined || messageId === "") return randomUUID();
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(messageId)) {
    return messageId.toLowerCase();
  }
  return stableUuid(["pgprotect-email", messageId]);
}

function isTerminalFailure(status: string): boolean {
  return status === "Failed" || status === "Canceled";
}

function notSent(status: EmailSendResult | undefined): NotificationDeliveryError {
  // Only the service's code: its message can quote recipients.
  const code = status?.error?.code;
  return new NotificationDeliveryError(
    NotificationErrorCodes.rejected,
    `Azure Communication Services did not send the message (${status?.status ?? "unknown status"}${code ? `: ${code}` : ""})`,
    {
      retryable: false,
      recommendedAction:
        "Look the code up in the Communication Services email troubleshooting guide; the recipients may be suppressed or the message too large.",
    },
  );
}

function acsError(error: unknown): NotificationDeliveryError {
  const details = error as {
    statusCode?: number;
    code?: string;
    response?: { headers?: { get(name: string): string | undefined } };
  };
  const status = details.statusCode;
  const retryAfterMs = parseRetryAfter(details.response?.headers?.get("retry-after"));
  const retryAfter = retryAfterMs === undefined ? {} : { retryAfterMs };
  if (status === 429) {
    return new NotificationDeliveryError(
      NotificationErrorCodes.throttled,
      "Azure Communication Services is throttling email (HTTP 429)",
      { retryable: true, cause: error, ...retryAfter },
    );
  }
  if (status !== undefined && status >= 400 && status < 500) {
    return new NotificationDeliveryError(
      NotificationErrorCodes.rejected,
      `Azure Communication Services refused the message (HTTP ${status}${details.code ? `, ${details.code}` : ""})`,
      {
        retryable: false,
        cause: error,
        recommendedAction:
          status === 401 || status === 403
            ? "Check the connection string's access key, or that the app's identity holds a role on the Communication Services resource."
            : "Check the sender address (a verified domain) and the recipients.",
      },
    );
  }
  return new NotificationDeliveryError(
    NotificationErrorCodes.unavailable,
    `Azure Communication Services could not be reached (${status ?? details.code ?? "network error"})`,
    { retryable: true, cause: error, ...retryAfter },
  );
}
