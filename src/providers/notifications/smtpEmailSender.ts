/**
 * Sends email over SMTP with nodemailer: any relay, including Azure Communication Services' SMTP
 * endpoint (`smtp.azurecomm.net:587`, STARTTLS) or a development server.
 */
import nodemailer, { type Transporter } from "nodemailer";
import type SMTPTransport from "nodemailer/lib/smtp-transport/index.js";
import {
  NotificationDeliveryError,
  NotificationErrorCodes,
  type EmailSender,
  type OutgoingEmail,
} from "./types.js";

/** Options of {@link SmtpEmailSender}. */
export interface SmtpEmailSenderOptions {
  readonly host: string;
  /** Default 587. */
  readonly port?: number;
  /** Implicit TLS (port 465). Default false: STARTTLS when the server offers it. */
  readonly secure?: boolean;
  /** Refuse to send unless the connection is upgraded to TLS. Default false. */
  readonly requireTls?: boolean;
  readonly user?: string;
  /** A secret: never logged. */
  readonly password?: string;
  /** The sender, e.g. `pgprotect <backup@contoso.com>`. */
  readonly from: string;
  /** Default 15 s for connecting, greeting and each command. */
  readonly timeoutMs?: number;
  /** Extra TLS options (e.g. a private CA for a development relay). */
  readonly tls?: SMTPTransport.Options["tls"];
}

/** {@link EmailSender} over SMTP. */
export class SmtpEmailSender implements EmailSender {
  readonly #transport: Transporter<SMTPTransport.SentMessageInfo>;
  readonly #from: string;
  readonly #host: string;

  constructor(options: SmtpEmailSenderOptions) {
    const timeout = options.timeoutMs ?? 15_000;
    this.#from = options.from;
    this.#host = options.host;
    this.#transport = nodemailer.createTransport({
      host: options.host,
      port: options.port ?? 587,
      secure: options.secure ?? false,
      requireTLS: options.requireTls ?? false,
      ...(options.user ? { auth: { user: options.user, pass: options.password ?? "" } } : {}),
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      ...(options.tls ? { tls: options.tls } : {}),
      // nodemailer would otherwise log nothing, but make sure it never logs the AUTH exchange.
      logger: false,
      debug: false,
    });
  }

  /** Keeps credentials out of `console.log(sender)` and JSON dumps. */
  toJSON(): Record<string, unknown> {
    return { kind: "SmtpEmailSender", host: this.#host };
  }

  /**
   * Sends one message.
   *
   * @throws NotificationDeliveryError: retryable for connection failures and 4xx SMTP replies,
   * not retryable for 5xx replies (a refused recipient, a rejected login).
   */
  async send(email: OutgoingEmail): Promise<void> {
    try {
      await this.#transport.sendMail({
        from: this.#from,
        to: [...email.to],
        ...(email.cc && email.cc.length > 0 ? { cc: [...email.cc] } : {}),
        ...(email.bcc && email.bcc.length > 0 ? { bcc: [...email.bcc] } : {}),
        subject: email.subject,
        text: email.text,
        html: email.html,
        // A stable Message-ID lets mail systems drop a duplicate that slipped through.
        ...(email.messageId ? { messageId: `<${email.messageId}@pgprotect>` } : {}),
      });
    } catch (error) {
      throw smtpError(error);
    }
  }

  /** Closes pooled connections. */
  close(): void {
    this.#transport.close();
  }
}

function smtpError(error: unknown): NotificationDeliveryError {
  const details = error as { responseCode?: number; code?: string; command?: string };
  const responseCode = typeof details.responseCode === "number" ? details.responseCode : undefined;
  if (responseCode !== undefined && responseCode >= 500) {
    return new NotificationDeliveryError(
      NotificationErrorCodes.rejected,
      `The SMTP server refused the message (${responseCode}${details.command ? ` after ${details.command}` : ""})`,
      {
        retryable: false,
        cause: error,
        recommendedAction:
          details.code === "EAUTH"
            ? "Check the SMTP user name and password."
            : "Check the sender and recipient addresses.",
      },
    );
  }
  return new NotificationDeliveryError(
    NotificationErrorCodes.unavailable,
    `The SMTP server could not take the message (${responseCode ?? details.code ?? "connection failed"})`,
    { retryable: true, cause: error },
  );
}
