/**
 * Real loopback servers standing in for notification endpoints: an SMTP server (`smtp-server`)
 * and an HTTP server playing a Teams Workflows webhook. Both listen on a free port of 127.0.0.1
 * and hand out what they received through promises, so tests await arrivals instead of sleeping.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { parseMimeMessage, type ParsedMessage } from "./mimeMessage.js";

/** A queue whose `next()` resolves with the next item, already arrived or still to come. */
class Arrivals<T> {
  readonly all: T[] = [];
  readonly #waiting: ((item: T) => void)[] = [];
  #taken = 0;

  push(item: T): void {
    this.all.push(item);
    const waiter = this.#waiting.shift();
    if (waiter) {
      this.#taken++;
      waiter(item);
    }
  }

  next(): Promise<T> {
    if (this.#taken < this.all.length) return Promise.resolve(this.all[this.#taken++]!);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }
}

/** A message as the SMTP server received it. */
export interface ReceivedMail extends ParsedMessage {
  readonly mailFrom: string;
  /** Envelope recipients (to, cc and bcc), lower-cased. */
  readonly recipients: readonly string[];
  /** The authenticated user, when the client logged in. */
  readonly user?: string;
  /** Whether the message came over TLS. */
  readonly overTls: boolean;
  readonly raw: string;
}

/**
 * App settings that send the app's email through `smtp` in plain text, from
 * `pgprotect@contoso.example`.
 */
export function smtpEmailSettings(smtp: Pick<TestSmtpServer, "port">): Record<string, string> {
  return {
    EMAIL_PROVIDER: "smtp",
    SMTP_HOST: "127.0.0.1",
    SMTP_PORT: String(smtp.port),
    SMTP_ALLOW_PLAINTEXT: "true",
    EMAIL_SENDER_ADDRESS: "pgprotect@contoso.example",
  };
}

/**
 * Notification channels of the end-to-end tests: email to the DBAs (`dba-email`) and a Teams
 * webhook whose URL is the app setting `TEAMS_WEBHOOK_URL` (`ops-teams`).
 */
export const dbaEmailAndOpsTeamsChannels = [
  { id: "dba-email", type: "email", to: ["dba@contoso.example"] },
  { id: "ops-teams", type: "teams", webhookUrlSetting: "TEAMS_WEBHOOK_URL" },
] as const;

/** A running SMTP server. */
export interface TestSmtpServer {
  readonly port: number;
  /** Every message received so far. */
  readonly received: readonly ReceivedMail[];
  /** Every `AUTH` received so far, accepted or not. */
  readonly logins: readonly ReceivedLogin[];
  /** The next message not yet taken. */
  next(): Promise<ReceivedMail>;
  close(): Promise<void>;
}

/** An `AUTH` command as the SMTP server received it. */
export interface ReceivedLogin {
  readonly user: string;
  readonly password: string;
  /** Whether the connection was TLS when the client sent it. */
  readonly overTls: boolean;
}

/** Options of {@link startSmtpServer}. */
export interface SmtpServerOptions {
  /** When given, clients must log in with one of these user names and passwords. */
  readonly users?: Readonly<Record<string, string>>;
  /** Recipients refused with `550`. */
  readonly rejectRecipients?: readonly string[];
  /**
   * How the server offers TLS, with `certificate` (see `loopbackCertificate`): `none` (default:
   * no STARTTLS, as a relay that lacks it or whose offer an attacker strips and refuses),
   * `starttls`, `hidden-starttls` (accepts STARTTLS but leaves it out of its EHLO reply, as when
   * an attacker strips only the offer) or `implicit` (TLS from the first byte, as on port 465).
   */
  readonly tls?: "none" | "starttls" | "hidden-starttls" | "implicit";
  readonly certificate?: { readonly key: string; readonly cert: string };
}

/**
 * Starts an SMTP server on a free loopback port. It accepts `AUTH` in clear text too, so that a
 * test can see whether a client would have sent its password without TLS.
 */
export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<TestSmtpServer> {
  const arrivals = new Arrivals<ReceivedMail>();
  const logins: ReceivedLogin[] = [];
  const mode = options.tls ?? "none";
  if (mode !== "none" && !options.certificate) throw new Error(`tls ${mode} needs a certificate`);
  const server = new SMTPServer({
    logger: false,
    ...(mode === "none" ? { disabledCommands: ["STARTTLS"] } : {}),
    ...(mode === "hidden-starttls" ? { hideSTARTTLS: true } : {}),
    ...(mode === "implicit" ? { secure: true } : {}),
    ...(options.certificate
      ? { key: options.certificate.key, cert: options.certificate.cert }
      : {}),
    authOptional: options.users === undefined,
    allowInsecureAuth: true,
    onAuth(auth, session, callback) {
      logins.push({
        user: auth.username ?? "",
        password: auth.password ?? "",
        overTls: session.secure,
      });
      const expected = options.users?.[auth.username ?? ""];
      if (expected !== undefined && expected === auth.password)
        callback(null, { user: auth.username });
      else callback(new Error("Invalid user name or password"));
    },
    onRcptTo(address, _session, callback) {
      if (options.rejectRecipients?.includes(address.address.toLowerCase())) {
        callback(Object.assign(new Error("Mailbox unavailable"), { responseCode: 550 }));
      } else callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const mailFrom = session.envelope.mailFrom;
        arrivals.push({
          ...parseMimeMessage(raw),
          raw,
          mailFrom: mailFrom === false ? "" : mailFrom.address,
          recipients: session.envelope.rcptTo.map((address) => address.address.toLowerCase()),
          ...(typeof session.user === "string" ? { user: session.user } : {}),
          overTls: session.secure,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    received: arrivals.all,
    logins,
    next: () => arrivals.next(),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The first mail (already received or still to come) that `matches`; rejects when none has come
 * within `timeoutMs`, so that a missing mail fails the test with that message rather than its timeout.
 */
export async function mailMatching(
  smtp: Pick<TestSmtpServer, "received" | "next">,
  matches: (mail: ReceivedMail) => boolean,
  timeoutMs = 20_000,
): Promise<ReceivedMail> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("no matching mail arrived")), timeoutMs);
  });
  try {
    for (;;) {
      const found = smtp.received.find(matches);
      if (found) return found;
      await Promise.race([smtp.next(), deadline]);
    }
  } finally {
    clearTimeout(timer);
  }
}

/** A request as the webhook server received it. */
export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** `performance.now()` at arrival. */
  readonly at: number;
}

/** How the webhook answers one request. */
export interface ScriptedResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** A running webhook server. */
export interface TestWebhookServer {
  /** A URL shaped like a Workflows trigger URL, signature included. */
  readonly url: string;
  /** The signature in {@link url}; must never appear in logs or errors. */
  readonly signature: string;
  readonly received: readonly ReceivedRequest[];
  next(): Promise<ReceivedRequest>;
  close(): Promise<void>;
}

/**
 * Starts an HTTP server that answers each request with `respond(index)` (202 Accepted by
 * default, as Workflows does).
 */
export async function startWebhookServer(
  respond: (index: number) => ScriptedResponse = () => ({ status: 202 }),
): Promise<TestWebhookServer> {
  const arrivals = new Arrivals<ReceivedRequest>();
  let count = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const answer = respond(count++);
      response.writeHead(answer.status, { "content-type": "text/plain", ...answer.headers });
      response.end(answer.body ?? "");
      arrivals.push({
        method: request.method ?? "",
        path: request.url ?? "",
        headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at: performance.now(),
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const signature = "s3cr3t-Signature-0123456789";
  return {
    url: `http://127.0.0.1:${port}/workflows/0a1b2c/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${signature}`,
    signature,
    received: arrivals.all,
    next: () => arrivals.next(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
