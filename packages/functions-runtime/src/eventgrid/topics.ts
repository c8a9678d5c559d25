/**
 * Local Event Grid topics: an endpoint the real `EventGridPublisherClient` publishes to
 * (`POST /runtime/topics/{topic}`, Event Grid schema or CloudEvents 1.0, `aeg-sas-key` or
 * `aeg-sas-token` auth), and delivery to subscribed functions through the Event Grid webhook with
 * Event Grid's retry schedule, a time-to-live and a dead-letter folder.
 */
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { FunctionInvoker, LocalHttpRequest, LocalHttpResponse } from "../contracts.js";
import type { HostLog } from "../core/hostLog.js";
import type { CancelTimer, Clock } from "../timers/clock.js";
import { createEventGridWebhook } from "./webhook.js";

/** One subscription: deliver a topic's events to a function. */
export interface SubscriptionSettings {
  /** Default: the function name. Sent as `aeg-subscription-name`. */
  readonly name?: string;
  readonly function: string;
  /** Deliver only these event types (case-insensitive); all when absent. */
  readonly includedEventTypes?: readonly string[];
  readonly subjectBeginsWith?: string;
  readonly subjectEndsWith?: string;
  readonly maxDeliveryAttempts?: number;
  readonly eventTimeToLiveMinutes?: number;
}

/** One local topic. */
export interface TopicSettings {
  /** The access key; when set, publishers must present it (`AzureKeyCredential`) or a SAS made from it. */
  readonly key?: string;
  /** Reject events of the other schema. Default: accept both, by content type. */
  readonly inputSchema?: "EventGridSchema" | "CloudEventSchemaV1_0";
  readonly subscriptions: readonly SubscriptionSettings[];
}

/** Local Event Grid settings. */
export interface EventGridSettings {
  readonly topics?: Readonly<Record<string, TopicSettings>>;
  /**
   * Multiplies Event Grid's delivery times — retry delays and event time-to-live — so tests
   * can run the real schedule fast (0.001 turns the first 10 s retry into 10 ms). Default 1.
   */
  readonly timeScale?: number;
  /** Default 30, as in Event Grid. */
  readonly maxDeliveryAttempts?: number;
  /** Default 1440 (one day), as in Event Grid. */
  readonly eventTimeToLiveMinutes?: number;
}

/** Event Grid's delays before retries 1, 2, 3...; later retries wait 12 hours. */
export const retryScheduleMs: readonly number[] = [
  10_000, 30_000, 60_000, 300_000, 600_000, 1_800_000, 3_600_000, 10_800_000, 21_600_000,
];
const laterRetryMs = 43_200_000;

/** The delay before the next attempt after `failedAttempts` failures (unscaled). */
export function retryDelayMs(failedAttempts: number): number {
  return retryScheduleMs[failedAttempts - 1] ?? laterRetryMs;
}

/** Options of {@link LocalTopics}. */
export interface LocalTopicsOptions {
  readonly settings: EventGridSettings;
  readonly invoker: FunctionInvoker;
  readonly clock: Clock;
  /** Dead letters go under `<stateDir>/deadletter/<topic>/<subscription>/`. */
  readonly stateDir: string;
  readonly log: HostLog;
  /** The host's base URL, for the webhook URL deliveries are addressed to. */
  readonly baseUrl: string;
}

type Schema = "EventGridSchema" | "CloudEventSchemaV1_0";

interface Delivery {
  readonly id: string;
  readonly topic: string;
  readonly subscription: SubscriptionSettings;
  readonly subscriptionName: string;
  readonly event: Record<string, unknown>;
  readonly schema: Schema;
  readonly publishTime: Date;
  readonly expiresAt: number;
  readonly maxAttempts: number;
  attempts: number;
  cancel: CancelTimer | undefined;
  lastStatus: number | undefined;
  lastOutcome: string | undefined;
}

/**
 * The Event Grid service's error body, `{"error":{"code","message"}}` as application/json. The
 * topic door answers its refusals (401, 404, 413, 400) this way rather than as problem
 * details because Azure's Event Grid does, and publishers (the Event Grid SDKs) read that shape.
 */
function eventGridError(status: number, code: string, message: string): LocalHttpResponse {
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
    body: JSON.stringify({ error: { code, message } }),
  };
}

