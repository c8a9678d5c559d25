import { readFileSync } from "node:fs";
import http from "node:http";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { poll } from "../support/poll.js";
import { startFixtureHost, type TestHost } from "./runtimeHost.js";

type Caller = "no key" | "wrong key" | "function key" | "system key" | "master key";
const callers: readonly Caller[] = [
  "no key",
  "wrong key",
  "function key",
  "system key",
  "master key",
];

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
}

/** One request over node:http, which (unlike fetch) lets a test forge the Host header. */
function request(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Readable } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? "GET", headers: options.headers });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString("utf8"),
        }),
      );
    });
    // The host may close the connection while a refused body is still being sent.
    req.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE" && error.code !== "ECONNRESET") reject(error);
    });
    if (options.body instanceof Readable) {
      options.body.on("error", () => undefined);
      options.body.pipe(req);
    } else {
      req.end(options.body);
    }
  });
}

/** A body of `totalBytes` made as it is read, so the sender holds none of it. */
function generatedBody(totalBytes: number): Readable {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= totalBytes) {
        this.push(null);
        return;
      }
      sent += chunk.length;
      this.push(chunk);
    },
  });
}

/** Resident memory of a process, from /proc. */
function residentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  return Number(kb) * 1024;
}

describe("the local host's doors and limits", () => {
  let testHost: TestHost;
  let base: string;

  const keyOf = (caller: Caller, system: "durabletask_extension" | "eventgrid_extension") => {
    const { keys } = testHost.host;
    switch (caller) {
      case "no key":
        return undefined;
      case "wrong key":
        return "not-the-key-at-all-000000000000";
      case "function key":
        return keys.functionKey;
      case "system key":
        return keys.systemKeys[system];
      case "master key":
        return keys.masterKey;
    }
  };
  const managementUrl = (path: string) => `${base}/runtime/webhooks/durabletask/${path}`;
  const withKey = (key: string | undefined): Record<string, string> =>
    key === undefined ? {} : { "x-functions-key": key };
  const instanceIds = async (): Promise<string[]> => {
    const listed = await request(managementUrl("instances"), {
      headers: withKey(testHost.host.keys.systemKeys.durabletask_extension),
    });
    return (JSON.parse(listed.text) as Array<{ instanceId: string }>).map((i) => i.instanceId);
  };
  const runtimeStatusOf = async (instanceId: string) => {
    const answer = await request(managementUrl(`instances/${instanceId}`), {
      headers: withKey(testHost.host.keys.systemKeys.durabletask_extension),
    });
    return (JSON.parse(answer.text) as { runtimeStatus?: string }).runtimeStatus;
  };
  const startWaiting = async (instanceId: string) => {
    const started = await request(managementUrl(`orchestrators/durableWaitForever/${instanceId}`), {
      method: "POST",
      headers: withKey(testHost.host.keys.systemKeys.durabletask_extension),
    });
    expect(started.status).toBe(202);
    // Accepted is not yet running: the instance stays Pending until its first episode runs.
    await poll(
      () => runtimeStatusOf(instanceId),
      (runtimeStatus) => runtimeStatus !== "Pending",
    );
  };
  const expectRefusal = (answer: Answer, status: number) => {
    expect(answer.status).toBe(status);
    expect(answer.headers["content-type"]).toBe("application/problem+json");
    expect(JSON.parse(answer.text)).toMatchObject({ status, title: expect.any(String) });
  };

  beforeAll(async () => {
    testHost = await startFixtureHost({ durable: undefined, timers: false });
    base = testHost.host.url;
  });

  afterAll(async () => {
    await testHost?.close();
  });

  describe("the Durable management API takes the durabletask_extension key or the master key", () => {
    test.each(callers)("with the %s", async (caller) => {
      // Arrange
      const key = keyOf(caller, "durabletask_extension");
      const opened = caller === "system key" || caller === "master key";
      const id = `matrix-${caller.replace(" ", "-")}`;
      await startWaiting(`${id}-running`);
      const before = await instanceIds();

      // Act
      const list = await request(managementUrl("instances"), { headers: withKey(key) });
      const start = await request(managementUrl(`orchestrators/durableWaitForever/${id}`), {
        method: "POST",
        headers: { ...withKey(key), "content-type": "application/json" },
        body: JSON.stringify({ from: caller }),
      });
      const status = await request(managementUrl(`instances/${id}-running`), {
        headers: withKey(key),
      });
      const raise = await request(managementUrl(`instances/${id}-running/raiseEvent/Other`), {
        method: "POST",
        headers: { ...withKey(key), "content-type": "application/json" },
        body: "1",
      });
      const terminate = await request(
        `${managementUrl(`instances/${id}-running/terminate`)}?reason=matrix`,
        { method: "POST", headers: withKey(key) },
      );
      const purge = await request(
        `${managementUrl("instances")}?createdTimeFrom=2000-01-01T00:00:00Z&runtimeStatus=Terminated`,
        { method: "DELETE", headers: withKey(key) },
      );
      const byQuery = await request(
        `${managementUrl("instances")}${key === undefined ? "" : `?code=${encodeURIComponent(key)}`}`,
      );

      // Assert
      if (opened) {
        expect(list.status).toBe(200);
        expect(start.status).toBe(202);
        expect([200, 202]).toContain(status.status);
        expect(raise.status).toBe(202);
        expect(terminate.status).toBe(202);
        expect([200, 404]).toContain(purge.status);
        expect(byQuery.status).toBe(200);
        expect(await instanceIds()).toContain(id);
      } else {
        for (const answer of [list, start, status, raise, terminate, purge, byQuery])
          expectRefusal(answer, 401);
        // No side effect: nothing started, nothing ended, nothing purged.
        const after = await instanceIds();
        expect(after).not.toContain(id);
        expect(after.sort()).toEqual(before.sort());
        const running = await request(managementUrl(`instances/${id}-running`), {
          headers: withKey(testHost.host.keys.systemKeys.durabletask_extension),
        });
        expect(JSON.parse(running.text)).toMatchObject({ runtimeStatus: "Running" });
      }
    });

    test("the worker's RPC base opens only with the key in its path", async () => {
      const key = testHost.host.keys.systemKeys.durabletask_extension;

      const keyed = await request(`${base}/durabletask/${encodeURIComponent(key)}/instances`);
      const wrong = await request(`${base}/durabletask/not-the-key/instances`);
      const bare = await request(`${base}/durabletask/instances`);

      expect(keyed.status).toBe(200);
      expectRefusal(wrong, 401);
      expectRefusal(bare, 401);
    });
  });

  describe("the Event Grid webhook takes the eventgrid_extension key or the master key", () => {
    test.each(callers)("with the %s", async (caller) => {
      // Arrange
      const key = keyOf(caller, "eventgrid_extension");
      const opened = caller === "system key" || caller === "master key";
      const eventId = `forged-${caller.replace(" ", "-")}`;
      await request(`${base}/api/received`, { method: "DELETE" });

      // Act
      const answer = await request(`${base}/runtime/webhooks/eventgrid?functionName=onEvent`, {
        method: "POST",
        headers: {
          ...withKey(key),
          "aeg-event-type": "Notification",
          "content-type": "application/json",
        },
        body: JSON.stringify([
          {
            id: eventId,
            subject: "/jobs/x",
            eventType: "PgProtect.Protection.Failed",
            eventTime: "2026-01-01T00:00:00Z",
            dataVersion: "1",
            data: { message: "anything at all" },
          },
        ]),
      });

      // Assert
      const received = JSON.parse(
        (await request(`${base}/api/received?kind=event`)).text,
      ) as Array<{ payload: { event: { id: string } } }>;
      if (opened) {
        expect(answer.status).toBe(202);
        expect(received.map((entry) => entry.payload.event.id)).toContain(eventId);
      } else {
        expectRefusal(answer, 401);
        expect(received).toEqual([]);
      }
    });
  });

  test("the start endpoint refuses a text/plain body with 415, which a web page could send cross-site, and starts nothing", async () => {
    const before = await instanceIds();

    const answer = await request(managementUrl("orchestrators/durableWaitForever/plain-1"), {
      method: "POST",
      headers: {
        ...withKey(testHost.host.keys.systemKeys.durabletask_extension),
        "content-type": "text/plain",
      },
      body: '{"input":1}',
    });

    expectRefusal(answer, 415);
    expect(JSON.parse(answer.text)).toMatchObject({ code: "UNSUPPORTED_MEDIA_TYPE" });
    expect((await instanceIds()).sort()).toEqual(before.sort());
  });

  test("status URLs carry the system key and the host's own origin, whatever Host the request forged", async () => {
    const key = testHost.host.keys.systemKeys.durabletask_extension;

    const started = await request(managementUrl("orchestrators/durableWaitForever/forged-host"), {
      method: "POST",
      headers: { ...withKey(key), host: "attacker.example:8080" },
    });
    const payload = JSON.parse(started.text) as Record<string, string>;
    const status = await request(managementUrl("instances/forged-host"), {
      headers: { ...withKey(key), host: "attacker.example:8080" },
    });

    for (const link of [
      payload["statusQueryGetUri"],
      payload["sendEventPostUri"],
      payload["terminatePostUri"],
      payload["purgeHistoryDeleteUri"],
      started.headers["location"],
      status.headers["location"],
    ]) {
      const url = new URL(String(link));
      expect(url.origin).toBe(base);
      expect(url.searchParams.get("code")).toBe(key);
    }
    const followed = await request(String(payload["statusQueryGetUri"]));
    expect(JSON.parse(followed.text)).toMatchObject({ instanceId: "forged-host" });
  });

  test("a function sees the request's URL on the host's own origin, so links it builds ignore a forged Host", async () => {
    const answer = await request(`${base}/api/echo/7?x=1`, {
      headers: { host: "attacker.example:8080" },
    });

    expect(JSON.parse(answer.text)).toMatchObject({ url: `${base}/api/echo/7?x=1` });
  });

  test("a method a resource does not take is 405 with Allow and a problem document", async () => {
    const answer = await request(managementUrl("instances/anything"), {
      method: "PUT",
      headers: withKey(testHost.host.keys.masterKey),
    });

    expectRefusal(answer, 405);
    expect(answer.headers["allow"]).toBe("GET, DELETE");
  });

  test("unknown paths, unknown extensions and the admin API without the master key are problem documents", async () => {
    expectRefusal(await request(`${base}/nowhere`), 404);
    expectRefusal(
      await request(`${base}/runtime/webhooks/nosuch`, {
        headers: withKey(testHost.host.keys.masterKey),
      }),
      404,
    );
    expectRefusal(
      await request(`${base}/admin/host/status`, {
        headers: withKey(testHost.host.functionKey),
      }),
      401,
    );
  });

  describe("bodies are bounded while they are read", () => {
    test("a declared Content-Length beyond the limit is answered 413 before any of the body is sent", async () => {
      const answer = await new Promise<Answer>((resolve, reject) => {
        const req = http.request(`${base}/api/upload`, {
          method: "POST",
          headers: { "content-length": String(512 * 1024 * 1024) },
        });
        req.on("response", (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            req.destroy();
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text: Buffer.concat(chunks).toString(),
            });
          });
        });
        req.on("error", reject);
        req.flushHeaders();
      });

      expectRefusal(answer, 413);
      expect(JSON.parse(answer.text)).toMatchObject({
        code: "REQUEST_BODY_TOO_LARGE",
        detail: expect.stringContaining("1048576 bytes"),
      });
    });

    test.each([
      ["an HTTP trigger", "/api/upload", {}],
      [
        "the Event Grid webhook (Event Grid's 1 MB batch limit)",
        "/runtime/webhooks/eventgrid?functionName=onEvent",
        { "aeg-event-type": "Notification", "content-type": "application/json" },
      ],
    ] as const)(
      "a streamed body without a length sent to %s is answered 413 at the limit, and neither process holds it",
      async (_name, path, headers) => {
        // Arrange
        const workerPid = testHost.host.workerPid ?? 0;
        const bodyBytes = 256 * 1024 * 1024;
        const hostBefore = residentBytes(process.pid);
        const workerBefore = residentBytes(workerPid);

        // Act
        const answer = await request(`${base}${path}`, {
          method: "POST",
          headers: { ...headers, ...withKey(testHost.host.keys.masterKey) },
          body: generatedBody(bodyBytes),
        });

        // Assert
        expectRefusal(answer, 413);
        expect(residentBytes(process.pid) - hostBefore).toBeLessThan(bodyBytes / 4);
        expect(residentBytes(workerPid) - workerBefore).toBeLessThan(bodyBytes / 4);
        const after = await fetch(`${base}/api/hello?name=after`);
        expect(await after.text()).toBe("Hello, after!");
      },
    );
  });
});

