/**
 * How email leaves the process, as the settings ask: Azure Communication Services, SMTP, or the
 * outbox folder. The senders of the other two are loaded only when chosen.
 */
import { readFile } from "node:fs/promises";
import type { Config } from "../../config.js";
import { ErrorCodes } from "../../domain/errorCodes.js";
import { ConfigurationError } from "../../domain/errors.js";
import { OutboxEmailSender } from "./outboxSender.js";
import type { EmailSender } from "./types.js";

/** Which way email leaves this process. */
export type EmailProvider = "acs" | "smtp" | "outbox";

/** An email sender and how to release what it holds (SMTP's pooled connections). */
export interface ClosableEmailSender {
  readonly sender: EmailSender;
  close(): void;
}

/** Which email sender the settings ask for (see `EMAIL_PROVIDER`). */
export function emailProviderOf(
  config: Pick<Config, "EMAIL_PROVIDER" | "ACS_ENDPOINT" | "SMTP_HOST">,
): EmailProvider {
  if (config.EMAIL_PROVIDER) return config.EMAIL_PROVIDER;
  if (config.ACS_ENDPOINT) return "acs";
  if (config.SMTP_HOST) return "smtp";
  return "outbox";
}

/**
 * The email sender of a provider.
 *
 * @param outboxFolder - where the outbox writes `.eml` files.
 * @throws ConfigurationError for an `SMTP_TLS_CA_FILE` that cannot be read or holds no certificate.
 */
export async function createEmailSender(
  config: Config,
  provider: EmailProvider,
  outboxFolder: string,
): Promise<ClosableEmailSender> {
  const from = config.EMAIL_SENDER_ADDRESS;
  if (provider === "acs") {
    const [{ AcsEmailSender }, { cloudCredential }] = await Promise.all([
      import("./acsEmailSender.js"),
      import("../cloudCredential.js"),
    ]);
    const sender = new AcsEmailSender({
      endpoint: config.ACS_ENDPOINT ?? "",
      // ACS_ENDPOINT names the resource; the identity signs in at the cloud's authority.
      credential: cloudCredential(config),
      senderAddress: from ?? "",
    });
    return { sender, close: () => undefined };
  }
  if (provider === "smtp") {
    const { SmtpEmailSender } = await import("./smtpEmailSender.js");
    const ca = config.SMTP_TLS_CA_FILE ? await readCaFile(config.SMTP_TLS_CA_FILE) : undefined;
    const sender = new SmtpEmailSender({
      host: config.SMTP_HOST ?? "",
      // The sender picks the port and implicit TLS from each other (465 speaks TLS from the first byte).
      port: config.SMTP_PORT,
      secure: config.SMTP_SECURE,
      allowPlaintext: config.SMTP_ALLOW_PLAINTEXT,
      ...(ca ? { ca } : {}),
      ...(config.SMTP_USER ? { user: config.SMTP_USER } : {}),
      ...(config.SMTP_PASSWORD ? { password: config.SMTP_PASSWORD } : {}),
      from: from ?? "pgprotect <pgprotect@localhost>",
    });
    return { sender, close: () => sender.close() };
  }
  return {
    sender: new OutboxEmailSender({ folder: outboxFolder, ...(from ? { from } : {}) }),
    close: () => undefined,
  };
}

/**
 * Reads the PEM file `SMTP_TLS_CA_FILE` names.
 *
 * @throws ConfigurationError when it cannot be read or holds no certificate.
 */
async function readCaFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new ConfigurationError(`SMTP_TLS_CA_FILE cannot be read: ${file}`, [
      {
        path: "SMTP_TLS_CA_FILE",
        code: ErrorCodes.SMTP_TLS_CA_FILE_UNREADABLE,
        message: `${(error as NodeJS.ErrnoException).code ?? "unreadable"}: ${file}`,
      },
    ]);
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    throw new ConfigurationError(`SMTP_TLS_CA_FILE holds no PEM certificate: ${file}`, [
      {
        path: "SMTP_TLS_CA_FILE",
        code: ErrorCodes.SMTP_TLS_CA_FILE_NOT_PEM,
        message: "The file must hold one or more PEM certificates (-----BEGIN CERTIFICATE-----).",
      },
    ]);
  }
  return text;
}
