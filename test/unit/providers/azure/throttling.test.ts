import {
  createHttpHeaders,
  createPipelineRequest,
  type PipelineRequest,
  type PipelineResponse,
} from "@azure/core-rest-pipeline";
import { describe, expect, it } from "vitest";
import {
  ArmRequestThrottle,
  TokenBucket,
  armThrottlingPolicy,
  operationClassOf,
  type ThrottleClock,
} from "../../../../src/providers/azure/throttling.js";

/** Virtual time: sleeps end only when the test advances the clock, all at once. */
class VirtualClock implements ThrottleClock {
  private t = 0;
  private timers: { at: number; resolve: () => void }[] = [];

  now = (): number => this.t;

  sleep = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      this.timers.push({ at: this.t + Math.max(0, ms), resolve });
    });

  /** Runs `work`, jumping time to the next timer whenever nothing else can happen. */
  async run<T>(work: Promise<T>): Promise<T> {
    let done = false;
    void work.finally(() => {
      done = true;
    });
    for (;;) {
      await new Promise<void>((r) => setImmediate(r));
      if (done) return work;
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers.shift();
      if (!next) throw new Error("deadlock: work pending and no timer");
      this.t = Math.max(this.t, next.at);
      next.resolve();
    }
  }
}

const SUB_A =
  "https://arm.test/subscriptions/aaaaaaaa-0000-0000-0000-000000000001/resourceGroups/rg/providers/x";
const SUB_B =
  "https://arm.test/subscriptions/bbbbbbbb-0000-0000-0000-000000000002/resourceGroups/rg/providers/x";

function respond(
  request: PipelineRequest,
  status: number,
  headers: Record<string, string> = {},
): PipelineResponse {
  return { request, status, headers: createHttpHeaders(headers) };
}

describe("TokenBucket", () => {
  it("hands out the burst at once, then one token per refill interval", () => {
    // Arrange
    const clock = new VirtualClock();
    const bucket = new TokenBucket({ burst: 200, refillPerSecond: 10 }, clock);

    // Act
    const waits = Array.from({ length: 210 }, () => bucket.reserve());

    // Assert
    expect(waits.slice(0, 200).every((w) => w === 0)).toBe(true);
    expect(waits[200]).toBeCloseTo(100);
    expect(waits[209]).toBeCloseTo(1000);
  });

  it("lowers its tokens to what the service reports remaining, never raises them", () => {
    const bucket = new TokenBucket({ burst: 250, refillPerSecond: 25 }, new VirtualClock());

    bucket.clampTo(3);
    bucket.clampTo(1000);

    expect(bucket.available()).toBe(3);
  });
});

describe("operationClassOf", () => {
  it("meters GET and HEAD as reads, DELETE as deletes and the rest as writes", () => {
    expect(["GET", "HEAD", "DELETE", "PUT", "POST", "PATCH"].map(operationClassOf)).toEqual([
      "reads",
      "reads",
      "deletes",
      "writes",
      "writes",
      "writes",
    ]);
  });
});

