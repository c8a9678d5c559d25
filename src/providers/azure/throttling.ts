/**
 * One pipeline policy that keeps the app inside Resource Manager's request limits, so that a
 * fan-out over hundreds of servers slows down instead of failing.
 *
 * @remarks Resource Manager meters each subscription (per principal, per region) with token
 * buckets: reads 250 burst refilled at 25/s, writes and deletes 200 burst refilled at 10/s. The
 * policy keeps a client-side copy of those buckets, lowers it when the service reports fewer
 * remaining requests (`x-ms-ratelimit-remaining-*`, other clients share the budget), and when
 * the service still answers 429 (or 503 with `Retry-After`) it holds every request of that bucket
 * for the interval asked and sends the request again.
 */
import type {
  PipelinePolicy,
  PipelineRequest,
  PipelineResponse,
  SendRequest,
} from "@azure/core-rest-pipeline";
import type { EventLogger } from "../../observability/eventLogger.js";
import { logEvents } from "../../observability/logEvents.js";
import { parseRetryAfterMs } from "./armErrors.js";
import { isNonIdempotentRequest } from "./dataProtection/sendOnce.js";
import { azureSdkEventLogger } from "./providerLog.js";

/** A token bucket's size and refill rate. */
export interface TokenBucketLimits {
  readonly burst: number;
  readonly refillPerSecond: number;
}

/** The kinds of request Resource Manager meters separately. */
export type ArmOperationClass = "reads" | "writes" | "deletes";

/** Resource Manager's per-subscription buckets (2024 regional throttling). */
export const armRequestLimits: Readonly<Record<ArmOperationClass, TokenBucketLimits>> = {
  reads: { burst: 250, refillPerSecond: 25 },
  writes: { burst: 200, refillPerSecond: 10 },
  deletes: { burst: 200, refillPerSecond: 10 },
};

/** An abort signal, as the pipeline carries it. */
export type AbortSignalLike = NonNullable<PipelineRequest["abortSignal"]>;

/** Time as the throttle sees it; tests substitute a virtual clock. */
export interface ThrottleClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignalLike): Promise<void>;
}

/** Real time. */
export const systemClock: ThrottleClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (ms <= 0) return resolve();
      if (signal?.aborted) return reject(new Error("The operation was aborted."));
      const onAbort = () => {
        clearTimeout(timer);
        reject(new Error("The operation was aborted."));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal?.addEventListener("abort", onAbort);
    }),
};

/**
 * A token bucket handing out reservations: a caller takes a token now and learns how long to
 * wait for it, so waiting callers queue fairly without polling.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;
  private blockedUntil = 0;

  constructor(
    readonly limits: TokenBucketLimits,
    private readonly clock: Pick<ThrottleClock, "now">,
  ) {
    this.tokens = limits.burst;
    this.updatedAt = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsedSeconds = (now - this.updatedAt) / 1000;
    this.tokens = Math.min(
      this.limits.burst,
      this.tokens + elapsedSeconds * this.limits.refillPerSecond,
    );
    this.updatedAt = now;
  }

  /** Takes one token; returns the milliseconds to wait before using it. */
  reserve(): number {
    this.refill();
    this.tokens -= 1;
    const untilToken = this.tokens >= 0 ? 0 : (-this.tokens / this.limits.refillPerSecond) * 1000;
    const untilUnblocked = Math.max(0, this.blockedUntil - this.clock.now());
    return Math.max(untilToken, untilUnblocked);
  }

  /** Lowers the tokens to what the service says remain; never raises them. */
  clampTo(remaining: number): void {
    this.refill();
    this.tokens = Math.min(this.tokens, remaining);
  }

  /** Holds every reservation until `ms` from now (the service answered 429). */
  blockFor(ms: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, this.clock.now() + ms);
  }

  /** Tokens available now (negative when callers are queued). */
  available(): number {
    this.refill();
    return this.tokens;
  }
}

/** Which bucket a request draws from. */
export function operationClassOf(method: string): ArmOperationClass {
  const upper = method.toUpperCase();
  if (upper === "GET" || upper === "HEAD") return "reads";
  if (upper === "DELETE") return "deletes";
  return "writes";
}

