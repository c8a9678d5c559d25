/**
 * A fake Azure Communication Services Email endpoint, served over HTTPS on loopback.
 *
 * It speaks the data-plane API `@azure/communication-email` 1.1 calls (api-version 2025-09-01):
 * `POST /emails:send` answers 202 with `Operation-Location` and `Retry-After` and a body
 * `{id, status: "Running"}`; `GET /emails/operations/{id}` answers `{id, status, error?}` with
 * `Running` until the operation has been polled `pollsBeforeDone` times, then `Succeeded` (or
 * `Failed` with an error when told to). Errors are `{error: {code, message}}` with
 * `x-ms-error-code`. An `Operation-Id` (a UUID) seen before answers the existing operation and
 * queues nothing, as the service's repeatability does.
 *
 * Every request is checked: api-version, content type, the message's required fields and known
 * properties, and authentication, either the HMAC-SHA256 signature a connection string's access
 * key makes (recomputed over `VERB\npath?query\nx-ms-date;host;x-ms-content-sha256`, with the
 * body hash checked too) or the bearer token of {@link FakeAcsEmail.token}. A request that breaks
 * the protocol is answered 400 or 401 and kept in {@link FakeAcsEmail.violations}, for the test
 * to assert empty.
 *
 * TLS: the client trusts the self-signed certificate through the pipeline's
 * `tlsOptions: { ca: fake.ca }` (`AcsEmailSender` passes it to `EmailClient`), per client and per
 * test. `NODE_EXTRA_CA_CERTS` is read only when the process starts, and turning certificate
 * checks off (`NODE_TLS_REJECT_UNAUTHORIZED`) would switch them off for every request the test
 * process makes; both are avoided.
 */
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { loopbackCertificate } from "./loopbackCertificate.js";

/** The api-version the installed `@azure/communication-email` sends. */
export const ACS_EMAIL_API_VERSION = "2025-09-01";

/** An email the fake accepted: what its recipients would receive. */
export interface AcceptedEmail {
  /** The operation id (the `Operation-Id` sent, or one the fake made up). */
  readonly operationId: string;
  /** Whether the client sent the `Operation-Id` itself. */
  readonly operationIdFromClient: boolean;
  /** How the request authenticated. */
  readonly auth: "hmac" | "bearer";
  readonly senderAddress: string;
  readonly to: readonly string[];
  readonly cc: readonly string[];
  readonly bcc: readonly string[];
  readonly subject: string;
  readonly plainText: string | undefined;
  readonly html: string | undefined;
  /** The operation's status now. */
  status: OperationStatus;
}

/** A status of a send operation. */
export type OperationStatus = "NotStarted" | "Running" | "Succeeded" | "Failed" | "Canceled";

/** A request the fake received. */
export interface AcsRequest {
  readonly method: string;
  /** Path and query as sent. */
  readonly url: string;
  readonly operationId: string | undefined;
  /** The status the fake answered with. */
  status?: number;
}

/** An error answer the fake is told to give. */
export interface AcsRefusal {
  /** HTTP status: 400, 401, 429, 503... */
  readonly status: number;
  readonly code: string;
  readonly message: string;
  /** `Retry-After` in seconds, when the answer should carry one. */
  readonly retryAfterSeconds?: number;
}

/** How the fake answers. */
export interface FakeAcsEmailOptions {
  /** Status polls answered `Running` before the terminal status. Default 1. */
  readonly pollsBeforeDone?: number;
  /**
   * `Retry-After` (seconds) on the 202 and on non-terminal status answers. The service sends
   * some seconds; the default 0 lets the client's own poll interval apply, keeping tests fast.
   */
  readonly pollRetryAfterSeconds?: number;
}

