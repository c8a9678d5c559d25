import type { DurableOrchestrationStatus } from "durable-functions";
import { describe, expect, it } from "vitest";
import { protectionStatusBody } from "../../../src/application/protectionStatus.js";

const times = {
  createdTime: "2026-11-01T10:00:00Z" as never,
  lastUpdatedTime: "2026-11-01T10:01:00Z" as never,
};

/** A status as the Durable client returns it. */
const status = (fields: Partial<DurableOrchestrationStatus>) =>
  ({ ...times, ...fields }) as DurableOrchestrationStatus;

const serverRun = (fields: Partial<DurableOrchestrationStatus>) =>
  status({
    name: "protectServer",
    input: { serverName: "pg1", vaultId: "/v", policyName: "weekly" },
    ...fields,
  });

/** A `protectServer` run that completed with `output` as its summary. */
const completedServerRun = (output: unknown) =>
  serverRun({ runtimeStatus: "Completed" as never, output });

describe("GET /api/protections/{id} for every database of a server", () => {
  it("shows the progress of a running one in the fields of a single protection", () => {
    // Arrange
    const running = serverRun({
      runtimeStatus: "Running" as never,
      customStatus: { done: 2, total: 5 },
      output: null,
    });

    // Act
    const body = protectionStatusBody("protect-server-x", running);

    // Assert
    expect(body).toEqual({
      id: "protect-server-x",
      status: "Running",
      outcome: null,
      datasourceId: null,
      backupInstanceName: null,
      steps: [],
      currentStep: null,
      error: null,
      serverName: "pg1",
      progress: { done: 2, total: 5 },
      summary: null,
      createdAt: "2026-11-01T10:00:00Z",
      lastUpdatedAt: "2026-11-01T10:01:00Z",
    });
  });

  it("shows no progress before the databases are listed", () => {
    const body = protectionStatusBody(
      "protect-server-x",
      serverRun({ runtimeStatus: "Pending" as never, customStatus: null }),
    );

    expect(body).toMatchObject({ status: "Pending", progress: null, serverName: "pg1" });
  });

  it("shows the summary once finished, Protected when no database failed", () => {
    const summary = {
      serverName: "pg1",
      protected: ["a", "c"],
      alreadyProtected: ["b"],
      failed: [],
    };

    const body = protectionStatusBody(
      "protect-server-x",
      serverRun({
        runtimeStatus: "Completed" as never,
        customStatus: { done: 3, total: 3 },
        output: summary,
      }),
    );

    expect(body).toMatchObject({
      status: "Completed",
      outcome: "Protected",
      error: null,
      progress: { done: 3, total: 3 },
      summary,
    });
  });

  it("says AlreadyProtected when every database already was", () => {
    const body = protectionStatusBody(
      "protect-server-x",
      completedServerRun({
        serverName: "pg1",
        protected: [],
        alreadyProtected: ["a", "b"],
        failed: [],
      }),
    );

    expect(body.outcome).toBe("AlreadyProtected");
  });

  it("says Failed with an error naming each database that was not protected and its code", () => {
    const body = protectionStatusBody(
      "protect-server-x",
      completedServerRun({
        serverName: "pg1",
        protected: ["a"],
        alreadyProtected: [],
        failed: [{ databaseName: "b", code: "MISSING_DB_PERMISSIONS", message: "denied" }],
      }),
    );

    expect(body).toMatchObject({
      outcome: "Failed",
      error: {
        code: "DATABASES_NOT_PROTECTED",
        message: "1 of 2 databases of pg1 were not protected: b (MISSING_DB_PERMISSIONS: denied)",
      },
      summary: { failed: [{ databaseName: "b" }] },
    });
    expect(String((body.error as { recommendedAction: string }).recommendedAction)).toContain(
      "send the same request again",
    );
  });

  it("stays Protected when databases left out for the service's limits sit beside protected ones", () => {
    const skipped = {
      databaseName: "b",
      code: "DATABASE_OWNED_BY_SERVICE_ROLE",
      message: "owned by azure_pg_admin",
      recommendedAction: "Give the database another owner",
    };

    const body = protectionStatusBody(
      "protect-server-x",
      completedServerRun({
        serverName: "pg1",
        protected: ["a"],
        alreadyProtected: [],
        failed: [],
        stuck: [],
        skipped: [skipped],
      }),
    );

    expect(body).toMatchObject({
      outcome: "Protected",
      error: null,
      summary: { skipped: [skipped] },
    });
  });

  it("says Failed, naming each reason, when every database was left out for the service's limits", () => {
    const body = protectionStatusBody(
      "protect-server-x",
      completedServerRun({
        serverName: "pg1",
        protected: [],
        alreadyProtected: [],
        failed: [],
        stuck: [],
        skipped: [
          {
            databaseName: "b",
            code: "BYTEA_VALUE_TOO_LARGE",
            message: "A BYTEA value of 600.0 MiB in b.public.t.c is too large",
            recommendedAction: "Keep values under 512 MiB",
          },
        ],
      }),
    );

    expect(body).toMatchObject({
      outcome: "Failed",
      error: {
        code: "DATABASES_NOT_PROTECTED",
        message:
          "1 of 1 databases of pg1 were not protected: b (BYTEA_VALUE_TOO_LARGE: A BYTEA value of 600.0 MiB in b.public.t.c is too large)",
      },
    });
  });

  it("says Failed with the orchestration's message when the orchestration itself failed", () => {
    const body = protectionStatusBody(
      "protect-server-x",
      serverRun({
        runtimeStatus: "Failed" as never,
        output: "An orchestration with the instance ID 'p' already exists.",
      }),
    );

    expect(body).toMatchObject({
      outcome: "Failed",
      summary: null,
      error: {
        code: "SERVER_PROTECTION_FAILED",
        message: expect.stringContaining("already exists"),
      },
    });
  });
});