/** The largest publish request Event Grid accepts. */
const maxPublishBytes = 1_048_576;

/** Checks an `aeg-sas-token` (as `generateSharedAccessSignature` makes it) against the key. */
export function isValidSasToken(token: string, key: string, now: Date): boolean {
  const parts = new URLSearchParams(token);
  const resource = parts.get("r");
  const expires = parts.get("e");
  const signature = parts.get("s");
  if (resource === null || expires === null || signature === null) return false;
  const unsigned = `r=${encodeURIComponent(resource)}&e=${encodeURIComponent(expires)}`;
  const expected = createHmac("sha256", Buffer.from(key, "base64")).update(unsigned).digest();
  const given = Buffer.from(signature, "base64");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
  const expiry = /^(\d+)\/(\d+)\/(\d+) (\d+):(\d+):(\d+) (AM|PM)$/.exec(expires);
  if (!expiry) return false;
  const [, month, day, year, hour, minute, second, half] = expiry;
  const hour24 = (Number(hour) % 12) + (half === "PM" ? 12 : 0);
  const expiresAt = Date.UTC(
    Number(year),
    Number(month) - 1,
    Number(day),
    hour24,
    Number(minute),
    Number(second),
  );
  return expiresAt > now.getTime();
}

function sameSecret(given: string, expected: string): boolean {
  const left = Buffer.from(given);
  const right = Buffer.from(expected);
  return left.length === right.length && timingSafeEqual(left, right);
}

function validateEvent(event: unknown, schema: Schema, index: number): string | undefined {
  if (typeof event !== "object" || event === null || Array.isArray(event))
    return `Event ${index} is not an object.`;
  const record = event as Record<string, unknown>;
  const required =
    schema === "CloudEventSchemaV1_0"
      ? ["specversion", "id", "source", "type"]
      : ["id", "subject", "eventType", "eventTime", "dataVersion"];
  for (const field of required) {
    if (typeof record[field] !== "string" || record[field] === "") {
      return `Event ${index}: required property '${field}' is missing or not a string.`;
    }
  }
  if (schema === "CloudEventSchemaV1_0" && record["specversion"] !== "1.0") {
    return `Event ${index}: specversion must be '1.0'.`;
  }
  if (schema === "EventGridSchema" && Number.isNaN(Date.parse(String(record["eventTime"])))) {
    return `Event ${index}: eventTime is not a valid time.`;
  }
  return undefined;
}

function matches(
  subscription: SubscriptionSettings,
  event: Record<string, unknown>,
  schema: Schema,
): boolean {
  const type = String(schema === "CloudEventSchemaV1_0" ? event["type"] : event["eventType"]);
  const subject = typeof event["subject"] === "string" ? event["subject"] : "";
  if (
    subscription.includedEventTypes &&
    subscription.includedEventTypes.length > 0 &&
    !subscription.includedEventTypes.some(
      (included) => included.toLowerCase() === type.toLowerCase(),
    )
  ) {
    return false;
  }
  if (
    subscription.subjectBeginsWith &&
    !subject.toLowerCase().startsWith(subscription.subjectBeginsWith.toLowerCase())
  ) {
    return false;
  }
  if (
    subscription.subjectEndsWith &&
    !subject.toLowerCase().endsWith(subscription.subjectEndsWith.toLowerCase())
  ) {
    return false;
  }
  return true;
}

/**
 * The local topics and their pending deliveries.
 *
 * @remarks An accepted event is written to `<stateDir>/pending/` before the publisher gets its
 * 200, and removed once delivered or dead-lettered, so deliveries survive a restart
 * ({@link LocalTopics.start} resumes them): at least once, as in Event Grid. Retries follow Event
 * Grid's schedule without its random jitter, so tests are repeatable.
 */
export class LocalTopics {
  readonly #options: LocalTopicsOptions;
  readonly #webhook: (request: LocalHttpRequest) => Promise<LocalHttpResponse>;
  readonly #pending = new Set<Delivery>();
  readonly #idleWaiters: Array<() => void> = [];
  readonly #quietWaiters: Array<() => void> = [];
  /** Attempts running or due at once (not waiting for a retry time). */
  #active = 0;
  #stopped = false;

  constructor(options: LocalTopicsOptions) {
    this.#options = options;
    this.#webhook = createEventGridWebhook(options.invoker);
  }

