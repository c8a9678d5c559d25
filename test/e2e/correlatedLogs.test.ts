/**
 * One protection followed through the logs by its operation id: the HTTP request, the
 * orchestration's steps, its activities and the event it published are each a named event of
 * the catalogue, on the app started from `dist/` on the local runtime, whose output the test reads.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logEvents, type LogEventDefinition } from "../../src/observability/logEvents.js";
import { functionsApi } from "../support/functionsApi.js";
import { operationEnded, startLocalApp, weeklyPolicy, type LocalApp } from "../support/localApp.js";
import { poll } from "../support/poll.js";
import { usePostgresCluster } from "../support/postgres.js";

const postgres = usePostgresCluster();

/** One named event as the host printed it. */
interface LoggedEvent {
  readonly name: string;
  readonly line: string;
  readonly properties: Record<string, unknown>;
}

/** The named events among the host's lines: `PgProtect.<Area>.<Fact>: <message> {properties}`. */
function namedEvents(lines: readonly string[]): LoggedEvent[] {
  return lines.flatMap((line) => {
    const match = /(PgProtect\.[A-Za-z]+\.[A-Za-z]+): .* (\{.*\})$/.exec(line);
    if (!match?.[1] || !match[2]) return [];
    return [
      {
        name: match[1],
        line,
        properties: JSON.parse(match[2]) as Record<string, unknown>,
      },
    ];
  });
}

const named = (event: LogEventDefinition) => (logged: LoggedEvent) => logged.name === event.name;

describe("the logs of one protection on the local runtime", () => {
  const lines: string[] = [];
  let app: LocalApp;
  let secretUri: string;
  const databasePassword = "Log-Canary#7d1e";
  const api = functionsApi(() => app.host);

  beforeAll(async () => {
    await postgres.query("postgres", "CREATE DATABASE ledger");
    await postgres.query("postgres", `CREATE ROLE ledger_app LOGIN PASSWORD '${databasePassword}'`);
    await postgres.query("postgres", "GRANT CONNECT ON DATABASE ledger TO ledger_app");
    app = await startLocalApp({
      postgres,
      name: "logs",
      policies: { weekly: weeklyPolicy },
      log: (line) => lines.push(line),
    });
    const url = new URL(postgres.cluster.connectionUrl("ledger"));
    url.username = "ledger_app";
    url.password = databasePassword;
    secretUri = await app.provider.secrets.setSecret("ledger", url.toString());
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
  });

  it("names the request, every step, every activity and the published event by the operation's id", async () => {
    // Arrange
    const started = await api("POST", "protections", {
      serverName: "local",
      databaseName: "ledger",
      policyName: "weekly",
      secretUri,
    });
    expect(started.status).toBe(202);
    const operationId = String(started.body.id);

    // Act
    const done = await poll(() => api("GET", `protections/${operationId}`), operationEnded);
    const events = await poll(
      async () => namedEvents(lines).filter((e) => e.properties["operationId"] === operationId),
      (found) => found.some(named(logEvents.orchestrationCompleted)),
    );

    // Assert
    expect(done.body).toMatchObject({ status: "Completed", outcome: "Protected" });
    const request = events.find(named(logEvents.protectionRequested));
    expect(request?.properties).toMatchObject({
      eventId: logEvents.protectionRequested.id,
      status: "Pending",
      existing: false,
      invocationId: expect.any(String),
    });
    const requestInvocation = request?.properties["invocationId"];

    const orchestration = events.filter(
      (e) =>
        e.name.startsWith("PgProtect.Orchestration.") &&
        e.properties["orchestration"] === "protectDatasource",
    );
    expect(orchestration.filter(named(logEvents.orchestrationStarted))).toHaveLength(1);
    expect(
      orchestration
        .filter(named(logEvents.orchestrationStepCompleted))
        .map((e) => `${String(e.properties["step"])} ${String(e.properties["status"])}`),
    ).toEqual([
      "resolve done",
      "checkExisting done",
      "verifyAccess done",
      "ensurePolicy done",
      "validateForBackup done",
      "createBackupInstance done",
      "waitForProtection done",
      "publish done",
    ]);
    expect(orchestration.filter(named(logEvents.orchestrationCompleted))).toHaveLength(1);
    for (const e of orchestration) {
      expect(e.properties["requestInvocationId"], e.line).toBe(requestInvocation);
    }

    const activities = events.filter(named(logEvents.activityCompleted));
    expect(new Set(activities.map((e) => e.properties["activity"]))).toEqual(
      new Set([
        "resolveDatasource",
        "findProtection",
        "verifyAccess",
        "ensurePolicy",
        "validateForBackup",
        "createBackupInstance",
        "publishEvents",
      ]),
    );
    for (const e of activities) {
      expect(e.properties["requestInvocationId"], e.line).toBe(requestInvocation);
      expect(e.properties["invocationId"], e.line).not.toBe(requestInvocation);
    }
    expect(events.filter(named(logEvents.activityStarted))).toHaveLength(activities.length);

    const published = events.filter(named(logEvents.eventPublished));
    expect(published.map((e) => e.properties["eventType"])).toEqual([
      "PgProtect.Protection.Configured",
    ]);
  });

  it("logs no secret: the connection string's password appears in no line", () => {
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((line) => line.includes(databasePassword))).toEqual([]);
  });
});