function subscriptionOf(url: string): string {
  const match = /\/subscriptions\/([^/?#]+)/i.exec(new URL(url).pathname);
  return match?.[1]?.toLowerCase() ?? "tenant";
}

/** Options of an {@link ArmRequestThrottle}. */
export interface ArmRequestThrottleOptions {
  readonly limits?: Partial<Record<ArmOperationClass, TokenBucketLimits>>;
  readonly clock?: ThrottleClock;
}

/**
 * The buckets of every subscription the app calls, shared by all clients of one process so that
 * their requests add up against the same limits.
 */
export class ArmRequestThrottle {
  readonly clock: ThrottleClock;
  private readonly limits: Record<ArmOperationClass, TokenBucketLimits>;
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(options: ArmRequestThrottleOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.limits = { ...armRequestLimits, ...options.limits };
  }

  /** The bucket a request to `url` with `method` draws from. */
  bucketFor(url: string, method: string): TokenBucket {
    const kind = operationClassOf(method);
    const key = `${subscriptionOf(url)}|${kind}`;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.limits[kind], this.clock);
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  /** Waits until the request may be sent. */
  async acquire(url: string, method: string, signal?: AbortSignalLike): Promise<void> {
    const waitMs = this.bucketFor(url, method).reserve();
    if (waitMs > 0) await this.clock.sleep(waitMs, signal);
  }

  /** Learns from a response's `x-ms-ratelimit-remaining-*` headers. */
  observe(url: string, method: string, header: (name: string) => string | undefined): void {
    const kind = operationClassOf(method);
    const reported = [
      header(`x-ms-ratelimit-remaining-subscription-${kind}`),
      header(`x-ms-ratelimit-remaining-subscription-global-${kind}`),
    ]
      .map((value) => (value === undefined ? Number.NaN : Number(value)))
      .filter((value) => Number.isFinite(value));
    if (reported.length > 0) this.bucketFor(url, method).clampTo(Math.min(...reported));
  }
}

/** Options of {@link armThrottlingPolicy}. */
export interface ArmThrottlingPolicyOptions {
  /** How many times one request is sent again after 429; 10 by default. */
  readonly maxRetries?: number;
  /**
   * Factor applied to every `Retry-After`; 1 in production. Tests shorten the service's
   * intervals with it instead of waiting whole seconds.
   */
  readonly retryAfterScale?: number;
  /** Wait when a 429 carries no `Retry-After`, in milliseconds; 2 s by default. */
  readonly defaultRetryAfterMs?: number;
  /**
   * Longest time one request waits to be sent again, in all, from the first time it is
   * throttled; 60 s by default. A request still throttled then is answered with the service's
   * 429 at once, which the caller takes for a retryable failure.
   */
  readonly maxThrottledWaitMs?: number;
  /** Where the waits are logged; the Azure SDK's log by default. */
  readonly log?: EventLogger;
}

/** How long one request waits out throttling in all, by default. */
export const defaultMaxThrottledWaitMs = 60_000;

/** Name of the policy in the pipeline. */
export const armThrottlingPolicyName = "armThrottlingPolicy";

/**
 * The pipeline policy: acquire, send, learn, and wait and resend on 429.
 *
 * @remarks The waits of one request are bounded in all (`maxThrottledWaitMs`), not only in
 * number: ten `Retry-After`s of a minute would hold an activity for most of its ten-minute
 * timeout. This policy is the only one that waits out 429s (`sendOnce.ts` leaves them to it), so
 * the bound holds for the whole pipeline.
 */
export function armThrottlingPolicy(
  throttle: ArmRequestThrottle,
  options: ArmThrottlingPolicyOptions = {},
): PipelinePolicy {
  const maxRetries = options.maxRetries ?? 10;
  const scale = options.retryAfterScale ?? 1;
  const defaultRetryAfterMs = options.defaultRetryAfterMs ?? 2000;
  const maxThrottledWaitMs = options.maxThrottledWaitMs ?? defaultMaxThrottledWaitMs;
  const log = options.log ?? azureSdkEventLogger;
  return {
    name: armThrottlingPolicyName,
    async sendRequest(request: PipelineRequest, next: SendRequest): Promise<PipelineResponse> {
      let throttledSince: number | undefined;
      for (let attempt = 0; ; attempt += 1) {
        await throttle.acquire(request.url, request.method, request.abortSignal);
        const response = await next(request);
        throttle.observe(request.url, request.method, (name) => response.headers.get(name));
        const retryAfter = response.headers.get("retry-after");
        // A 503 may come after the service acted; only a request that may be repeated is.
        const throttled =
          response.status === 429 ||
          (response.status === 503 &&
            retryAfter !== undefined &&
            !isNonIdempotentRequest(request.method, request.url));
        if (!throttled || attempt >= maxRetries) return response;
        const waitMs = Math.round((parseRetryAfterMs(retryAfter) ?? defaultRetryAfterMs) * scale);
        throttledSince ??= throttle.clock.now();
        const waitedMs = throttle.clock.now() - throttledSince;
        const overBudget = waitedMs + waitMs > maxThrottledWaitMs;
        const bucket = throttle.bucketFor(request.url, request.method);
        // The service's bucket is empty: without this, every held request would resend at
        // once when the wait ends and be throttled again; emptied, they resume at the refill rate.
        bucket.clampTo(0);
        // Held no longer than a request may wait in all, so that the requests held meanwhile
        // stay within their bound too.
        bucket.blockFor(Math.min(waitMs, maxThrottledWaitMs));
        // The path names the resource, never a secret: query strings stay out of the log.
        const path = new URL(request.url).pathname;
        if (overBudget) {
          log.emit(logEvents.azureThrottlingGaveUp, {
            method: request.method,
            path,
            status: response.status,
            waitMs,
            waitedMs,
            maxWaitMs: maxThrottledWaitMs,
          });
          return response;
        }
        log.emit(logEvents.azureThrottled, {
          method: request.method,
          path,
          status: response.status,
          waitMs,
          attempt: attempt + 1,
        });
        // The token for this attempt was spent: ARM counted the throttled request too.
        await throttle.clock.sleep(waitMs, request.abortSignal);
      }
    },
  };
}
