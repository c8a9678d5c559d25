import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { DurableExtension, LocalHttpRequest } from "../../src/contracts.js";
import { startFixtureHost, type TestHost } from "./runtimeHost.js";

describe("the local host serving HTTP triggers of the fixture app", () => {
  let testHost: TestHost;
  let base: string;
  const durableRequests: LocalHttpRequest[] = [];

  beforeAll(async () => {
    const durable: DurableExtension = {
      clientBindingValue: () =>
        JSON.stringify({ taskHubName: "FixtureHub", marker: "from-extension" }),
      handleHttp: async (request) => {
        durableRequests.push(request);
        return {
          status: 202,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ seen: request.url.pathname }),
        };
      },
      start: async () => undefined,
      stop: async () => undefined,
    };
    testHost = await startFixtureHost({ durable: () => durable, logLevel: "information" });
    base = testHost.host.url;
  });

  afterAll(async () => {
    await testHost.close();
  });

  test("a GET with a query string reaches the handler and its text body comes back", async () => {
    const response = await fetch(`${base}/api/hello?name=Ada`);

    expect(response.status).toBe(200);
    expect(await response.text()).toBe("Hello, Ada!");
  });

  test("a POST body reaches the handler", async () => {
    const response = await fetch(`${base}/api/hello`, { method: "POST", body: "Grace" });

    expect(await response.text()).toBe("Hello, Grace!");
  });

  test("route parameters, optional parameters, query, headers and body are passed as the library delivers them", async () => {
    const withName = await fetch(`${base}/api/echo/42/bob?x=1&x=2&y=z`, {
      method: "PUT",
      headers: { "x-custom": "custom-value", "content-type": "text/plain" },
      body: "payload",
    });
    const withoutName = await fetch(`${base}/API/Echo/7`);

    expect(withName.status).toBe(200);
    const echoed = (await withName.json()) as Record<string, unknown>;
    expect(echoed).toMatchObject({
      method: "PUT",
      params: { id: "42", name: "bob" },
      query: { y: "z" },
      custom: "custom-value",
      body: "payload",
    });
    expect(String(echoed["url"])).toBe(`${base}/api/echo/42/bob?x=1&x=2&y=z`);
    expect(await withoutName.json()).toMatchObject({ method: "GET", params: { id: "7" } });
  });

  test("a parameter that breaks its int constraint is 404, and a method the route does not take is 405 with Allow, both as problem documents", async () => {
    const notInt = await fetch(`${base}/api/echo/abc`);
    const wrongMethod = await fetch(`${base}/api/echo/1`, { method: "DELETE" });

    expect(notInt.status).toBe(404);
    expect(notInt.headers.get("content-type")).toBe("application/problem+json");
    expect(await notInt.json()).toMatchObject({ status: 404, code: "NOT_FOUND" });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("GET, POST, PUT");
    expect(wrongMethod.headers.get("content-type")).toBe("application/problem+json");
    expect(await wrongMethod.json()).toMatchObject({
      type: "about:blank",
      title: "Method Not Allowed",
      status: 405,
      code: "METHOD_NOT_ALLOWED",
      instance: "/api/echo/1",
    });
  });

  test("a literal route wins over a parameter route and a catch-all takes the rest of the path", async () => {
    const special = await fetch(`${base}/api/items/special`);
    const byId = await fetch(`${base}/api/items/99`);
    const deep = await fetch(`${base}/api/files/a/b/c.txt`);
    const none = await fetch(`${base}/api/files`);

    expect(await special.json()).toEqual({ matched: "itemSpecial" });
    expect(await byId.json()).toEqual({ matched: "itemById", id: "99" });
    expect(await deep.json()).toEqual({ path: "a/b/c.txt" });
    expect(await none.json()).toEqual({ path: null });
  });

  test("an unknown function is 404", async () => {
    const response = await fetch(`${base}/api/no-such-function`);

    expect(response.status).toBe(404);
  });

  test("malformed JSON reaches the handler as raw text and request.json() fails there", async () => {
    const response = await fetch(`${base}/api/json`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    });

    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: "SyntaxError", raw: "{not json" });
  });

  test("status, headers, cookies and JSON bodies come back as the library produces them", async () => {
    const response = await fetch(`${base}/api/responses/created`);

    expect(response.status).toBe(201);
    expect(response.headers.get("location")).toBe("/api/items/7");
    expect(response.headers.get("x-extra")).toBe("yes");
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(response.headers.getSetCookie()).toEqual([
      "session=abc; Path=/; HttpOnly; SameSite=Strict",
    ]);
    expect(await response.json()).toEqual({ id: 7 });
  });

  test("binary request and response bodies keep every byte", async () => {
    const binary = await fetch(`${base}/api/responses/binary`);
    const upload = await fetch(`${base}/api/upload`, {
      method: "POST",
      body: new Uint8Array(70_000).fill(7),
    });

    expect([...new Uint8Array(await binary.arrayBuffer())]).toEqual([0, 1, 2, 250, 255]);
    expect(await upload.json()).toEqual({ length: 70_000, last: 7 });
  });

  test("a handler that returns nothing answers 204", async () => {
    const response = await fetch(`${base}/api/responses/empty`);

    expect(response.status).toBe(204);
  });

  test("a handler that throws answers a 500 problem document naming the invocation, without its error, and the host keeps serving", async () => {
    const failed = await fetch(`${base}/api/fails`);
    const after = await fetch(`${base}/api/hello?name=again`);

    expect(failed.status).toBe(500);
    expect(failed.headers.get("content-type")).toBe("application/problem+json");
    const body = (await failed.json()) as { code: string; detail: string };
    expect(body.code).toBe("FUNCTION_FAILED");
    expect(body.detail).toMatch(/invocation [0-9a-f-]{36}/);
    expect(body.detail).not.toContain("on purpose");
    expect(await after.text()).toBe("Hello, again!");
    await testHost.waitForLog(
      /Executed 'Functions\.fails' \(Failed, Id=[0-9a-f-]{36}, Duration=\d+ms\): the handler failed on purpose/,
    );
  });

  test("authLevel function needs the function key or the master key, and admin the master key", async () => {
    const key = testHost.host.functionKey;
    const master = testHost.host.keys.masterKey;

    const without = await fetch(`${base}/api/secure`);
    const wrong = await fetch(`${base}/api/secure`, { headers: { "x-functions-key": "wrong" } });
    const header = await fetch(`${base}/api/secure`, { headers: { "x-functions-key": key } });
    const query = await fetch(`${base}/api/secure?code=${encodeURIComponent(key)}`);
    const byMaster = await fetch(`${base}/api/secure`, { headers: { "x-functions-key": master } });
    const adminWithFunctionKey = await fetch(`${base}/api/adminOnly`, {
      headers: { "x-functions-key": key },
    });
    const admin = await fetch(`${base}/api/adminOnly`, { headers: { "x-functions-key": master } });
    const adminWithout = await fetch(`${base}/api/adminOnly`);

    expect(without.status).toBe(401);
    expect(without.headers.get("content-type")).toBe("application/problem+json");
    expect(await without.json()).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
    expect(wrong.status).toBe(401);
    expect(await header.text()).toBe("function-level ok");
    expect(await query.text()).toBe("function-level ok");
    expect(await byMaster.text()).toBe("function-level ok");
    expect(adminWithFunctionKey.status).toBe(401);
    expect(await admin.text()).toBe("admin-level ok");
    expect(adminWithout.status).toBe(401);
  });

  test("preInvocation and postInvocation hooks wrap the handler and share hookData", async () => {
    const response = await fetch(`${base}/api/hooked`);

    expect(await response.text()).toBe("hooked");
    expect(response.headers.get("x-wrapped-by")).toBe("preInvocation");
    expect(response.headers.get("x-hook-data")).toBe("true");
  });

  test("appStart ran before requests and context.log levels below the host's level are dropped", async () => {
    const response = await fetch(`${base}/api/log-levels`);

    expect(await response.json()).toEqual({ appStarted: true });
    await testHost.waitForLog(/\[Error\] \[logLevels\] an error line/);
    const lines = testHost.logLines.join("\n");
    expect(lines).toMatch(/\[logLevels\] an information line/);
    expect(lines).toMatch(/\[Warning\] \[logLevels\] a warning line/);
    expect(lines).not.toMatch(/a debug line|a trace line/);
  });

  test("log hooks can rewrite a user log message", async () => {
    await fetch(`${base}/api/hello?name=Hook`);

    await testHost.waitForLog(/\[hello\] hello called with \*\*\* Hook/);
    expect(testHost.logLines.join("\n")).not.toMatch(/\[redact\]/);
  });

  test("every invocation writes one Executed line with its id and duration", async () => {
    await fetch(`${base}/api/hello?name=Line`);

    const line = await testHost.waitForLog(
      /Executed 'Functions\.hello' \(Succeeded, Id=[0-9a-f-]{36}, Duration=\d+ms\)/,
    );
    expect(line).toMatch(/^\[\d{4}-\d\d-\d\dT/);
  });

  test("durableClient inputs receive the extension's binding value", async () => {
    const response = await fetch(`${base}/api/client-binding`);

    expect(await response.json()).toEqual({
      client: { taskHubName: "FixtureHub", marker: "from-extension" },
    });
  });

  test("requests under /runtime/webhooks/durabletask go to the Durable extension", async () => {
    const response = await fetch(
      `${base}/runtime/webhooks/durabletask/instances/abc?showHistory=true`,
      {
        method: "POST",
        headers: { "x-functions-key": testHost.host.keys.systemKeys.durabletask_extension },
        body: JSON.stringify({ a: 1 }),
      },
    );

    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ seen: "/runtime/webhooks/durabletask/instances/abc" });
    const seen = durableRequests.at(-1);
    expect(seen?.method).toBe("POST");
    expect(seen?.url.searchParams.get("showHistory")).toBe("true");
    expect(Buffer.from(seen?.body ?? []).toString()).toBe('{"a":1}');
  });

  test("the host lists the functions it found with their URLs", () => {
    const hello = testHost.host.functions.find((fn) => fn.name === "hello");
    const echo = testHost.host.functions.find((fn) => fn.name === "echo");
    const onEvent = testHost.host.functions.find((fn) => fn.name === "onEvent");

    expect(hello).toMatchObject({
      triggerType: "httpTrigger",
      url: `${base}/api/hello`,
      methods: ["GET", "POST"],
    });
    expect(echo?.url).toBe(`${base}/api/echo/{id:int}/{name?}`);
    expect(onEvent?.webhookUrl).toBe(`${base}/runtime/webhooks/eventgrid?functionName=onEvent`);
    expect(testHost.logLines).toContain(`\thello: [GET,POST] ${base}/api/hello`);
  });

  test("the admin API runs a non-HTTP function once and needs the key", async () => {
    const denied = await fetch(`${base}/admin/functions/onEvent`, { method: "POST", body: "{}" });
    const accepted = await fetch(`${base}/admin/functions/onEvent`, {
      method: "POST",
      headers: { "x-functions-key": testHost.host.keys.masterKey },
      body: JSON.stringify({ input: JSON.stringify({ id: "admin-1", data: {} }) }),
    });

    expect(denied.status).toBe(401);
    expect(accepted.status).toBe(202);
    await testHost.waitForLog(/Executed 'Functions\.onEvent' \(Succeeded/);
    const received = (await (await fetch(`${base}/api/received?kind=event`)).json()) as Array<{
      payload: { event: { id: string } };
    }>;
    expect(received.map((entry) => entry.payload.event.id)).toContain("admin-1");
  });
});
