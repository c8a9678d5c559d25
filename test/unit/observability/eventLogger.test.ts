import { InvocationContext } from "@azure/functions";
import type { OrchestrationContext } from "durable-functions";
import { describe, expect, it } from "vitest";
import { consoleEventLogger } from "../../../src/observability/consoleLogger.js";
import {
  createEventLogger,
  maskSecrets,
  type LogRecord,
} from "../../../src/observability/eventLogger.js";
import { activityLogger, invocationLogger } from "../../../src/observability/functionsLogger.js";
import { logEvents } from "../../../src/observability/logEvents.js";
import { replaySafeLogger } from "../../../src/observability/orchestrationLogger.js";

/** An invocation context whose log lines are kept, by level. */
function recordingContext(options: {
  invocationId?: string;
  traceParent?: string;
  triggerMetadata?: Record<string, unknown>;
}): { context: InvocationContext; lines: Array<{ level: string; text: string }> } {
  const lines: Array<{ level: string; text: string }> = [];
  const context = new InvocationContext({
    invocationId: options.invocationId ?? "inv-1",
    functionName: "test",
    logHandler: (level, ...args) => lines.push({ level, text: args.map(String).join(" ") }),
    ...(options.traceParent ? { traceContext: { traceParent: options.traceParent } } : {}),
    ...(options.triggerMetadata ? { triggerMetadata: options.triggerMetadata } : {}),
  });
  return { context, lines };
}

/** The JSON properties at the end of a logged line. */
function propertiesOf(line: string): Record<string, unknown> {
  return JSON.parse(line.slice(line.indexOf(" {") + 1)) as Record<string, unknown>;
}

const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

