import { describe, expect, test } from "vitest";
import { parseRetryOptions, retryDelay } from "../../../src/timers/scheduler.js";

describe("function retry policies", () => {
  test("a fixed delay waits the same time before every retry", () => {
    const policy = parseRetryOptions({
      strategy: "fixedDelay",
      retryStrategy: "fixedDelay",
      maxRetryCount: 3,
      delayInterval: { seconds: 7 },
    });

    expect(policy).toMatchObject({ strategy: "fixedDelay", maxRetryCount: 3 });
    expect([1, 2, 3].map((retry) => retryDelay(policy!, retry))).toEqual([7_000, 7_000, 7_000]);
  });

  test("exponential backoff doubles from the minimum up to the maximum", () => {
    const policy = parseRetryOptions({
      retryStrategy: "exponentialBackoff",
      maxRetryCount: -1,
      minimumInterval: { seconds: 2 },
      maximumInterval: { seconds: 10 },
    });

    expect([1, 2, 3, 4, 5].map((retry) => retryDelay(policy!, retry))).toEqual([
      2_000, 4_000, 8_000, 10_000, 10_000,
    ]);
  });

  test("no policy, an unknown strategy or a zero count means no retries", () => {
    expect(parseRetryOptions(undefined)).toBeUndefined();
    expect(parseRetryOptions({ retryStrategy: "sometimes", maxRetryCount: 2 })).toBeUndefined();
    expect(
      parseRetryOptions({
        retryStrategy: "fixedDelay",
        maxRetryCount: 0,
        delayInterval: { seconds: 1 },
      }),
    ).toBeUndefined();
  });
});
