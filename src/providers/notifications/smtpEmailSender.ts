/**
 * Sends email over SMTP with nodemailer: any relay, including Azure Communication Services' SMTP
 * endpoint (`smtp.azurecomm.net:587`, STARTTLS) or a development server.
 *
 * @remarks TLS is required: STARTTLS on any port but 465, implicit TLS on 465, with the relay's
 * certificate verified. Without it the login (user name and password) and the message would
 * cross the network in clear text, and an attacker in the path can strip STARTTLS from the
 * relay's greeting to make that happen; so a relay that does not upgrade the connection gets
 * nothing, not even the login. Clear text is allowed only on request and only to a relay on this
 * machine's loopback, where nothing crosses a network.
 */
import { rootCertificates } from "node:tls";
import nodemailer, { type Transporter } from "nodemailer";
import type SMTPTransport from "nodemailer/lib/smtp-transport/index.js";
import { isLoopbackHost } from "../../config.js";
import { ConfigurationError } from "../../domain/errors.js";
import {
  NotificationDeliveryError,
  NotificationErrorCodes,
  type EmailSender,
  type OutgoingEmail,
} from "./types.js";

/** Options of {@link SmtpEmailSender}. */
export interface SmtpEmailSenderOptions {
  readonly host: string;
  /** Default 587, or 465 with `secure`. */
  readonly port?: number;
  /** Implicit TLS from the first byte. Always on for port 465; elsewhere default off (STARTTLS). */
  readonly secure?: boolean;
  /**
   * Send in clear text when the relay offers no STARTTLS (it is still used when offered). Only for
   * a relay on the loopback (`localhost`, `127.0.0.0/8`, `::1`): refused for any other host.
   * Default false.
   */
  readonly allowPlaintext?: boolean;
  /**
   * PEM certificates of a private certificate authority that signs the relay's certificate,
   * trusted in addition to the system's. Certificates are always verified.
   */
  readonly ca?: string;
  readonly user?: string;
  /** A secret: never logged. */
  readonly password?: string;
  /** The sender, e.g. `pgprotect <backup@contoso.com>`. */
  readonly from: string;
  /** Default 15 s for connecting, greeting and each command. */
  readonly timeoutMs?: number;
}

/** {@link EmailSender} over SMTP. */
export class SmtpEmailSender implements EmailSender {
  readonly #transport: Transporter<SMTPTransport.SentMessageInfo>;
  readonly #from: string;
  readonly #host: string;

  /**
   * @throws ConfigurationError when clear text is allowed for a relay that is not on the loopback.
   */
  constructor(options: SmtpEmailSenderOptions) {
    const allowPlaintext = options.allowPlaintext ?? false;
    if (allowPlaintext && !isLoopbackHost(options.host)) {
      throw new ConfigurationError(
        `SMTP in clear text is allowed only to a relay on the loopback, not ${options.host}`,
        [
          {
            path: "SMTP_ALLOW_PLAINTEXT",
            code: "SMTP_PLAINTEXT_NOT_LOOPBACK",
            message: "Clear text is allowed only to localhost, 127.0.0.0/8 or ::1.",
          },
        ],
      );
    }
    const timeout = options.timeoutMs ?? 15_000;
    const port = options.port ?? (options.secure ? 465 : 587);
    this.#from = options.from;
    this.#host = options.host;
    this.#transport = nodemailer.createTransport({
      host: options.host,
      port,
      // Port 465 speaks TLS from the first byte: STARTTLS there would only time out.
      secure: options.secure === true || port === 465,
      // With requireTLS nodemailer sends STARTTLS even when the greeting does not offer it (so a
      // stripped offer fails too) and fails before AUTH or MAIL FROM when the upgrade does not happen.
      requireTLS: !allowPlaintext,
      ...(options.user ? { auth: { user: options.user, pass: options.password ?? "" } } : {}),
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      tls: {
        rejectUnauthorized: true,
        minVersion: "TLSv1.2",
        // Node's `ca` replaces the system's authorities; keep them so a public relay still verifies.
        ...(options.ca ? { ca: [...rootCertificates, options.ca] } : {}),
      },
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
   * @throws NotificationDeliveryError: `NOTIFICATION_TLS_UNAVAILABLE` when the relay does not
   * upgrade to TLS and `NOTIFICATION_TLS_FAILED` when the TLS handshake fails (an untrusted
   * certificate, a name mismatch), neither retryable and neither after sending credentials;
   * retryable for connection failures and 4xx SMTP replies; not retryable for 5xx replies (a
   * refused recipient, a rejected login).
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
      throw smtpError(error, this.#host);
    }
  }

  /** Closes pooled connections. */
  close(): void {
    this.#transport.close();
  }
}

/** Certificate verification failures as Node's TLS layer names them. */
const certificateErrorCodes = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_SIGNATURE_FAILURE",
  "CERT_REVOKED",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "HOSTNAME_MISMATCH",
]);

/** Whether Node's TLS layer failed the handshake (a certificate, a protocol mismatch). */
function isTlsFailure(code: string | undefined): boolean {
  if (code === undefined) return false;
  return certificateErrorCodes.has(code) || /^ERR_(SSL|TLS)_/.test(code);
}

function smtpError(error: unknown, host: string): NotificationDeliveryError {
  const details = error as {
    responseCode?: number;
    code?: string;
    /** The socket's own code (e.g. `DEPTH_ZERO_SELF_SIGNED_CERT`) where nodemailer reports `ESOCKET`. */
    originalCode?: string;
    command?: string;
  };
  const responseCode = typeof details.responseCode === "number" ? details.responseCode : undefined;
  // nodemailer reports a refused STARTTLS as ETLS with the relay's reply, and a failed handshake
  // as ETLS without one or as ESOCKET with the TLS layer's code; all before AUTH or MAIL FROM.
  const handshakeFailed =
    (details.code === "ETLS" && responseCode === undefined) ||
    isTlsFailure(details.code) ||
    isTlsFailure(details.originalCode);
  if (handshakeFailed) {
    return new NotificationDeliveryError(
      NotificationErrorCodes.tlsFailed,
      `The TLS handshake with the SMTP server ${host} failed; nothing was sent`,
      {
        retryable: false,
        cause: error,
        recommendedAction:
          "Check that the relay's certificate names the host in SMTP_HOST and is signed by a trusted authority (SMTP_TLS_CA_FILE for a private one), and that SMTP_SECURE matches the port (implicit TLS on 465, STARTTLS elsewhere).",
      },
    );
  }
  if (details.code === "ETLS" || details.command === "STARTTLS") {
    return new NotificationDeliveryError(
      NotificationErrorCodes.tlsUnavailable,
      `The SMTP server ${host} did not start TLS (${responseCode ?? "no STARTTLS"}); nothing was sent, credentials included`,
      {
        retryable: false,
        cause: error,
        recommendedAction:
          "Use a relay that offers STARTTLS or implicit TLS (SMTP_SECURE on port 465). Something between this app and the relay may be removing STARTTLS.",
      },
    );
  }
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
