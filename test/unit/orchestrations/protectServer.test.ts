import { describe, expect, it } from "vitest";
import { protectionInstanceId } from "../../../src/domain/protection/operationIds.js";
import { protectServer } from "../../../src/orchestrations/protectServer.js";
import type * as df from "durable-functions";
import { driveOrchestrator, EventType } from "@pgprotect/functions-runtime/durable/testing";
import { driveOrchestration, hangs, type Scheduled } from "../../support/orchestrationDriver.js";

const database = (name: string) => ({
  datasourceId: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/servers/pg1/databases/${name}`,
  kind: "database",
  datasourceType: "Microsoft.DBforPostgreSQL/servers/databases",
  serverName: "pg1",
  databaseName: name,
  friendlyName: `pg1/${name}`,
  location: "local",
  tags: {},
});

/** The protections started, in order. */
function childrenStarted(scheduled: readonly Scheduled[]) {
  const started: Array<{ instanceId?: string; input: unknown }> = [];
  const walk = (task: Scheduled) => {
    if (task.kind === "subOrchestration") started.push(task);
    if (task.kind === "all" || task.kind === "any") task.tasks.forEach(walk);
  };
  scheduled.filter((task) => task.kind === "all").forEach(walk);
  return started;
}

/** The limits' answer for a batch within every limit. */
const noneRefused = () => ({ ok: true, value: [] });

const shim = {
  lookupFunction: (name: string) =>
    name === "listServerDatabases" || name === "checkDatabaseLimits"
      ? { name, triggerType: "activityTrigger" }
      : name === "protectDatasource"
        ? { name, triggerType: "orchestrationTrigger" }
        : undefined,
};

describe("protectServer", () => {
  it("protects databases in batches no wider than asked and sums up each outcome", () => {
    const names = ["a", "b", "c", "d", "e"];
    const run = driveOrchestration(
      protectServer,
      { serverName: "pg1", vaultId: "/v", policyName: "p", maxConcurrency: 2 },
      {
        listServerDatabases: () => ({ ok: true, value: names.map(database) }),
        checkDatabaseLimits: noneRefused,
        protectDatasource: (subInput) => {
          const id = (subInput as { datasource: { datasourceId: string } }).datasource.datasourceId;
          if (id.endsWith("/b")) return { outcome: "AlreadyProtected" };
          if (id.endsWith("/d"))
            return { outcome: "Failed", error: { code: "SECRET_NOT_FOUND", message: "no secret" } };
          return { outcome: "Protected" };
        },
      },
    );

    const batches = run.scheduled
      .filter((t) => t.kind === "all")
      .map((t) => (t as unknown as { tasks: unknown[] }).tasks.length);
    expect(batches).toEqual([2, 2, 1]);
    expect(run.output).toEqual({
      serverName: "pg1",
      protected: ["a", "c", "e"],
      alreadyProtected: ["b"],
      failed: [{ databaseName: "d", code: "SECRET_NOT_FOUND", message: "no secret" }],
      stuck: [],
      skipped: [],
    });
  });

  it("hands each protection its database as listed, so that none looks it up again", () => {
    // Arrange
    const listed = database("a");

    // Act
    const run = driveOrchestration(
      protectServer,
      { serverName: "pg1", vaultId: "/v", policyName: "p" },
      {
        listServerDatabases: () => ({ ok: true, value: [listed] }),
        checkDatabaseLimits: noneRefused,
        protectDatasource: () => ({ outcome: "Protected" }),
      },
    );

    // Assert
    const sub = childrenStarted(run.scheduled)[0];
    expect(sub?.input).toMatchObject({
      datasource: { datasourceId: listed.datasourceId },
      resolved: listed,
    });
  });

  it("starts each database's protection under the instance id derived from its datasource id", () => {
    const run = driveOrchestration(
      protectServer,
      { serverName: "pg1", vaultId: "/v", policyName: "p" },
      {
        listServerDatabases: () => ({ ok: true, value: [database("a")] }),
        checkDatabaseLimits: noneRefused,
        protectDatasource: () => ({ outcome: "Protected" }),
      },
    );

    const sub = childrenStarted(run.scheduled)[0];
    expect(sub?.instanceId).toBe(protectionInstanceId(database("a").datasourceId));
  });

  it("reports progress as databases done of those listed: none once listed, then after each batch", () => {
    const run = driveOrchestration(
      protectServer,
      { serverName: "pg1", vaultId: "/v", policyName: "p", maxConcurrency: 2 },
      {
        listServerDatabases: () => ({ ok: true, value: ["a", "b", "c"].map(database) }),
        checkDatabaseLimits: noneRefused,
        protectDatasource: () => ({ outcome: "Protected" }),
      },
    );

    expect(run.customStatuses).toEqual([
      { done: 0, total: 3 },
      { done: 2, total: 3 },
      { done: 3, total: 3 },
    ]);
  });

  it.each([
    ["one completion at a time", 1],
    ["every completion at once", "all"],
  ] as const)(
    "goes on with the other databases when one's own protection is already running (%s), on the real durable-functions library",
    async (_label, batch) => {
      // Arrange: payroll's instance id is taken by a protection asked for on its own.
      const names = ["inventory", "payroll", "sales"];

      // Act
      const run = await driveOrchestrator(protectServer as unknown as df.OrchestrationHandler, {
        shim,
        input: { serverName: "pg1", vaultId: "/v", policyName: "p", maxConcurrency: 3 },
        batch,
        activity: (name) =>
          name === "checkDatabaseLimits"
            ? { ok: true, value: noneRefused() }
            : { ok: true, value: { ok: true, value: names.map(database) } },
        child: (_name, instanceId) =>
          instanceId === protectionInstanceId(database("payroll").datasourceId)
            ? {
                ok: false,
                message: `An orchestration with the instance ID '${instanceId}' already exists.`,
              }
            : { ok: true, value: { outcome: "Protected" } },
      });

      // Assert
      expect(run.error).toBeUndefined();
      expect(run.output).toEqual({
        serverName: "pg1",
        protected: ["inventory", "sales"],
        alreadyProtected: [],
        failed: [
          {
            databaseName: "payroll",
            code: "PROTECTION_IN_PROGRESS",
            message:
              "A protection of payroll is already running; its own operation reports the outcome",
          },
        ],
        stuck: [],
        skipped: [],
      });
    },
  );

  it("reports a database whose protection hangs as stuck once the bound is reached, and goes on to finish", () => {
    // Arrange: b's protection never ends.
    const start = new Date("2026-11-24T08:00:00Z");

    // Act
    const run = driveOrchestration(
      protectServer,
      { serverName: "pg1", vaultId: "/v", policyName: "p", maxConcurrency: 2 },
      {
        listServerDatabases: () => ({ ok: true, value: ["a", "b", "c"].map(database) }),
        checkDatabaseLimits: noneRefused,
        protectDatasource: (subInput) =>
          (subInput as { datasource: { datasourceId: string } }).datasource.datasourceId.endsWith(
            "/b",
          )
            ? hangs
            : { outcome: "Protected" },
      },
      { start },
    );

    // Assert
    expect(run.output).toEqual({
      serverName: "pg1",
      protected: ["a", "c"],
      alreadyProtected: [],
      failed: [],
      stuck: [
        {
          databaseName: "b",
          operationId: protectionInstanceId(database("b").datasourceId),
          code: "PROTECTION_STUCK",
          message: expect.stringContaining("still running after 60 minutes"),
        },
      ],
      skipped: [],
    });
    expect(run.finishedAt.getTime() - start.getTime()).toBe(60 * 60_000);
    expect(run.customStatuses.at(-1)).toEqual({ done: 3, total: 3 });
  });

  it("waits for a batch no longer than the bound the request sets", () => {
    const start = new Date("2026-11-24T08:00:00Z");

    const run = driveOrchestration(
      protectServer,
      { serverName: "pg1", vaultId: "/v", policyName: "p", childTimeoutMinutes: 5 },
      {
        listServerDatabases: () => ({ ok: true, value: [database("a")] }),
        checkDatabaseLimits: noneRefused,
        protectDatasource: () => hangs,
      },
      { start },
    );

    expect(run.output.stuck?.map((s) => s.databaseName)).toEqual(["a"]);
    expect(run.finishedAt.getTime() - start.getTime()).toBe(5 * 60_000);
  });

  it("waits on no timer once every protection of a batch has ended", () => {
    const run = driveOrchestration(
      protectServer,
      { serverName: "pg1", vaultId: "/v", policyName: "p" },
      {
        listServerDatabases: () => ({ ok: true, value: [database("a"), database("b")] }),
        checkDatabaseLimits: noneRefused,
        protectDatasource: () => ({ outcome: "Protected" }),
      },
    );

    expect(run.scheduled.filter((t) => t.kind === "timer")).toEqual([]);
    expect(run.output.protected).toEqual(["a", "b"]);
  });

  it("protects databases whose names differ only in case or punctuation each under its own operation", () => {
    // Arrange: PostgreSQL tells these names apart, so each is a datasource of its own.
    const databases = [
      database("Sales"),
      database("sales"),
      database("sales_eu"),
      database("sales-eu"),
    ];

    // Act
    const run = driveOrchestration(
      protectServer,
      { serverName: "pg1", vaultId: "/v", policyName: "p" },
      {
        listServerDatabases: () => ({ ok: true, value: databases }),
        checkDatabaseLimits: noneRefused,
        protectDatasource: () => ({ outcome: "Protected" }),
      },
    );

    // Assert
    const ids = childrenStarted(run.scheduled).map((c) => c.instanceId);
    expect(new Set(ids).size).toBe(4);
    expect(run.output.protected).toEqual(["Sales", "sales", "sales_eu", "sales-eu"]);
    expect(run.output.failed).toEqual([]);
    expect(run.customStatuses.at(-1)).toEqual({ done: 4, total: 4 });
  });

  it("leaves out a database that breaks a limit, naming its reason, and protects the others of its batch", () => {
    // Arrange: b is owned by the service's admin role.
    const refusal = {
      databaseName: "b",
      code: "DATABASE_OWNED_BY_SERVICE_ROLE",
      message:
        "The database pg1/b is owned by azure_pg_admin, a role Azure Backup's backups exclude",
      recommendedAction: 'Give the database another owner (ALTER DATABASE "b" OWNER TO ...)',
    };
    const checked: unknown[] = [];

    // Act
    const run = driveOrchestration(
      protectServer,
      { serverName: "pg1", vaultId: "/v", policyName: "p", secretUri: "s", maxConcurrency: 2 },
      {
        listServerDatabases: () => ({ ok: true, value: ["a", "b", "c"].map(database) }),
        checkDatabaseLimits: (input) => {
          checked.push(input);
          const names = (input as { databases: { databaseName: string }[] }).databases.map(
            (d) => d.databaseName,
          );
          return { ok: true, value: names.includes("b") ? [refusal] : [] };
        },
        protectDatasource: () => ({ outcome: "Protected" }),
      },
    );

    // Assert
    expect(childrenStarted(run.scheduled).map((c) => c.instanceId)).toEqual(
      ["a", "c"].map((name) => protectionInstanceId(database(name).datasourceId)),
    );
    expect(run.output).toEqual({
      serverName: "pg1",
      protected: ["a", "c"],
      alreadyProtected: [],
      failed: [],
      stuck: [],
      skipped: [refusal],
    });
    expect(checked).toEqual([
      { databases: [database("a"), database("b")], secretUri: "s" },
      { databases: [database("c")], secretUri: "s" },
    ]);
    expect(run.customStatuses.at(-1)).toEqual({ done: 3, total: 3 });
  });

  it("waits on nothing for a batch whose every database breaks a limit", () => {
    // Act
    const run = driveOrchestration(
      protectServer,
      { serverName: "pg1", vaultId: "/v", policyName: "p" },
      {
        listServerDatabases: () => ({ ok: true, value: [database("a")] }),
        checkDatabaseLimits: () => ({
          ok: true,
          value: [
            {
              databaseName: "a",
              code: "BYTEA_VALUE_TOO_LARGE",
              message: "m",
              recommendedAction: "r",
            },
          ],
        }),
      },
    );

    // Assert
    expect(run.scheduled.filter((t) => t.kind === "all" || t.kind === "timer")).toEqual([]);
    expect(run.output).toMatchObject({ protected: [], skipped: [{ databaseName: "a" }] });
  });

  it("protects every database when the limits cannot be checked, as an unread fact refuses nothing", () => {
    // Act
    const run = driveOrchestration(
      protectServer,
      { serverName: "pg1", vaultId: "/v", policyName: "p" },
      {
        listServerDatabases: () => ({ ok: true, value: [database("a")] }),
        checkDatabaseLimits: () => {
          throw new Error("Activity function 'checkDatabaseLimits' failed: ECONNREFUSED");
        },
        protectDatasource: () => ({ outcome: "Protected" }),
      },
    );

    // Assert
    expect(run.output).toMatchObject({ protected: ["a"], skipped: [] });
  });

  it("states the listing's failure in the summary when it still fails after its retries", () => {
    const run = driveOrchestration(
      protectServer,
      { serverName: "pg1", vaultId: "/v", policyName: "p" },
      {
        listServerDatabases: () => {
          throw new Error("Activity function 'listServerDatabases' failed: ECONNREFUSED");
        },
      },
    );

    expect(run.output.failed).toEqual([
      {
        databaseName: "*",
        code: "PROTECTION_STEP_FAILED",
        message: expect.stringContaining("ECONNREFUSED"),
      },
    ]);
  });

  it.each([
    ["one completion at a time", 1],
    ["every completion at once", "all"],
  ] as const)(
    "finishes with a hanging protection reported as stuck and starts no protection twice (%s), on the real durable-functions library",
    async (_label, batch) => {
      // Arrange: payroll's protection never ends; INVENTORY is a database apart from inventory.
      const listed = [database("inventory"), database("payroll"), database("INVENTORY")];

      // Act
      const run = await driveOrchestrator(protectServer as unknown as df.OrchestrationHandler, {
        shim,
        input: { serverName: "pg1", vaultId: "/v", policyName: "p", maxConcurrency: 3 },
        batch,
        activity: (name) =>
          name === "checkDatabaseLimits"
            ? { ok: true, value: noneRefused() }
            : { ok: true, value: { ok: true, value: listed } },
        child: (_name, instanceId) =>
          instanceId === protectionInstanceId(database("payroll").datasourceId)
            ? { pending: true }
            : { ok: true, value: { outcome: "Protected" } },
      });

      // Assert
      expect(run.error).toBeUndefined();
      expect(run.output).toMatchObject({
        protected: ["inventory", "INVENTORY"],
        failed: [],
        stuck: [{ databaseName: "payroll", code: "PROTECTION_STUCK" }],
      });
      const started = run.history
        .filter((e) => e.EventType === EventType.SubOrchestrationInstanceCreated)
        .map((e) => (e as { InstanceId?: string }).InstanceId);
      expect(started).toHaveLength(3);
      expect(new Set(started).size).toBe(3);
    },
  );
});
