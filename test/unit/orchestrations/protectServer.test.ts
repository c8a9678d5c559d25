import { describe, expect, it } from "vitest";
import { protectServer } from "../../../src/orchestrations/protectServer.js";
import type * as df from "durable-functions";
import { driveOrchestrator } from "../../support/durableReplay.js";
import { driveOrchestration } from "../../support/orchestrationDriver.js";

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

describe("protectServer", () => {
  it("protects databases in batches no wider than asked and sums up each outcome", () => {
    const names = ["a", "b", "c", "d", "e"];
    const run = driveOrchestration(
      protectServer,
      { serverName: "pg1", vaultId: "/v", policyName: "p", maxConcurrency: 2 },
      {
        listServerDatabases: () => ({ ok: true, value: names.map(database) }),
        protectDatasource: (subInput) => {
          const id = (subInput as { datasource: { datasourceId: string } }).datasource.datasourceId;
          if (id.endsWith("/b")) return { outcome: "AlreadyProtected" };
          if (id.endsWith("/d"))
            return { outcome: "Failed", error: { code: "SecretNotFound", message: "no secret" } };
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
      failed: [{ databaseName: "d", code: "SecretNotFound", message: "no secret" }],
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
        protectDatasource: () => ({ outcome: "Protected" }),
      },
    );

    // Assert
    const sub = (
      run.scheduled.find((t) => t.kind === "all") as unknown as { tasks: { input: unknown }[] }
    ).tasks[0];
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
        protectDatasource: () => ({ outcome: "Protected" }),
      },
    );

    const sub = (
      run.scheduled.find((t) => t.kind === "all") as unknown as { tasks: { instanceId: string }[] }
    ).tasks[0];
    expect(sub?.instanceId).toBe(
      "protect-subscriptions-s-resourcegroups-rg-providers-microsoft.dbforpostgresql-servers-pg1-databases-a",
    );
  });

  it("reports progress as databases done of those listed: none once listed, then after each batch", () => {
    const run = driveOrchestration(
      protectServer,
      { serverName: "pg1", vaultId: "/v", policyName: "p", maxConcurrency: 2 },
      {
        listServerDatabases: () => ({ ok: true, value: ["a", "b", "c"].map(database) }),
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
      const shim = {
        lookupFunction: (name: string) =>
          name === "listServerDatabases"
            ? { name, triggerType: "activityTrigger" }
            : name === "protectDatasource"
              ? { name, triggerType: "orchestrationTrigger" }
              : undefined,
      };

      // Act
      const run = await driveOrchestrator(protectServer as unknown as df.OrchestrationHandler, {
        shim,
        input: { serverName: "pg1", vaultId: "/v", policyName: "p", maxConcurrency: 3 },
        batch,
        activity: () => ({ ok: true, value: { ok: true, value: names.map(database) } }),
        child: (_name, instanceId) =>
          instanceId.endsWith("-payroll")
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
      });
    },
  );
});
