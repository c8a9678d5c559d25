/**
 * The local default channels: every message is written to an outbox folder instead of being
 * sent. Emails become `.eml` files any mail client opens; Teams messages become the `.json`
 * payload that would have been posted (paste its `content` into the Adaptive Cards designer to
 * see the card).
 *
 * @remarks Files are written atomically and named after the message id (the event or digest
 * id), so a repeated delivery replaces its file instead of adding a second one.
 */
import path from "node:path";
import nodemailer from "nodemailer";
import type { TeamsMessage } from "../../domain/notifications/teamsCard.js";
import { writeFileAtomic } from "../atomicFiles.js";
import { wallClock, type Clock } from "../ports.js";
import type { EmailSender, OutgoingEmail, SendContext, TeamsSender } from "./types.js";

/** Options of the outbox senders. */
export interface OutboxOptions {
  readonly folder: string;
  readonly now?: Clock;
}

/** Writes emails as `email-<id>.eml`. */
export class OutboxEmailSender implements EmailSender {
  readonly #folder: string;
  readonly #from: string;
  readonly #now: Clock;
  readonly #composer = nodemailer.createTransport({
    streamTransport: true,
    buffer: true,
    newline: "unix",
  });

  /** @param from - the `From` of the files; default `pgprotect <pgprotect@localhost>`. */
  constructor(options: OutboxOptions & { readonly from?: string }) {
    this.#folder = options.folder;
    this.#from = options.from ?? "pgprotect <pgprotect@localhost>";
    this.#now = options.now ?? wallClock;
  }

  async send(email: OutgoingEmail): Promise<void> {
    const info = await this.#composer.sendMail({
      from: this.#from,
      to: [...email.to],
      ...(email.cc && email.cc.length > 0 ? { cc: [...email.cc] } : {}),
      ...(email.bcc && email.bcc.length > 0 ? { bcc: [...email.bcc] } : {}),
      subject: email.subject,
      text: email.text,
      html: email.html,
      ...(email.messageId ? { messageId: `<${email.messageId}@pgprotect>` } : {}),
      date: this.#now(),
    });
    const id = email.messageId ?? stamp(this.#now());
    await writeFileAtomic(fileIn(this.#folder, "email", id, "eml"), info.message as Buffer);
  }
}

/** Writes Teams messages as `<channel>-<id>.json`. */
export class OutboxTeamsSender implements TeamsSender {
  readonly #folder: string;
  readonly #channelId: string;
  readonly #now: Clock;

  constructor(options: OutboxOptions & { readonly channelId: string }) {
    this.#folder = options.folder;
    this.#channelId = options.channelId;
    this.#now = options.now ?? wallClock;
  }

  async send(message: TeamsMessage, context: SendContext = {}): Promise<void> {
    const id = context.messageId ?? stamp(this.#now());
    await writeFileAtomic(
      fileIn(this.#folder, this.#channelId, id, "json"),
      `${JSON.stringify(message, null, 2)}\n`,
    );
  }
}

function fileIn(folder: string, kind: string, id: string, extension: string): string {
  const safe = (text: string) => text.replace(/[^A-Za-z0-9._-]/g, "_");
  return path.join(folder, `${safe(kind)}-${safe(id)}.${extension}`);
}

function stamp(at: Date): string {
  return at.toISOString().replace(/[:.]/g, "-");
}