interface Operation {
  readonly email: AcceptedEmail;
  polls: number;
  readonly failure: { code: string; message: string } | undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The service refuses an `x-ms-date` further than this from its clock. */
const MAX_CLOCK_SKEW_MS = 15 * 60_000;

const MESSAGE_PROPERTIES = new Set([
  "headers",
  "senderAddress",
  "content",
  "recipients",
  "attachments",
  "replyTo",
  "userEngagementTrackingDisabled",
]);
const CONTENT_PROPERTIES = new Set(["subject", "plainText", "html"]);
const RECIPIENT_PROPERTIES = new Set(["to", "cc", "bcc"]);
const ADDRESS_PROPERTIES = new Set(["address", "displayName"]);

/** The fake ACS Email endpoint. */
export class FakeAcsEmail {
  /** `https://127.0.0.1:port`, the resource endpoint. */
  readonly endpoint: string;
  /** The access key (base64) connection strings sign with. */
  readonly accessKey = randomBytes(32).toString("base64");
  /** The bearer token accepted from a token credential. */
  readonly token = `fake-acs-token-${randomUUID()}`;
  /** Every operation queued, in order, whatever became of it. */
  readonly emails: AcceptedEmail[] = [];
  /** Every request received, in order. */
  readonly requests: AcsRequest[] = [];
  /** Protocol violations by the client; a test asserts this stays empty. */
  readonly violations: string[] = [];

  readonly #server: Server;
  readonly #options: Required<FakeAcsEmailOptions>;
  readonly #operations = new Map<string, Operation>();
  readonly #refusals: AcsRefusal[] = [];
  readonly #failures: { code: string; message: string }[] = [];

  private constructor(
    server: Server,
    options: FakeAcsEmailOptions,
    /** The PEM certificate to trust (`tlsOptions.ca`). */
    readonly ca: string,
  ) {
    this.#server = server;
    this.#options = { pollsBeforeDone: 1, pollRetryAfterSeconds: 0, ...options };
    this.endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Starts the endpoint on a free loopback port. */
  static async start(options: FakeAcsEmailOptions = {}): Promise<FakeAcsEmail> {
    const { key, cert } = await loopbackCertificate();
    const server = createServer({ key, cert });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const fake = new FakeAcsEmail(server, options, cert);
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      void fake.#handle(req, res);
    });
    return fake;
  }

  /** Stops the server. */
  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** A connection string for this resource: `endpoint=…;accesskey=…`. */
  connectionString(accessKey: string = this.accessKey): string {
    return `endpoint=${this.endpoint}/;accesskey=${accessKey}`;
  }

  /** The emails whose operation succeeded: what recipients received. */
  get delivered(): AcceptedEmail[] {
    return this.emails.filter((email) => email.status === "Succeeded");
  }

  /** The send requests (`POST /emails:send`) received, refused ones included. */
  get sendRequests(): AcsRequest[] {
    return this.requests.filter((request) => request.method === "POST");
  }

  /** Answers the next `count` sends with `refusal` instead of queueing them. */
  refuseNextSends(count: number, refusal: AcsRefusal): void {
    for (let i = 0; i < count; i++) this.#refusals.push(refusal);
  }

  /** Answers the next `count` sends 429 with `Retry-After: retryAfterSeconds`. */
  throttleNextSends(count: number, retryAfterSeconds: number): void {
    this.refuseNextSends(count, {
      status: 429,
      code: "TooManyRequests",
      message: "The number of requests exceeds the allowed limit.",
      retryAfterSeconds,
    });
  }

