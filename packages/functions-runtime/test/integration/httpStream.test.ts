import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startFixtureHost, type TestHost } from "./runtimeHost.js";

describe("the local host with app.setup({ enableHttpStream: true })", () => {
  let testHost: TestHost;
  let base: string;

  beforeAll(async () => {
    testHost = await startFixtureHost({
      env: { FIXTURE_HTTP_STREAM: "true" },
      // Above the 3 MB upload below; the default limit is 1 MiB.
      maxRequestBodyBytes: 8 * 1024 * 1024,
    });
    base = testHost.host.url;
  });

  afterAll(async () => {
    await testHost.close();
  });

  test("a streamed response delivers its first chunk before the handler has produced the second", async () => {
    const response = await fetch(`${base}/api/stream`);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();

    const first = await reader.read();
    expect(decoder.decode(first.value)).toBe("first chunk\n");

    await fetch(`${base}/api/stream/release`, { method: "POST" });
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      rest += decoder.decode(chunk.value);
    expect(rest).toBe("second chunk\n");
    expect(response.headers.get("content-type")).toBe("text/plain");
  });

  test("requests, route parameters, headers and bodies reach the handler through the stream proxy", async () => {
    const response = await fetch(`${base}/api/echo/5/eve?q=1`, {
      method: "POST",
      headers: { "x-custom": "streamed" },
      body: "streamed body",
    });

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      method: "POST",
      url: `${base}/api/echo/5/eve?q=1`,
      params: { id: "5", name: "eve" },
      query: { q: "1" },
      custom: "streamed",
      body: "streamed body",
    });
  });

  test("large uploads within the configured body limit stream through intact", async () => {
    const response = await fetch(`${base}/api/upload`, {
      method: "POST",
      body: new Uint8Array(3_000_000).fill(9),
    });

    expect(await response.json()).toEqual({ length: 3_000_000, last: 9 });
  });

  test("cookies, status codes and JSON bodies come back as in buffered mode", async () => {
    const response = await fetch(`${base}/api/responses/created`);

    expect(response.status).toBe(201);
    expect(response.headers.get("location")).toBe("/api/items/7");
    expect(response.headers.getSetCookie()).toEqual([
      "session=abc; Path=/; HttpOnly; SameSite=Strict",
    ]);
    expect(await response.json()).toEqual({ id: 7 });
  });

  test("a handler that throws answers 500 and one that returns nothing answers 204", async () => {
    const failed = await fetch(`${base}/api/fails`);
    const empty = await fetch(`${base}/api/responses/empty`);
    const after = await fetch(`${base}/api/hello?name=stream`);

    expect(failed.status).toBe(500);
    expect(empty.status).toBe(204);
    expect(await after.text()).toBe("Hello, stream!");
  });

  test("malformed JSON reaches the handler as raw text", async () => {
    const response = await fetch(`${base}/api/json`, { method: "POST", body: "{oops" });

    expect(await response.json()).toEqual({ error: "SyntaxError", raw: "{oops" });
  });
});
