import { describe, expect, test } from "vitest";
import type { RegisteredFunction } from "../../../src/contracts.js";
import {
  buildHttpRoutes,
  formatSetCookie,
  matchHttpRoute,
  toRpcHttpRequest,
} from "../../../src/http/httpTriggers.js";

function httpFunction(name: string, trigger: Record<string, unknown>): RegisteredFunction {
  return {
    name,
    triggerType: "httpTrigger",
    bindings: {
      [`httpTrigger${name}`]: { type: "httpTrigger", direction: "in", ...trigger },
      $return: { type: "http", direction: "out" },
    },
  };
}

describe("the HTTP route table", () => {
  const routes = buildHttpRoutes([
    httpFunction("byId", { route: "items/{id}", methods: ["GET"], authLevel: "function" }),
    httpFunction("special", { route: "items/special", methods: ["get"] }),
    httpFunction("noRoute", { methods: ["POST"] }),
    httpFunction("anyMethod", { route: "any" }),
    {
      name: "timer",
      triggerType: "timerTrigger",
      bindings: { t: { type: "timerTrigger", direction: "in" } },
    },
  ]);

  test("routes by template precedence, then method", () => {
    expect(matchHttpRoute(routes, "GET", "items/special")?.route.functionName).toBe("special");
    expect(matchHttpRoute(routes, "GET", "items/7")).toMatchObject({
      route: { functionName: "byId" },
      params: { id: "7" },
    });
    expect(matchHttpRoute(routes, "POST", "items/7")).toBeUndefined();
  });

  test("a function without a route is served at its name, and without methods at any method", () => {
    expect(matchHttpRoute(routes, "POST", "noroute")?.route.functionName).toBe("noRoute");
    expect(matchHttpRoute(routes, "PATCH", "any")?.route.functionName).toBe("anyMethod");
    expect(routes.map((route) => route.functionName)).not.toContain("timer");
  });

  test("the auth level defaults to function when a registration names none", () => {
    expect(matchHttpRoute(routes, "GET", "items/special")?.route.authLevel).toBe("function");
  });
});

describe("the request handed to the worker", () => {
  test("carries method, full URL, headers, query (repeats joined), route values and the body bytes", () => {
    const body = Buffer.from("hello");

    const data = toRpcHttpRequest(
      "POST",
      new URL("http://127.0.0.1:7071/api/x?a=1&a=2&b=3"),
      { "x-h": "v" },
      { id: "9" },
      body,
    );

    expect(data.http).toEqual({
      method: "POST",
      url: "http://127.0.0.1:7071/api/x?a=1&a=2&b=3",
      headers: { "x-h": "v" },
      query: { a: "1,2", b: "3" },
      params: { id: "9" },
      body: { bytes: body },
      rawBody: { bytes: body },
    });
  });
});

describe("Set-Cookie from the library's cookie", () => {
  test("writes every attribute the library sends", () => {
    expect(
      formatSetCookie({
        name: "a",
        value: "b",
        domain: { value: "example.com" },
        path: { value: "/" },
        expires: { value: { seconds: 1_767_225_600 } },
        maxAge: { value: 60 },
        secure: { value: true },
        httpOnly: { value: true },
        sameSite: "explicitNone",
      }),
    ).toBe(
      "a=b; Domain=example.com; Path=/; Expires=Thu, 01 Jan 2026 00:00:00 GMT; Max-Age=60; Secure; HttpOnly; SameSite=None",
    );
    expect(formatSetCookie({ name: "a", value: "b", sameSite: "none" })).toBe("a=b");
  });
});
