import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHost, type RunningHost } from "../../src/host.js";
import { EventType, type HistoryEvent } from "../../src/durable/history.js";
import {
  createDurableExtension,
  ManualClock,
  type LocalDurableExtension,
} from "../../src/durable/index.js";

const appDir = fileURLToPath(new URL("../fixtures/runtime-app", import.meta.url));
const start = Date.UTC(2030, 0, 1, 8, 0, 0);

let host: RunningHost;
let durable: LocalDurableExtension;
let stateDir: string;
const clock = new ManualClock(start);
const hostLines: string[] = [];

interface CheckStatusPayload {
  readonly id: string;
  readonly statusQueryGetUri: string;
  readonly sendEventPostUri: string;
  readonly terminatePostUri: string;
  readonly purgeHistoryDeleteUri: string;
}

interface StatusPayload {
  readonly name: string;
  readonly instanceId: string;
  readonly runtimeStatus: string;
  readonly input: unknown;
  readonly output: unknown;
  readonly customStatus: unknown;
  readonly createdTime: string;
  readonly lastUpdatedTime: string;
  readonly historyEvents?: Array<Record<string, unknown>>;
}

beforeAll(async () => {
  stateDir = mkdtempSync(path.join(tmpdir(), "pgprotect-durable-"));
  host = await startHost({
    appDir,
    port: 0,
    stateDir,
    banner: false,
    timers: false,
    log: (line) => hostLines.push(line),
    durable: (options) => {
      durable = createDurableExtension({ ...options, clock });
      return durable;
    },
  });
});

