import { describe, expect, test } from "vitest";
import { FunctionTimeoutError, formatTimeSpan } from "../../../src/core/workerSupervisor.js";

describe("the function timeout message", () => {
  test("writes durations as the host writes a TimeSpan", () => {
    expect(formatTimeSpan(600_000)).toBe("00:10:00");
    expect(formatTimeSpan(3_723_000)).toBe("01:02:03");
    expect(formatTimeSpan(1_250)).toBe("00:00:01.250");
  });

  test("names the function and carries a stable code", () => {
    const error = new FunctionTimeoutError("nightly", 300_000);

    expect(error.message).toBe(
      "Timeout value of 00:05:00 exceeded by function 'Functions.nightly'.",
    );
    expect(error.code).toBe("RUNTIME_FUNCTION_TIMEOUT");
  });
});