describe("armThrottlingPolicy", () => {
  it("spreads a fan-out of 300 writes over exactly the time the write bucket allows", async () => {
    // Arrange
    const clock = new VirtualClock();
    const policy = armThrottlingPolicy(new ArmRequestThrottle({ clock }));
    const sentAt: number[] = [];
    const next = async (request: PipelineRequest) => {
      sentAt.push(clock.now());
      return respond(request, 200);
    };

    // Act
    const responses = await clock.run(
      Promise.all(
        Array.from({ length: 300 }, () =>
          policy.sendRequest(createPipelineRequest({ url: `${SUB_A}/a`, method: "PUT" }), next),
        ),
      ),
    );

    // Assert
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(sentAt.filter((t) => t === 0)).toHaveLength(200);
    // 100 writes beyond the burst at 10 per second: 10 s, the lower bound.
    expect(Math.max(...sentAt)).toBeCloseTo(10_000, -1);
  });

  it("waits the Retry-After of a 429, holds the bucket meanwhile, and resends", async () => {
    // Arrange
    const clock = new VirtualClock();
    const policy = armThrottlingPolicy(new ArmRequestThrottle({ clock }));
    const log: { t: number; path: string }[] = [];
    let throttles = 2;
    const next = async (request: PipelineRequest) => {
      log.push({ t: clock.now(), path: new URL(request.url).pathname.split("/").pop() ?? "" });
      if (request.url.endsWith("/first") && throttles-- > 0)
        return respond(request, 429, { "retry-after": "3" });
      return respond(request, 200);
    };

    // Act
    const first = policy.sendRequest(
      createPipelineRequest({ url: `${SUB_A}/first`, method: "GET" }),
      next,
    );
    const later = clock
      .sleep(1000)
      .then(() =>
        policy.sendRequest(createPipelineRequest({ url: `${SUB_A}/second`, method: "GET" }), next),
      );
    const [a, b] = await clock.run(Promise.all([first, later]));

    // Assert
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(log).toEqual([
      { t: 0, path: "first" },
      { t: 3000, path: "first" },
      // Sent at 1 s, during the first wait, so held until it ended.
      { t: 3000, path: "second" },
      { t: 6000, path: "first" },
    ]);
  });

  it("slows down when the service reports the subscription's budget nearly spent", async () => {
    const clock = new VirtualClock();
    const policy = armThrottlingPolicy(new ArmRequestThrottle({ clock }));
    const sentAt: number[] = [];
    const next = async (request: PipelineRequest) => {
      sentAt.push(clock.now());
      return respond(request, 200, { "x-ms-ratelimit-remaining-subscription-writes": "0" });
    };

    await clock.run(
      policy.sendRequest(createPipelineRequest({ url: `${SUB_A}/a`, method: "POST" }), next),
    );
    await clock.run(
      policy.sendRequest(createPipelineRequest({ url: `${SUB_A}/a`, method: "POST" }), next),
    );

    expect(sentAt[1]).toBeCloseTo(100);
  });

  it("keeps separate buckets per subscription and per kind of request", async () => {
    const clock = new VirtualClock();
    const throttle = new ArmRequestThrottle({
      clock,
      limits: { writes: { burst: 1, refillPerSecond: 1 }, reads: { burst: 1, refillPerSecond: 1 } },
    });
    const policy = armThrottlingPolicy(throttle);
    const sentAt: number[] = [];
    const next = async (request: PipelineRequest) => {
      sentAt.push(clock.now());
      return respond(request, 200);
    };

    await clock.run(
      Promise.all([
        policy.sendRequest(createPipelineRequest({ url: `${SUB_A}/a`, method: "PUT" }), next),
        policy.sendRequest(createPipelineRequest({ url: `${SUB_A}/a`, method: "GET" }), next),
        policy.sendRequest(createPipelineRequest({ url: `${SUB_B}/a`, method: "PUT" }), next),
        policy.sendRequest(createPipelineRequest({ url: `${SUB_A}/b`, method: "PUT" }), next),
      ]),
    );

    expect(sentAt).toEqual([0, 0, 0, 1000]);
  });

  it("answers the 429 at once when waiting again would pass the bound on a request's waits", async () => {
    // Arrange: each answer asks for 25 s; the bound is a minute.
    const clock = new VirtualClock();
    const policy = armThrottlingPolicy(new ArmRequestThrottle({ clock }));
    const sentAt: number[] = [];
    const next = async (request: PipelineRequest) => {
      sentAt.push(clock.now());
      return respond(request, 429, { "retry-after": "25" });
    };

    // Act
    const response = await clock.run(
      policy.sendRequest(createPipelineRequest({ url: `${SUB_A}/a`, method: "GET" }), next),
    );

    // Assert: 0, 25 and 50 s; waiting until 75 s would pass the minute.
    expect(response.status).toBe(429);
    expect(sentAt).toEqual([0, 25_000, 50_000]);
    expect(clock.now()).toBe(50_000);
  });

  it("holds the other requests of the bucket no longer than the bound when a request gives up", async () => {
    // Arrange: the first answer asks for ten minutes.
    const clock = new VirtualClock();
    const policy = armThrottlingPolicy(new ArmRequestThrottle({ clock }), {
      maxThrottledWaitMs: 30_000,
    });
    const sentAt: { t: number; path: string }[] = [];
    let throttles = 1;
    const next = async (request: PipelineRequest) => {
      sentAt.push({ t: clock.now(), path: new URL(request.url).pathname.split("/").pop() ?? "" });
      return throttles-- > 0
        ? respond(request, 429, { "retry-after": "600" })
        : respond(request, 200);
    };

    // Act
    const first = await clock.run(
      policy.sendRequest(createPipelineRequest({ url: `${SUB_A}/first`, method: "GET" }), next),
    );
    const second = await clock.run(
      policy.sendRequest(createPipelineRequest({ url: `${SUB_A}/second`, method: "GET" }), next),
    );

    // Assert
    expect(first.status).toBe(429);
    expect(second.status).toBe(200);
    expect(sentAt).toEqual([
      { t: 0, path: "first" },
      { t: 30_000, path: "second" },
    ]);
  });

  it("returns the 429 once its retries are spent", async () => {
    const clock = new VirtualClock();
    const policy = armThrottlingPolicy(new ArmRequestThrottle({ clock }), { maxRetries: 2 });
    let sends = 0;
    const next = async (request: PipelineRequest) => {
      sends += 1;
      return respond(request, 429, { "retry-after": "1" });
    };

    const response = await clock.run(
      policy.sendRequest(createPipelineRequest({ url: `${SUB_A}/a`, method: "GET" }), next),
    );

    expect(response.status).toBe(429);
    expect(sends).toBe(3);
  });
});