describe("an event logger", () => {
  it("writes the event's name, its rendered message and its properties on one line", () => {
    // Arrange
    const records: LogRecord[] = [];
    const log = createEventLogger((record) => records.push(record), { operationId: "protect-x" });

    // Act
    log.emit(logEvents.activityStarted, { activity: "verifyAccess" });

    // Assert
    expect(records).toHaveLength(1);
    const [record] = records;
    expect(record?.level).toBe("information");
    expect(record?.line).toMatch(
      /^PgProtect\.Activity\.Started: Activity verifyAccess of protect-x started \{/,
    );
    expect(propertiesOf(record?.line ?? "")).toEqual({
      eventId: 400,
      operationId: "protect-x",
      activity: "verifyAccess",
    });
  });

  it("adds correlation to a derived logger without changing the first", () => {
    // Arrange
    const records: LogRecord[] = [];
    const first = createEventLogger((record) => records.push(record), { invocationId: "a" });

    // Act
    first.with({ operationId: "op" }).emit(logEvents.jobWatcherSkipped, { reason: "r" });
    first.emit(logEvents.jobWatcherSkipped, { reason: "r" });

    // Assert
    expect(records.map((record) => record.properties["operationId"])).toEqual(["op", undefined]);
    expect(records.map((record) => record.properties["invocationId"])).toEqual(["a", "a"]);
  });

  it("masks a connection string's password, a webhook URL, key=value credentials and a function key quoted in a value", () => {
    // Arrange
    const records: LogRecord[] = [];
    const log = createEventLogger((record) => records.push(record));

    // Act
    log.emit(logEvents.notificationIgnored, {
      cloudEventId: "e1",
      errorMessage:
        "connect postgresql://app:S3cret-pw@db:5432/sales failed; " +
        "https://contoso.webhook.office.com/webhookb2/abc/IncomingWebhook/def/ghi refused; " +
        "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=Zm9vYmFy==;EndpointSuffix=x; " +
        "host=db password=hunter2 user=app; " +
        "GET https://app.azurewebsites.net/api/protections?code=FunctionK3y== answered 401",
    });

    // Assert
    const line = records[0]?.line ?? "";
    for (const secret of ["S3cret-pw", "webhookb2", "Zm9vYmFy", "hunter2", "FunctionK3y"]) {
      expect(line).not.toContain(secret);
    }
    expect(line).toContain("postgresql://app:***@db:5432/sales");
    expect(line).toContain("[webhook URL]");
  });

  it("leaves text without secrets as it is", () => {
    const text =
      "The step verifyAccess failed with code=SECRET_NOT_FOUND: /subscriptions/s/resourceGroups/rg is missing";
    expect(maskSecrets(text)).toBe(text);
  });
});

describe("an invocation logger", () => {
  it("writes at the event's level with the invocation's id and W3C trace context", () => {
    // Arrange
    const { context, lines } = recordingContext({
      invocationId: "inv-7",
      traceParent: traceparent,
    });

    // Act
    invocationLogger(context, { operationId: "protect-x" }).emit(logEvents.requestFailed, {
      functionName: "startProtection",
      path: "/api/protections",
      status: 500,
      errorMessage: "boom",
    });

    // Assert
    expect(lines.map((line) => line.level)).toEqual(["error"]);
    expect(propertiesOf(lines[0]?.text ?? "")).toMatchObject({
      eventId: 200,
      operationId: "protect-x",
      invocationId: "inv-7",
      traceparent,
      status: 500,
    });
  });

  it("names, for an activity, the orchestration instance and the request that started it", () => {
    // Arrange
    const { context, lines } = recordingContext({ triggerMetadata: { instanceId: "protect-y" } });

    // Act
    activityLogger(context, { invocationId: "http-1", traceparent }).emit(
      logEvents.activityStarted,
      { activity: "resolveDatasource" },
    );

    // Assert
    expect(propertiesOf(lines[0]?.text ?? "")).toMatchObject({
      operationId: "protect-y",
      requestInvocationId: "http-1",
      requestTraceparent: traceparent,
    });
  });
});

describe("a replay-safe logger", () => {
  /** An orchestration context as durable-functions gives one, replaying or not. */
  function orchestrationContext(replaying: { now: boolean }) {
    const { context, lines } = recordingContext({ invocationId: "orch-inv" });
    const df = {
      instanceId: "protect-z",
      get isReplaying() {
        return replaying.now;
      },
    };
    return { context: Object.assign(context, { df }) as unknown as OrchestrationContext, lines };
  }

  it("is silent while the orchestration replays and writes once it runs new code", () => {
    // Arrange
    const replaying = { now: true };
    const { context, lines } = orchestrationContext(replaying);
    const log = replaySafeLogger(context, { invocationId: "http-2" });

    // Act
    log.emit(logEvents.orchestrationStarted, { orchestration: "protectDatasource" });
    replaying.now = false;
    log.emit(logEvents.orchestrationStepCompleted, {
      orchestration: "protectDatasource",
      step: "resolve",
      status: "done",
    });

    // Assert
    expect(lines).toHaveLength(1);
    expect(lines[0]?.text).toMatch(/^PgProtect\.Orchestration\.StepCompleted: /);
    expect(propertiesOf(lines[0]?.text ?? "")).toMatchObject({
      operationId: "protect-z",
      requestInvocationId: "http-2",
    });
  });
});

describe("the console logger", () => {
  it("writes warnings and errors to stderr and the rest to stdout", () => {
    // Arrange
    const out: string[] = [];
    const err: string[] = [];
    const original = { log: console.log, error: console.error };
    console.log = (line: string) => out.push(line);
    console.error = (line: string) => err.push(line);

    // Act
    try {
      const log = consoleEventLogger();
      log.emit(logEvents.localProviderReady, { stateDir: "/tmp/x" });
      log.emit(logEvents.localProviderUnavailable, {
        errorMessage: "no pg_dump",
        recommendedAction: "Install PostgreSQL",
      });
    } finally {
      console.log = original.log;
      console.error = original.error;
    }

    // Assert
    expect(out.map((line) => line.split(":")[0])).toEqual(["PgProtect.Host.LocalProviderReady"]);
    expect(err.map((line) => line.split(":")[0])).toEqual([
      "PgProtect.Host.LocalProviderUnavailable",
    ]);
  });
});