afterAll(async () => {
  await host?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

/** Starts an orchestration through the fixture's HTTP starter, which uses the DurableClient. */
async function startOrchestration(
  name: string,
  input?: unknown,
  instanceId?: string,
): Promise<CheckStatusPayload> {
  const response = await fetch(
    `${host.url}/api/durable/start/${name}${instanceId ? `/${instanceId}` : ""}`,
    {
      method: "POST",
      body: input === undefined ? "" : JSON.stringify(input),
    },
  );
  expect(response.status).toBe(202);
  return (await response.json()) as CheckStatusPayload;
}

/** Waits until the engine has nothing left to do at the current (manual) time. */
async function settle(): Promise<void> {
  await durable.engine.whenIdle();
}

async function statusOf(started: CheckStatusPayload): Promise<StatusPayload> {
  const response = await fetch(
    `${started.statusQueryGetUri}&showHistory=true&showHistoryOutput=true`,
  );
  return (await response.json()) as StatusPayload;
}

async function runToEnd(
  name: string,
  input?: unknown,
  instanceId?: string,
): Promise<StatusPayload> {
  const started = await startOrchestration(name, input, instanceId);
  await settle();
  return statusOf(started);
}

/** A management API URL with the durabletask_extension system key, as Azure's URLs carry it. */
function managementUrl(path: string, query = ""): string {
  const url = new URL(`${host.url}/runtime/webhooks/durabletask/${path}?${query}`);
  url.searchParams.set("code", host.keys.systemKeys.durabletask_extension);
  return url.href;
}

function rawHistory(instanceId: string): HistoryEvent[] {
  return durable.engine.history(instanceId);
}

async function clientOp(op: string, instanceId: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${host.url}/api/durable/ops/${op}/${encodeURIComponent(instanceId)}`, init);
}

describe("orchestrations driven through the DurableClient", () => {
  it("runs an activity sequence and answers on every check-status URL", async () => {
    const started = await startOrchestration("durableSequence");

    expect(
      started.statusQueryGetUri.startsWith(
        `${host.url}/runtime/webhooks/durabletask/instances/${started.id}?`,
      ),
    ).toBe(true);
    await settle();
    const statusResponse = await fetch(started.statusQueryGetUri);
    const status = (await statusResponse.json()) as StatusPayload;
    expect(statusResponse.status).toBe(200);
    expect(status).toMatchObject({
      name: "durableSequence",
      instanceId: started.id,
      runtimeStatus: "Completed",
      output: ["Hello Tokyo!", "Hello Seattle!", "Hello London!"],
    });
    expect(status.createdTime).toBe("2030-01-01T08:00:00Z");
  });

  it("shows the history with scheduling merged into completions when asked", async () => {
    const status = await runToEnd("durableSequence");

    expect(
      status.historyEvents?.map((e) => `${String(e.EventType)}:${String(e.FunctionName ?? "")}`),
    ).toEqual([
      "ExecutionStarted:durableSequence",
      "TaskCompleted:durableHello",
      "TaskCompleted:durableHello",
      "TaskCompleted:durableHello",
      "ExecutionCompleted:",
    ]);
    expect(status.historyEvents?.[1]).toMatchObject({ Result: "Hello Tokyo!" });
    expect(status.historyEvents?.at(-1)).toMatchObject({ OrchestrationStatus: "Completed" });
  });

  it("hands the status to the client's getStatus, and 202 with Location while running", async () => {
    const started = await startOrchestration("durableWaitForever");
    await settle();

    const direct = await fetch(started.statusQueryGetUri);
    const viaClient = await clientOp("status", started.id);

    expect(direct.status).toBe(202);
    expect(direct.headers.get("location")).toBe(started.statusQueryGetUri);
    expect(await viaClient.json()).toMatchObject({
      instanceId: started.id,
      runtimeStatus: "Running",
      name: "durableWaitForever",
    });
    await clientOp("terminate", started.id, { method: "POST" });
    await settle();
  });

  it("converts activity inputs the way the extension does, booleans included", async () => {
    const status = await runToEnd("durableEncoding");

    expect(status.output).toEqual([
      { type: "string", value: "text" },
      { type: "object", value: { a: 1 } },
      { type: "number", value: 5 },
      { type: "string", value: "True" },
      { type: "undefined", value: null },
    ]);
  });

  it("fans out twenty activities in one episode and fans their results in", async () => {
    const status = await runToEnd("durableFanOut", { count: 20 });

    expect(status.output).toBe(420);
    const scheduled = rawHistory(status.instanceId).filter(
      (e) => e.EventType === EventType.TaskScheduled,
    );
    expect(scheduled.map((e) => e.EventId)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(new Set(scheduled.map((e) => e.Timestamp)).size).toBe(1);
  });

  it("retries a failing activity on durable timers with exponential back-off", async () => {
    const started = await startOrchestration("durableRetry", { failures: 2, maxAttempts: 3 });
    await settle();
    expect((await statusOf(started)).runtimeStatus).toBe("Running");

    clock.advance(1000);
    await settle();
    clock.advance(1999);
    await settle();
    expect((await statusOf(started)).runtimeStatus).toBe("Running");
    clock.advance(1);
    await settle();

    const status = await statusOf(started);
    expect(status).toMatchObject({ runtimeStatus: "Completed", output: "succeeded on attempt 3" });
    const history = rawHistory(started.id);
    const timers = history.filter((e) => e.EventType === EventType.TimerCreated);
    expect(
      timers.map((t) => [t.EventId, Date.parse(t.FireAt ?? "") - Date.parse(t.Timestamp)]),
    ).toEqual([
      [1, 1000],
      [3, 2000],
    ]);
    expect(
      history.filter((e) => e.EventType === EventType.TaskScheduled).map((e) => e.EventId),
    ).toEqual([0, 2, 4]);
  });

  it("gives up after the last attempt and lets the orchestrator catch the activity's error", async () => {
    const started = await startOrchestration("durableRetry", { failures: 5, maxAttempts: 2 });
    await settle();
    clock.advance(1000);
    await settle();

    const status = await statusOf(started);
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toEqual({
      gaveUp: "Activity function 'durableFlaky' failed: attempt 2 failed ",
    });
  });

  it("fires a durable timer exactly when the clock reaches it", async () => {
    const started = await startOrchestration("durableTimer", { seconds: 3600 });
    await settle();

    clock.advance(3_599_999);
    await settle();
    expect((await statusOf(started)).runtimeStatus).toBe("Running");
    clock.advance(1);
    await settle();

    const status = await statusOf(started);
    const output = status.output as { startedAt: string; resumedAt: string };
    expect(status.runtimeStatus).toBe("Completed");
    expect(Date.parse(output.resumedAt) - Date.parse(output.startedAt)).toBe(3_600_000);
  });

  it("splits an eight-day timer into a three-day slice and the rest", async () => {
    const day = 86_400_000;
    const started = await startOrchestration("durableLongTimer", { days: 8 });
    await settle();
    const createdAt = Date.parse(rawHistory(started.id)[0]?.Timestamp ?? "");

    clock.advance(3 * day);
    await settle();
    clock.advance(5 * day);
    await settle();

    expect((await statusOf(started)).output).toBe("long timer fired");
    const fireTimes = rawHistory(started.id)
      .filter((e) => e.EventType === EventType.TimerCreated)
      .map((e) => Date.parse(e.FireAt ?? "") - createdAt);
    expect(fireTimes).toEqual([3 * day, 8 * day]);
  });

  it("delivers an external event raised through the client before the timeout", async () => {
    const started = await startOrchestration("durableApproval", { timeoutSeconds: 60 });
    await settle();

    const raised = await clientOp("raise", started.id, {
      method: "POST",
      body: JSON.stringify({ name: "Approval", data: { by: "ops" } }),
    });
    await settle();

    expect(raised.status).toBe(202);
    expect((await statusOf(started)).output).toEqual({ approved: { by: "ops" } });
    const late = await fetch(started.sendEventPostUri.replace("{eventName}", "Approval"), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{}",
    });
    expect(late.status).toBe(410);
  });

  it("times out waiting for an event when the timer wins", async () => {
    const started = await startOrchestration("durableApproval", { timeoutSeconds: 60 });
    await settle();

    clock.advance(60_000);
    await settle();

    expect((await statusOf(started)).output).toEqual({ approved: false, reason: "timed out" });
  });

  it("publishes the custom status of every episode", async () => {
    const started = await startOrchestration("durableCustomStatus");
    await settle();
    expect((await statusOf(started)).customStatus).toEqual({ step: "waiting" });

    await clientOp("raise", started.id, {
      method: "POST",
      body: JSON.stringify({ name: "Next", data: 7 }),
    });
    await settle();

    expect(await statusOf(started)).toMatchObject({
      customStatus: { step: "done", next: 7 },
      output: "finished",
    });
  });

  it("runs sub-orchestrations and propagates a child's failure to the parent", async () => {
    const status = await runToEnd("durableParent", undefined, "parent-1");

    expect(status.output).toEqual({
      child: ["Hello Tokyo!", "Hello Seattle!", "Hello London!"],
      childError: "Orchestrator function 'durableChildFails' failed: child broke ",
    });
    const child = await fetch(managementUrl("instances/parent-1-child"));
    expect(await child.json()).toMatchObject({
      runtimeStatus: "Failed",
      output: "Orchestrator function 'durableChildFails' failed: child broke",
    });
    const created = rawHistory("parent-1").find(
      (e) => e.EventType === EventType.SubOrchestrationInstanceCreated,
    );
    expect(created?.InstanceId).toMatch(/^[0-9a-f]{32}:0$/);
  });

  it("retries a failed sub-orchestration under the same instance id after the back-off timer", async () => {
    const started = await startOrchestration("durableSubRetry", undefined, "sub-retry-1");
    await settle();
    expect((await statusOf(started)).runtimeStatus).toBe("Running");

    clock.advance(1000);
    await settle();

    expect(await statusOf(started)).toMatchObject({
      runtimeStatus: "Completed",
      output: "succeeded on attempt 2",
    });
    const scheduled = rawHistory("sub-retry-1")
      .filter(
        (e) =>
          e.EventType === EventType.SubOrchestrationInstanceCreated ||
          e.EventType === EventType.TimerCreated,
      )
      .map((e) => [e.EventId, e.InstanceId ?? "timer"]);
    expect(scheduled).toEqual([
      [0, "sub-retry-1-child"],
      [1, "timer"],
      [2, "sub-retry-1-child"],
    ]);
  });

  it("sends callHttp requests and polls a 202 answer's Location on durable timers", async () => {
    const requests: string[] = [];
    let polls = 0;
    const server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString()));
      request.on("end", () => {
        requests.push(`${request.method} ${request.url} ${body}`);
        if (request.method === "POST" || ++polls < 2) {
          response.writeHead(202, { Location: "/jobs/1", "Retry-After": "2" }).end();
        } else {
          response.writeHead(200, { "Content-Type": "text/plain" }).end("finished");
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;

    try {
      const started = await startOrchestration("durableHttpPoll", {
        url: `http://127.0.0.1:${port}/jobs`,
      });
      await settle();
      clock.advance(2000);
      await settle();
      clock.advance(2000);
      await settle();

      expect((await statusOf(started)).output).toEqual({ statusCode: 200, content: "finished" });
      expect(requests).toEqual(['POST /jobs {"job":"backup"}', "GET /jobs/1 ", "GET /jobs/1 "]);
      const scheduled = rawHistory(started.id)
        .filter(
          (e) => e.EventType === EventType.TaskScheduled || e.EventType === EventType.TimerCreated,
        )
        .map((e) => [e.EventId, e.Name ?? "timer"]);
      expect(scheduled).toEqual([
        [0, "BuiltIn::HttpActivity"],
        [1, "timer"],
        [2, "BuiltIn::HttpActivity"],
        [3, "timer"],
        [4, "BuiltIn::HttpActivity"],
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("continues as new with a fresh history until the counter ends", async () => {
    const status = await runToEnd("durableCounter", 0);

    expect(status).toMatchObject({
      runtimeStatus: "Completed",
      output: "counted to 3",
      input: 3,
      customStatus: { count: 3 },
    });
    expect(status.historyEvents?.filter((e) => e.EventType === "ExecutionStarted")).toHaveLength(1);
  });
});

describe("failures", () => {
  it("ends an orchestrator that throws as Failed with its message, and keeps serving", async () => {
    const failed = await runToEnd("durableThrows");

    expect(failed).toMatchObject({
      runtimeStatus: "Failed",
      output: "Orchestrator function 'durableThrows' failed: orchestrator broke",
    });
    const next = await runToEnd("durableSequence");
    expect(next.runtimeStatus).toBe("Completed");
    const waited = await clientOp("wait", failed.instanceId);
    expect(waited.status).toBe(500);
  });

  it("fails a fan-out only after every child has finished, as the extension's WhenAll does", async () => {
    const status = await runToEnd("durableFanOutWithFailure");

    expect(status.runtimeStatus).toBe("Failed");
    expect(status.output).toBe(
      "Orchestrator function 'durableFanOutWithFailure' failed: fan-out failed: Activity function 'durableFail' failed: boom fast ",
    );
    const types = rawHistory(status.instanceId).map((e) => e.EventType);
    expect(types.indexOf(EventType.TaskCompleted)).toBeGreaterThan(
      types.indexOf(EventType.TaskFailed),
    );
    expect(types.indexOf(EventType.ExecutionCompleted)).toBeGreaterThan(
      types.indexOf(EventType.TaskCompleted),
    );
  });

  it("fails a call to an activity the app does not have", async () => {
    const status = await runToEnd("durableUnknownActivity");

    expect(status.runtimeStatus).toBe("Failed");
    expect(status.output).toContain("The function 'durableNoSuchActivity' doesn't exist");
  });

  it("detects an orchestrator whose replay no longer matches its history", async () => {
    const status = await runToEnd("durableNondeterministic");

    expect(status.runtimeStatus).toBe("Failed");
    expect(status.output).toMatch(
      /Non-Deterministic workflow detected: .*'durableChangeCode'.*'durableHello'/,
    );
  });

  it("answers 404 for an unknown instance, 415 for an event body that is not JSON by its type and 400 for malformed JSON", async () => {
    const started = await startOrchestration("durableWaitForever");
    await settle();

    const unknown = await fetch(managementUrl("instances/no-such-instance"));
    const notJson = await fetch(started.sendEventPostUri.replace("{eventName}", "Never"), {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: "hello",
    });
    const malformed = await fetch(started.sendEventPostUri.replace("{eventName}", "Never"), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{not json",
    });

    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("content-type")).toBe("application/problem+json");
    expect(notJson.status).toBe(415);
    expect(malformed.status).toBe(400);
    await clientOp("terminate", started.id, { method: "POST" });
    await settle();
  });

  it("answers 400 for an orchestrator that does not exist and 409 for a running instance id, each with its own code", async () => {
    const unknown = await fetch(managementUrl("orchestrators/noSuchOrchestrator"), {
      method: "POST",
      body: "",
    });
    await startOrchestration("durableWaitForever", undefined, "busy-1");
    const duplicate = await fetch(managementUrl("orchestrators/durableWaitForever/busy-1"), {
      method: "POST",
      body: "",
    });

    expect(unknown.status).toBe(400);
    expect(duplicate.status).toBe(409);
    expect(await unknown.json()).toMatchObject({ code: "DURABLE_ORCHESTRATOR_NOT_FOUND" });
    expect(await duplicate.json()).toMatchObject({ code: "DURABLE_INSTANCE_EXISTS" });
    await clientOp("terminate", "busy-1", { method: "POST" });
    await settle();
  });
});