describe("the local host's limits with the library's HTTP streaming", () => {
  let testHost: TestHost;

  beforeAll(async () => {
    testHost = await startFixtureHost({ env: { FIXTURE_HTTP_STREAM: "true" } });
  });

  afterAll(async () => {
    await testHost?.close();
  });

  test("a streamed body beyond the limit is cut off with 413 and the worker never holds it", async () => {
    const workerPid = testHost.host.workerPid ?? 0;
    const bodyBytes = 256 * 1024 * 1024;
    const hostBefore = residentBytes(process.pid);
    const workerBefore = residentBytes(workerPid);

    const answer = await request(`${testHost.host.url}/api/upload`, {
      method: "POST",
      body: generatedBody(bodyBytes),
    });

    expect(answer.status).toBe(413);
    expect(answer.headers["content-type"]).toBe("application/problem+json");
    expect(residentBytes(process.pid) - hostBefore).toBeLessThan(bodyBytes / 4);
    expect(residentBytes(workerPid) - workerBefore).toBeLessThan(bodyBytes / 4);
    const small = await fetch(`${testHost.host.url}/api/upload`, {
      method: "POST",
      body: new Uint8Array(1000).fill(3),
    });
    expect(await small.json()).toEqual({ length: 1000, last: 3 });
  });
});
