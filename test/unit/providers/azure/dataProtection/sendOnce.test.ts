import {
  createHttpHeaders,
  createPipelineRequest,
  RestError,
  type PipelineRequest,
  type PipelineResponse,
} from "@azure/core-rest-pipeline";
import { describe, expect, it } from "vitest";
import {
  isAmbiguousFailure,
  isNonIdempotentRequest,
  sendOnceRetryPolicy,
} from "../../../../../src/providers/azure/dataProtection/sendOnce.js";

const instance =
  "https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/v/backupInstances/pg-pg-1";

/** A transport that answers each attempt in turn and counts them. */
function transport(answers: readonly (number | string)[]) {
  let sent = 0;
  const next = async (request: PipelineRequest): Promise<PipelineResponse> => {
    const answer = answers[Math.min(sent, answers.length - 1)] ?? 200;
    sent += 1;
    if (typeof answer === "string") throw new RestError("transport", { code: answer, request });
    // Throttling answers ask for a second, as Resource Manager's do.
    const headers: Record<string, string> = answer === 429 ? { "retry-after": "1" } : {};
    return { request, status: answer, headers: createHttpHeaders(headers) };
  };
  return { next, sent: () => sent };
}

async function send(method: "GET" | "POST", url: string, answers: readonly (number | string)[]) {
  const policy = sendOnceRetryPolicy({ retryDelayInMs: 1, maxRetryDelayInMs: 2 });
  const wire = transport(answers);
  const outcome = await policy
    .sendRequest(createPipelineRequest({ method, url }), wire.next)
    .then((r) => r.status)
    .catch((e: RestError) => e.code);
  return { outcome, sent: wire.sent() };
}

describe("which Data Protection requests are sent again", () => {
  it("names ad-hoc backups, restores and protection actions as non-idempotent, and reads and validations not", () => {
    expect(isNonIdempotentRequest("POST", `${instance}/backup?api-version=2026-06-01`)).toBe(true);
    expect(isNonIdempotentRequest("POST", `${instance}/restore`)).toBe(true);
    expect(isNonIdempotentRequest("POST", `${instance}/stopProtection`)).toBe(true);
    expect(isNonIdempotentRequest("POST", `${instance}/suspendBackups`)).toBe(true);
    expect(isNonIdempotentRequest("GET", `${instance}`)).toBe(false);
    expect(isNonIdempotentRequest("PUT", `${instance}`)).toBe(false);
    expect(isNonIdempotentRequest("POST", `${instance}/validateRestore`)).toBe(false);
  });

  it("takes 5xx, 408 and a reset connection as ambiguous, and 4xx, 429 and a refused connection as not acted on", () => {
    expect(isAmbiguousFailure({ status: 500 })).toBe(true);
    expect(isAmbiguousFailure({ status: 503 })).toBe(true);
    expect(isAmbiguousFailure({ status: 408 })).toBe(true);
    expect(isAmbiguousFailure({ thrown: { code: "ECONNRESET" } })).toBe(true);
    expect(isAmbiguousFailure({ thrown: { code: "ETIMEDOUT" } })).toBe(true);
    expect(isAmbiguousFailure({ status: 400 })).toBe(false);
    expect(isAmbiguousFailure({ status: 429 })).toBe(false);
    expect(isAmbiguousFailure({ thrown: { code: "ECONNREFUSED" } })).toBe(false);
  });

  it("hands a backup's 500 back to the caller after one send, where a read is tried again", async () => {
    const backup = await send("POST", `${instance}/backup`, [500, 202]);
    const read = await send("GET", instance, [500, 200]);

    expect(backup).toEqual({ outcome: 500, sent: 1 });
    expect(read).toEqual({ outcome: 200, sent: 2 });
  });

  it("sends a backup again only when the connection was refused, never after a reset", async () => {
    const refused = await send("POST", `${instance}/backup`, ["ECONNREFUSED", 202]);
    const reset = await send("POST", `${instance}/backup`, ["ECONNRESET", 202]);

    expect(refused).toEqual({ outcome: 202, sent: 2 });
    expect(reset).toEqual({ outcome: "ECONNRESET", sent: 1 });
  });

  it("retries a read's 5xx and reset, and leaves its 429 to the throttling policy, which bounds the waits", async () => {
    const failed = await send("GET", instance, [503, 200]);
    const reset = await send("GET", instance, ["ECONNRESET", 200]);
    const throttled = await send("GET", instance, [429, 200]);

    expect(failed).toEqual({ outcome: 200, sent: 2 });
    expect(reset).toEqual({ outcome: 200, sent: 2 });
    expect(throttled).toEqual({ outcome: 429, sent: 1 });
  });
});