describe("terminate and purge", () => {
  it("terminates a running instance with the reason as its output", async () => {
    const started = await startOrchestration("durableWaitForever");
    await settle();

    const terminated = await fetch(
      `${host.url}/api/durable/ops/terminate/${started.id}?reason=maintenance%20window`,
      { method: "POST" },
    );
    await settle();

    expect(terminated.status).toBe(202);
    const status = await statusOf(started);
    expect(status).toMatchObject({ runtimeStatus: "Terminated", output: "maintenance window" });
    expect(status.historyEvents?.map((e) => e.EventType)).toContain("ExecutionTerminated");
    const direct = await fetch(started.terminatePostUri.replace("{text}", "late"), {
      method: "POST",
    });
    expect(direct.status).toBe(410);
  });

  it("purges a finished instance so that its status is gone, and refuses to purge a running one", async () => {
    const done = await runToEnd("durableSequence");
    const running = await startOrchestration("durableWaitForever");
    await settle();

    const purged = await clientOp("purge", done.instanceId, { method: "DELETE" });
    const purgeRunning = await fetch(running.purgeHistoryDeleteUri, { method: "DELETE" });

    expect(await purged.json()).toEqual({ instancesDeleted: 1 });
    expect((await fetch(managementUrl(`instances/${done.instanceId}`))).status).toBe(404);
    expect(purgeRunning.status).toBe(409);
    await clientOp("terminate", running.id, { method: "POST" });
    await settle();
  });

  it("suspends an instance so that events wait, and resumes it where it stopped", async () => {
    const started = await startOrchestration("durableCustomStatus");
    await settle();

    await clientOp("suspend", started.id, { method: "POST" });
    await settle();
    await clientOp("raise", started.id, {
      method: "POST",
      body: JSON.stringify({ name: "Next", data: 1 }),
    });
    await settle();
    const whileSuspended = await statusOf(started);
    await clientOp("resume", started.id, { method: "POST" });
    await settle();
    const resumed = await statusOf(started);

    expect(whileSuspended).toMatchObject({
      runtimeStatus: "Suspended",
      customStatus: { step: "waiting" },
    });
    expect(resumed).toMatchObject({
      runtimeStatus: "Completed",
      customStatus: { step: "done", next: 1 },
    });
    expect(resumed.historyEvents?.map((e) => e.EventType)).toEqual([
      "ExecutionStarted",
      "ExecutionSuspended",
      "ExecutionResumed",
      "EventRaised",
      "ExecutionCompleted",
    ]);
  });

  it("lists instances by status and purges the finished ones a filter selects", async () => {
    const failed = await runToEnd("durableThrows");
    const listed = (await (
      await fetch(managementUrl("instances", "runtimeStatus=Failed"))
    ).json()) as StatusPayload[];
    const purge = await fetch(
      managementUrl("instances", "createdTimeFrom=2000-01-01T00:00:00Z&runtimeStatus=Failed"),
      { method: "DELETE" },
    );
    const afterPurge = (await (
      await fetch(managementUrl("instances", "runtimeStatus=Failed"))
    ).json()) as StatusPayload[];
    const completed = (await (
      await fetch(managementUrl("instances", "runtimeStatus=Completed"))
    ).json()) as StatusPayload[];

    expect(listed.map((s) => s.instanceId)).toContain(failed.instanceId);
    expect(new Set(listed.map((s) => s.runtimeStatus))).toEqual(new Set(["Failed"]));
    expect(await purge.json()).toEqual({ instancesDeleted: listed.length });
    expect(afterPurge).toEqual([]);
    expect(completed.length).toBeGreaterThan(0);
  });
});