  /** The endpoint of a topic, for `new EventGridPublisherClient(endpoint, ...)`. */
  endpoint(topic: string): string {
    return `${this.#options.baseUrl}/runtime/topics/${encodeURIComponent(topic)}`;
  }

  /** How many deliveries are waiting or in flight. */
  get pendingDeliveries(): number {
    return this.#pending.size;
  }

  /** Resolves once no delivery is pending (delivered or dead-lettered). */
  whenIdle(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Resolves once no attempt is running or due; retries may still wait for their time. */
  whenQuiet(): Promise<void> {
    if (this.#active === 0) return Promise.resolve();
    return new Promise((resolve) => this.#quietWaiters.push(resolve));
  }

  /** Resumes the deliveries a previous run left pending. */
  start(): void {
    const dir = this.#pendingDir();
    let files: string[];
    try {
      files = readdirSync(dir).filter((file) => file.endsWith(".json"));
    } catch {
      return;
    }
    for (const file of files) {
      const delivery = this.#readPending(path.join(dir, file));
      if (!delivery) {
        this.#options.log.write(
          "warning",
          `Dropping the pending Event Grid delivery ${file}: its topic or subscription is no longer configured.`,
        );
        rmSync(path.join(dir, file), { force: true });
        continue;
      }
      this.#pending.add(delivery.delivery);
      this.#schedule(delivery.delivery, delivery.nextAttemptAt);
    }
    if (files.length > 0) {
      this.#options.log.write(
        "information",
        `Resumed ${this.#pending.size} pending Event Grid deliveries.`,
      );
    }
  }

  /** Cancels pending retries; the deliveries stay on disk for the next start. */
  stop(): void {
    this.#stopped = true;
    for (const delivery of this.#pending) delivery.cancel?.();
    this.#pending.clear();
    this.#notifyIdle();
    this.#active = 0;
    this.#notifyQuiet();
  }

  /** Serves `POST /runtime/topics/{topic}`: 200 when accepted, as Event Grid answers. */
  async handlePublish(topicName: string, request: LocalHttpRequest): Promise<LocalHttpResponse> {
    const topics = this.#options.settings.topics ?? {};
    const entry = Object.entries(topics).find(
      ([name]) => name.toLowerCase() === topicName.toLowerCase(),
    );
    if (!entry) return eventGridError(404, "NotFound", `The topic '${topicName}' does not exist.`);
    const [name, topic] = entry;
    if (request.method.toUpperCase() !== "POST") {
      return eventGridError(405, "MethodNotAllowed", "Publish events with POST.");
    }
    if (topic.key !== undefined && topic.key !== "") {
      const key = request.headers["aeg-sas-key"];
      const token = request.headers["aeg-sas-token"];
      const authorized =
        (key !== undefined && sameSecret(key, topic.key)) ||
        (token !== undefined && isValidSasToken(token, topic.key, this.#options.clock.now()));
      if (!authorized) {
        return eventGridError(
          401,
          "Unauthorized",
          "The request did not present a valid aeg-sas-key or aeg-sas-token.",
        );
      }
    }
    if (request.body.length > maxPublishBytes) {
      return eventGridError(413, "RequestEntityTooLarge", "The request exceeds the 1 MB limit.");
    }

    const contentType = (request.headers["content-type"] ?? "").toLowerCase();
    const schema: Schema = contentType.startsWith("application/cloudevents")
      ? "CloudEventSchemaV1_0"
      : "EventGridSchema";
    if (topic.inputSchema && topic.inputSchema !== schema) {
      return eventGridError(
        400,
        "BadRequest",
        `The topic '${name}' accepts ${topic.inputSchema} only.`,
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(request.body).toString("utf8")) as unknown;
    } catch {
      return eventGridError(400, "BadRequest", "The request body is not valid JSON.");
    }
    const events = Array.isArray(body)
      ? body
      : schema === "CloudEventSchemaV1_0"
        ? [body]
        : undefined;
    if (!events)
      return eventGridError(
        400,
        "BadRequest",
        "Event Grid schema events must be sent as an array.",
      );
    for (const [index, event] of events.entries()) {
      const problem = validateEvent(event, schema, index);
      if (problem) return eventGridError(400, "BadRequest", problem);
    }

    const publishTime = this.#options.clock.now();
    for (const raw of events as Record<string, unknown>[]) {
      const event =
        schema === "EventGridSchema"
          ? {
              ...raw,
              topic: `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/Microsoft.EventGrid/topics/${name}`,
              metadataVersion: "1",
            }
          : raw;
      for (const subscription of topic.subscriptions) {
        if (matches(subscription, event, schema))
          this.#enqueue(name, subscription, event, schema, publishTime);
      }
    }
    return { status: 200 };
  }

  #enqueue(
    topic: string,
    subscription: SubscriptionSettings,
    event: Record<string, unknown>,
    schema: Schema,
    publishTime: Date,
  ): void {
    if (this.#stopped) return;
    const settings = this.#options.settings;
    const scale = settings.timeScale ?? 1;
    const ttlMinutes =
      subscription.eventTimeToLiveMinutes ?? settings.eventTimeToLiveMinutes ?? 1440;
    const delivery: Delivery = {
      id: randomUUID(),
      topic,
      subscription,
      subscriptionName: (subscription.name ?? subscription.function).toUpperCase(),
      event,
      schema,
      publishTime,
      expiresAt: publishTime.getTime() + ttlMinutes * 60_000 * scale,
      maxAttempts: subscription.maxDeliveryAttempts ?? settings.maxDeliveryAttempts ?? 30,
      attempts: 0,
      cancel: undefined,
      lastStatus: undefined,
      lastOutcome: undefined,
    };
    this.#pending.add(delivery);
    this.#persist(delivery, publishTime);
    this.#schedule(delivery, publishTime);
  }

  /** Runs the next attempt at `at`, or at once when that time has come. */
  #schedule(delivery: Delivery, at: Date): void {
    const run = () => {
      void this.#attempt(delivery).finally(() => {
        this.#active = Math.max(0, this.#active - 1);
        this.#notifyQuiet();
      });
    };
    if (at.getTime() <= this.#options.clock.now().getTime()) {
      this.#active += 1;
      setImmediate(run);
      return;
    }
    delivery.cancel = this.#options.clock.setTimer(at, () => {
      delivery.cancel = undefined;
      this.#active += 1;
      run();
    });
  }

  async #attempt(delivery: Delivery): Promise<void> {
    if (this.#stopped || !this.#pending.has(delivery)) return;
    const startedAt = this.#options.clock.now();
    if (startedAt.getTime() > delivery.expiresAt) {
      this.#deadLetter(delivery, "TimeToLiveExceeded", startedAt);
      return;
    }
    delivery.attempts += 1;
    const url = new URL(
      `${this.#options.baseUrl}/runtime/webhooks/eventgrid?functionName=${encodeURIComponent(delivery.subscription.function)}`,
    );
    const cloudEvent = delivery.schema === "CloudEventSchemaV1_0";
    const response = await this.#webhook({
      method: "POST",
      url,
      headers: {
        "content-type": cloudEvent
          ? "application/cloudevents+json; charset=utf-8"
          : "application/json; charset=utf-8",
        "aeg-event-type": "Notification",
        "aeg-subscription-name": delivery.subscriptionName,
        "aeg-delivery-count": String(delivery.attempts - 1),
        "aeg-data-version": String(delivery.event["dataVersion"] ?? ""),
        "aeg-metadata-version": "1",
      },
      body: Buffer.from(JSON.stringify(cloudEvent ? delivery.event : [delivery.event])),
    }).catch(
      (error: unknown) => ({ status: 500, body: (error as Error).message }) as LocalHttpResponse,
    );

    if (response.status >= 200 && response.status < 300) {
      this.#finish(delivery);
      return;
    }
    delivery.lastStatus = response.status;
    delivery.lastOutcome =
      typeof response.body === "string" ? response.body : `HTTP ${response.status}`;
    const now = this.#options.clock.now();
    // As for Event Grid webhooks, 400 and 413 are not retried.
    if (response.status === 400 || response.status === 413) {
      this.#deadLetter(delivery, "NonRetriableFailure", now);
      return;
    }
    if (delivery.attempts >= delivery.maxAttempts) {
      this.#deadLetter(delivery, "MaxDeliveryAttemptsExceeded", now);
      return;
    }
    const retryAt =
      now.getTime() + retryDelayMs(delivery.attempts) * (this.#options.settings.timeScale ?? 1);
    if (retryAt > delivery.expiresAt) {
      this.#deadLetter(delivery, "TimeToLiveExceeded", now);
      return;
    }
    this.#persist(delivery, new Date(retryAt));
    if (!this.#stopped) this.#schedule(delivery, new Date(retryAt));
  }

  #pendingDir(): string {
    return path.join(this.#options.stateDir, "pending");
  }

  #persist(delivery: Delivery, nextAttemptAt: Date): void {
    const dir = this.#pendingDir();
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${delivery.id}.json`);
    const record = {
      id: delivery.id,
      topic: delivery.topic,
      subscriptionName: delivery.subscriptionName,
      event: delivery.event,
      schema: delivery.schema,
      publishTime: delivery.publishTime.toISOString(),
      expiresAt: delivery.expiresAt,
      maxAttempts: delivery.maxAttempts,
      attempts: delivery.attempts,
      nextAttemptAt: nextAttemptAt.toISOString(),
      lastStatus: delivery.lastStatus ?? null,
      lastOutcome: delivery.lastOutcome ?? null,
    };
    writeFileSync(`${file}.tmp`, JSON.stringify(record));
    renameSync(`${file}.tmp`, file);
  }

  #readPending(file: string): { delivery: Delivery; nextAttemptAt: Date } | undefined {
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    const topics = this.#options.settings.topics ?? {};
    const topic = topics[String(record["topic"])];
    const subscription = topic?.subscriptions.find(
      (candidate) =>
        (candidate.name ?? candidate.function).toUpperCase() === record["subscriptionName"],
    );
    if (!subscription || typeof record["event"] !== "object" || record["event"] === null) {
      return undefined;
    }
    return {
      delivery: {
        id: String(record["id"]),
        topic: String(record["topic"]),
        subscription,
        subscriptionName: String(record["subscriptionName"]),
        event: record["event"] as Record<string, unknown>,
        schema:
          record["schema"] === "CloudEventSchemaV1_0" ? "CloudEventSchemaV1_0" : "EventGridSchema",
        publishTime: new Date(String(record["publishTime"])),
        expiresAt: Number(record["expiresAt"]),
        maxAttempts: Number(record["maxAttempts"]),
        attempts: Number(record["attempts"]),
        cancel: undefined,
        lastStatus: typeof record["lastStatus"] === "number" ? record["lastStatus"] : undefined,
        lastOutcome: typeof record["lastOutcome"] === "string" ? record["lastOutcome"] : undefined,
      },
      nextAttemptAt: new Date(String(record["nextAttemptAt"])),
    };
  }

  #deadLetter(delivery: Delivery, reason: string, now: Date): void {
    const dir = path.join(
      this.#options.stateDir,
      "deadletter",
      delivery.topic,
      delivery.subscriptionName.toLowerCase(),
    );
    mkdirSync(dir, { recursive: true });
    const eventId = String(delivery.event["id"]).replace(/[^A-Za-z0-9._-]/g, "_");
    const record = {
      ...delivery.event,
      deadLetterReason: reason,
      deliveryAttempts: delivery.attempts,
      lastDeliveryOutcome: delivery.lastOutcome ?? "",
      lastHttpStatusCode: delivery.lastStatus ?? 0,
      publishTime: delivery.publishTime.toISOString(),
      lastDeliveryAttemptTime: now.toISOString(),
    };
    writeFileSync(
      path.join(dir, `${eventId}.${delivery.id}.json`),
      `${JSON.stringify([record], null, 2)}\n`,
    );
    this.#options.log.write(
      "warning",
      `Event '${String(delivery.event["id"])}' on topic '${delivery.topic}' dead-lettered for '${delivery.subscriptionName}': ${reason} after ${delivery.attempts} attempt(s).`,
    );
    this.#finish(delivery);
  }

  #finish(delivery: Delivery): void {
    this.#pending.delete(delivery);
    rmSync(path.join(this.#pendingDir(), `${delivery.id}.json`), { force: true });
    this.#notifyIdle();
  }

  #notifyQuiet(): void {
    if (this.#active > 0) return;
    for (const resolve of this.#quietWaiters.splice(0)) resolve();
  }

  #notifyIdle(): void {
    if (this.#pending.size > 0) return;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }
}