  /** The next operation queued ends `Failed` with this error instead of `Succeeded`. */
  failNextOperation(error: { code: string; message: string }): void {
    this.#failures.push(error);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? "/", this.endpoint);
    const operationIdHeader = header(req, "operation-id");
    const request: AcsRequest = {
      method: req.method ?? "",
      url: req.url ?? "",
      operationId: operationIdHeader,
    };
    this.requests.push(request);
    const answer = (status: number, json: unknown, headers: Record<string, string> = {}) => {
      request.status = status;
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
      res.end(JSON.stringify(json));
    };
    const refuse = (status: number, code: string, message: string, extra = {}) =>
      answer(status, { error: { code, message } }, { "x-ms-error-code": code, ...extra });
    const violation = (status: number, code: string, message: string) => {
      this.violations.push(`${req.method} ${url.pathname}: ${message}`);
      refuse(status, code, message);
    };

    const auth = this.#authenticate(req, body);
    if (typeof auth === "object") {
      violation(401, "Denied", auth.problem);
      return;
    }
    if (url.searchParams.get("api-version") !== ACS_EMAIL_API_VERSION) {
      violation(
        400,
        "InvalidApiVersion",
        `api-version '${url.searchParams.get("api-version")}' is not ${ACS_EMAIL_API_VERSION}`,
      );
      return;
    }

    if (req.method === "POST" && url.pathname === "/emails:send") {
      const contentType = header(req, "content-type") ?? "";
      if (!/^application\/json(\s*;|$)/i.test(contentType)) {
        violation(415, "UnsupportedMediaType", `content-type '${contentType}' is not JSON`);
        return;
      }
      if (operationIdHeader !== undefined && !UUID.test(operationIdHeader)) {
        violation(400, "InvalidOperationId", `Operation-Id '${operationIdHeader}' is not a UUID`);
        return;
      }
      let message: unknown;
      try {
        message = JSON.parse(body.toString("utf8"));
      } catch {
        violation(400, "InvalidRequestBody", "the body is not JSON");
        return;
      }
      const problems = messageProblems(message);
      if (problems.length > 0) {
        violation(400, "InvalidRequestBody", problems.join("; "));
        return;
      }
      const refusal = this.#refusals.shift();
      if (refusal) {
        refuse(
          refusal.status,
          refusal.code,
          refusal.message,
          refusal.retryAfterSeconds === undefined
            ? {}
            : { "retry-after": String(refusal.retryAfterSeconds) },
        );
        return;
      }
      const operationId = (operationIdHeader ?? randomUUID()).toLowerCase();
      const existing = this.#operations.get(operationId);
      const operation =
        existing ??
        this.#queue(operationId, operationIdHeader !== undefined, auth, message as WireMessage);
      answer(
        202,
        { id: operationId, status: operation.email.status },
        {
          "operation-location": `${this.endpoint}/emails/operations/${operationId}?api-version=${ACS_EMAIL_API_VERSION}`,
          "retry-after": String(this.#options.pollRetryAfterSeconds),
        },
      );
      return;
    }

    const status = /^\/emails\/operations\/([^/]+)$/.exec(url.pathname);
    if (req.method === "GET" && status) {
      const operation = this.#operations.get(decodeURIComponent(status[1]!).toLowerCase());
      if (!operation) {
        refuse(404, "NotFound", "The operation was not found.");
        return;
      }
      operation.polls += 1;
      if (operation.email.status === "Running" && operation.polls > this.#options.pollsBeforeDone) {
        operation.email.status = operation.failure ? "Failed" : "Succeeded";
      }
      const terminal = operation.email.status !== "Running";
      answer(
        200,
        {
          id: operation.email.operationId,
          status: operation.email.status,
          ...(operation.email.status === "Failed" && operation.failure
            ? { error: operation.failure }
            : {}),
        },
        terminal ? {} : { "retry-after": String(this.#options.pollRetryAfterSeconds) },
      );
      return;
    }

    violation(404, "NotFound", `no such operation: ${req.method} ${url.pathname}`);
  }

  #queue(
    operationId: string,
    fromClient: boolean,
    auth: "hmac" | "bearer",
    message: WireMessage,
  ): Operation {
    const addresses = (list: readonly WireAddress[] | undefined) =>
      (list ?? []).map((entry) => entry.address);
    const email: AcceptedEmail = {
      operationId,
      operationIdFromClient: fromClient,
      auth,
      senderAddress: message.senderAddress,
      to: addresses(message.recipients.to),
      cc: addresses(message.recipients.cc),
      bcc: addresses(message.recipients.bcc),
      subject: message.content.subject,
      plainText: message.content.plainText,
      html: message.content.html,
      status: "Running",
    };
    const operation: Operation = { email, polls: 0, failure: this.#failures.shift() };
    this.#operations.set(operationId, operation);
    this.emails.push(email);
    return operation;
  }

  /** Which credential signed the request, or what is wrong with its authentication. */
  #authenticate(req: IncomingMessage, body: Buffer): "hmac" | "bearer" | { problem: string } {
    const authorization = header(req, "authorization");
    if (authorization === undefined) return { problem: "no Authorization header" };
    if (authorization.startsWith("Bearer ")) {
      return authorization.slice("Bearer ".length) === this.token
        ? "bearer"
        : { problem: "the bearer token is not the one the fake issued" };
    }
    const hmac = /^HMAC-SHA256 SignedHeaders=([^&]+)&Signature=(.+)$/.exec(authorization);
    if (!hmac) return { problem: "Authorization is neither Bearer nor HMAC-SHA256" };
    if (hmac[1] !== "x-ms-date;host;x-ms-content-sha256") {
      return { problem: `SignedHeaders '${hmac[1]}' is not x-ms-date;host;x-ms-content-sha256` };
    }
    const date = header(req, "x-ms-date");
    const host = header(req, "host");
    const contentHash = header(req, "x-ms-content-sha256");
    if (date === undefined || host === undefined || contentHash === undefined) {
      return { problem: "x-ms-date, host or x-ms-content-sha256 is missing" };
    }
    const at = Date.parse(date);
    if (Number.isNaN(at) || Math.abs(Date.now() - at) > MAX_CLOCK_SKEW_MS) {
      return { problem: `x-ms-date '${date}' is not a current HTTP date` };
    }
    if (host !== new URL(this.endpoint).host) {
      return { problem: `host '${host}' is not this resource's` };
    }
    if (createHash("sha256").update(body).digest("base64") !== contentHash) {
      return { problem: "x-ms-content-sha256 is not the SHA-256 of the body" };
    }
    const stringToSign = `${req.method}\n${req.url}\n${date};${host};${contentHash}`;
    const expected = createHmac("sha256", Buffer.from(this.accessKey, "base64"))
      .update(stringToSign, "utf8")
      .digest();
    const given = Buffer.from(hmac[2]!, "base64");
    return given.length === expected.length && timingSafeEqual(given, expected)
      ? "hmac"
      : { problem: "the HMAC-SHA256 signature does not match the access key" };
  }
}

interface WireAddress {
  readonly address: string;
  readonly displayName?: string;
}

interface WireMessage {
  readonly senderAddress: string;
  readonly content: {
    readonly subject: string;
    readonly plainText?: string;
    readonly html?: string;
  };
  readonly recipients: {
    readonly to: readonly WireAddress[];
    readonly cc?: readonly WireAddress[];
    readonly bcc?: readonly WireAddress[];
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

/** What makes a body not an `EmailMessage` of the API (empty when it is one). */
function messageProblems(message: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(message)) return ["the body is not an object"];
  unknownProperties(message, MESSAGE_PROPERTIES, "$", problems);
  if (typeof message["senderAddress"] !== "string" || !message["senderAddress"].includes("@")) {
    problems.push("senderAddress is required and must be an address");
  }
  const content = message["content"];
  if (!isObject(content)) {
    problems.push("content is required");
  } else {
    unknownProperties(content, CONTENT_PROPERTIES, "$.content", problems);
    if (typeof content["subject"] !== "string") problems.push("content.subject is required");
    if (typeof content["plainText"] !== "string" && typeof content["html"] !== "string") {
      problems.push("content needs plainText or html");
    }
  }
  const recipients = message["recipients"];
  if (!isObject(recipients)) {
    problems.push("recipients is required");
  } else {
    unknownProperties(recipients, RECIPIENT_PROPERTIES, "$.recipients", problems);
    if (!Array.isArray(recipients["to"]) || recipients["to"].length === 0) {
      problems.push("recipients.to needs at least one address");
    }
    for (const kind of ["to", "cc", "bcc"]) {
      const list = recipients[kind];
      if (list === undefined) continue;
      if (!Array.isArray(list)) {
        problems.push(`recipients.${kind} is not an array`);
        continue;
      }
      list.forEach((entry: unknown, index) => {
        const path = `$.recipients.${kind}[${index}]`;
        if (!isObject(entry) || typeof entry["address"] !== "string") {
          problems.push(`${path}.address is required`);
          return;
        }
        unknownProperties(entry, ADDRESS_PROPERTIES, path, problems);
        if (!/^[^@\s]+@[^@\s]+$/.test(entry["address"])) {
          problems.push(`${path}.address '${entry["address"]}' is not an address`);
        }
      });
    }
  }
  return problems;
}

function unknownProperties(
  value: Record<string, unknown>,
  known: ReadonlySet<string>,
  path: string,
  problems: string[],
): void {
  for (const name of Object.keys(value)) {
    if (!known.has(name)) problems.push(`${path}.${name} is not a property of the API`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