describe("GET /api/protections/{id} for every database of a server, when waiting was bounded", () => {
  it("says Failed, naming each stuck database and the operation that follows it", () => {
    const body = protectionStatusBody(
      "protect-server-x",
      completedServerRun({
        serverName: "pg1",
        protected: ["a"],
        alreadyProtected: [],
        failed: [],
        stuck: [
          {
            databaseName: "b",
            operationId: "protect-b",
            code: "PROTECTION_STUCK",
            message: "still running after 60 minutes",
          },
        ],
      }),
    );

    expect(body).toMatchObject({
      outcome: "Failed",
      error: {
        code: "DATABASES_NOT_PROTECTED",
        message:
          "1 of 2 databases of pg1 were not protected: b (PROTECTION_STUCK: still running as protect-b)",
      },
    });
    expect(String((body.error as { recommendedAction: string }).recommendedAction)).toContain(
      "GET /api/protections/{operationId}",
    );
  });

  it("says Failed with a code when the orchestration was terminated", () => {
    const body = protectionStatusBody(
      "protect-server-x",
      serverRun({ runtimeStatus: "Terminated" as never, output: "stopped by an operator" }),
    );

    expect(body).toMatchObject({
      outcome: "Failed",
      error: {
        code: "PROTECTION_TERMINATED",
        message: expect.stringContaining("stopped by an operator"),
      },
    });
  });
});

describe("GET /api/protections/{id} for one datasource", () => {
  it("shows the steps from the custom status and the outcome, without the server's fields", () => {
    const steps = [{ name: "resolve", status: "done", at: "2026-11-01T10:00:01Z" }];

    const body = protectionStatusBody(
      "protect-d",
      status({
        name: "protectDatasource",
        runtimeStatus: "Running" as never,
        input: { datasource: { datasourceId: "/d" } },
        customStatus: { steps, current: "checkExisting" },
        output: null,
      }),
    );

    expect(body).toEqual({
      id: "protect-d",
      status: "Running",
      outcome: null,
      datasourceId: "/d",
      backupInstanceName: null,
      steps,
      currentStep: "checkExisting",
      error: null,
      createdAt: "2026-11-01T10:00:00Z",
      lastUpdatedAt: "2026-11-01T10:01:00Z",
    });
  });

  it.each([
    [
      "Failed",
      "Orchestrator function 'protectDatasource' failed: boom",
      "PROTECTION_ORCHESTRATION_FAILED",
    ],
    ["Terminated", "stopped", "PROTECTION_TERMINATED"],
    ["Canceled", null, "PROTECTION_TERMINATED"],
    ["Completed", null, "PROTECTION_ENDED_WITHOUT_OUTCOME"],
  ] as const)(
    "never shows a finished protection without an outcome and an error: %s in Durable terms",
    (runtimeStatus, output, code) => {
      const body = protectionStatusBody(
        "protect-d",
        status({
          name: "protectDatasource",
          runtimeStatus: runtimeStatus as never,
          input: { datasource: { datasourceId: "/d" } },
          customStatus: {
            steps: [{ name: "publish", status: "running", at: "2026-11-01T10:00:09Z" }],
          },
          output,
        }),
      );

      expect(body).toMatchObject({ outcome: "Failed", datasourceId: "/d", error: { code } });
      const error = body.error as { message: string; recommendedAction: string };
      expect(error.message).not.toBe("");
      expect(error.recommendedAction).toContain("same request again");
    },
  );

  it("shows the failed step's own error when the orchestration failed after stating it", () => {
    const error = { code: "SECRET_NOT_FOUND", message: "no secret", recommendedAction: "store it" };

    const body = protectionStatusBody(
      "protect-d",
      status({
        name: "protectDatasource",
        runtimeStatus: "Failed" as never,
        input: { datasource: { datasourceId: "/d" } },
        customStatus: { steps: [], error },
        output: "later failure",
      }),
    );

    expect(body).toMatchObject({ outcome: "Failed", error });
  });

  it("says so when a failed protection's event could not be published", () => {
    const error = { code: "SECRET_NOT_FOUND", message: "no secret" };

    const body = protectionStatusBody(
      "protect-d",
      status({
        name: "protectDatasource",
        runtimeStatus: "Completed" as never,
        input: { datasource: { datasourceId: "/d" } },
        customStatus: { steps: [], error, eventNotPublished: "Event Grid answered 401" },
        output: { outcome: "Failed", datasourceId: "/d", error },
      }),
    );

    expect(body).toMatchObject({
      outcome: "Failed",
      error,
      eventNotPublished: "Event Grid answered 401",
    });
  });
});
