import type { DurableOrchestrationStatus } from "durable-functions";
import { describe, expect, it } from "vitest";
import { protectionStatusBody } from "../../../src/functions/getProtection.js";

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
      serverRun({
        runtimeStatus: "Completed" as never,
        output: { serverName: "pg1", protected: [], alreadyProtected: ["a", "b"], failed: [] },
      }),
    );

    expect(body.outcome).toBe("AlreadyProtected");
  });

  it("says Failed with an error naming each database that was not protected and its code", () => {
    const body = protectionStatusBody(
      "protect-server-x",
      serverRun({
        runtimeStatus: "Completed" as never,
        output: {
          serverName: "pg1",
          protected: ["a"],
          alreadyProtected: [],
          failed: [{ databaseName: "b", code: "UserErrorMissingDBPermissions", message: "denied" }],
        },
      }),
    );

    expect(body).toMatchObject({
      outcome: "Failed",
      error: {
        code: "DATABASES_NOT_PROTECTED",
        message:
          "1 of 2 databases of pg1 were not protected: b (UserErrorMissingDBPermissions: denied)",
      },
      summary: { failed: [{ databaseName: "b" }] },
    });
    expect(String((body.error as { recommendedAction: string }).recommendedAction)).toContain(
      "send the same request again",
    );
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
});
