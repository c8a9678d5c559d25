/**
 * What the orchestrations log and what they carry across the boundary: named events with the
 * instance id and the starting request, the request's correlation beside each activity's input,
 * and inputs and children's outputs read through their schemas.
 */
import { describe, expect, it } from "vitest";
import type { ProtectionSummary, ResolvedDatasource } from "../../../src/activities/names.js";
import { correlatedInputMarker } from "../../../src/activities/names.js";
import { adhocBackup } from "../../../src/orchestrations/adhocBackup.js";
import { OrchestrationInputError } from "../../../src/orchestrations/orchestrationInput.js";
import {
  protectDatasource,
  type ProtectDatasourceInput,
} from "../../../src/orchestrations/protectDatasource.js";
import { protectServer } from "../../../src/orchestrations/protectServer.js";
import { driveOrchestration, type Scheduled } from "../../support/orchestrationDriver.js";

const vaultId =
  "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/vault1";
const datasource: ResolvedDatasource = {
  datasourceId:
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/servers/pg1/databases/sales",
  kind: "database",
  datasourceType: "Microsoft.DBforPostgreSQL/servers/databases",
  serverName: "pg1",
  databaseName: "sales",
  friendlyName: "pg1/sales",
  location: "westeurope",
  tags: {},
};
const request = { invocationId: "http-invocation-1", traceparent: "00-aa-bb-01" };
const input: ProtectDatasourceInput = {
  datasource: { serverName: "pg1", databaseName: "sales" },
  vaultId,
  policyName: "weekly",
  secretUri: "https://kv.vault.azure.net/secrets/sales",
  correlation: request,
};

function summary(status: string, name: string): ProtectionSummary {
  return {
    backupInstanceName: name,
    backupInstanceId: `${vaultId}/backupInstances/${name}`,
    vaultId,
    protectionStatus: status,
    policyId: "p",
  };
}

/** The activities of a protection that succeeds, answering the input they were sent. */
const happyPath = {
  resolveDatasource: () => ({ ok: true, value: datasource }),
  findProtection: () => null,
  verifyAccess: () => ({ ok: true, value: ["secret exists"] }),
  ensurePolicy: () => ({ ok: true, value: "policy exists" }),
  validateForBackup: () => ({ ok: true, value: [] }),
  createBackupInstance: () => ({ ok: true, value: summary("ProtectionConfigured", "pg1-sales-x") }),
  publishEvents: () => 1,
};

/** A logged line's event name and properties. */
function parsed(line: string): {
  level: string;
  name: string;
  properties: Record<string, unknown>;
} {
  const [level = "", rest = ""] = line.split(/: (.*)/s);
  const name = rest.slice(0, rest.indexOf(":"));
  return {
    level,
    name,
    properties: JSON.parse(rest.slice(rest.lastIndexOf(" {") + 1)) as Record<string, unknown>,
  };
}

const activitiesOf = (scheduled: readonly Scheduled[]) =>
  scheduled.filter(
    (task): task is Extract<Scheduled, { kind: "activity" }> => task.kind === "activity",
  );

describe("the orchestrations' logs", () => {
  it("name the instance and the starting request on every event of a protection, from start to outcome", () => {
    // Act
    const run = driveOrchestration(protectDatasource, input, happyPath, {
      instanceId: "protect-a",
    });

    // Assert
    const events = run.logs.map(parsed);
    expect(events.map((e) => e.name)).toEqual([
      "PgProtect.Orchestration.Started",
      ...Array.from({ length: 8 }, () => "PgProtect.Orchestration.StepCompleted"),
      "PgProtect.Orchestration.Completed",
    ]);
    for (const event of events) {
      expect(event.properties).toMatchObject({
        operationId: "protect-a",
        requestInvocationId: request.invocationId,
        requestTraceparent: request.traceparent,
        orchestration: "protectDatasource",
      });
    }
    expect(events.at(-1)?.properties).toMatchObject({ outcome: "Protected" });
  });

  it("log a failed protection as a warning with the failed step and the service's code", () => {
    // Act
    const run = driveOrchestration(protectDatasource, input, {
      ...happyPath,
      ensurePolicy: () => ({ ok: false, code: "POLICY_NOT_FOUND", message: "no policy weekly" }),
    });

    // Assert
    const last = parsed(run.logs.at(-1) ?? "");
    expect(last).toMatchObject({
      level: "warning",
      name: "PgProtect.Orchestration.Failed",
      properties: { step: "ensurePolicy", errorCode: "POLICY_NOT_FOUND", outcome: "Failed" },
    });
  });

  it("log each durable wait with the instant it ends", () => {
    // Act
    const run = driveOrchestration(
      protectDatasource,
      input,
      {
        ...happyPath,
        createBackupInstance: () => ({
          ok: true,
          value: summary("ConfiguringProtection", "pg1-sales-x"),
        }),
        getBackupInstance: () => summary("ProtectionConfigured", "pg1-sales-x"),
      },
      { start: new Date("2026-11-24T08:00:00Z") },
    );

    // Assert
    const waits = run.logs.map(parsed).filter((e) => e.name === "PgProtect.Orchestration.Waiting");
    expect(waits.map((e) => e.properties)).toMatchObject([
      { step: "waitForProtection", until: "2026-11-24T08:00:10.000Z", attempt: 1 },
    ]);
  });
});

describe("the orchestration boundary", () => {
  it("sends each activity its input beside the starting request's correlation", () => {
    // Act
    const run = driveOrchestration(protectDatasource, input, happyPath);

    // Assert
    const verify = activitiesOf(run.scheduled).find((task) => task.name === "verifyAccess");
    expect(verify?.input).toEqual({
      [correlatedInputMarker]: 1,
      input: { vaultId, policyName: "weekly", datasource, secretUri: input.secretUri },
      correlation: request,
    });
  });

  it("sends an input alone when the orchestration's input carries no correlation, as inputs recorded earlier", () => {
    // Arrange
    const { correlation: _correlation, ...earlier } = input;

    // Act
    const run = driveOrchestration(protectDatasource, earlier, happyPath);

    // Assert
    const resolve = activitiesOf(run.scheduled).find((task) => task.name === "resolveDatasource");
    expect(resolve?.input).toEqual(earlier.datasource);
  });

  it("fails at once, naming what is wrong, when the input is not what the orchestration takes", () => {
    // Act / Assert
    expect(() =>
      driveOrchestration(adhocBackup, { vaultId, ruleName: "BackupWeekly" }, {}),
    ).toThrow(OrchestrationInputError);
    expect(() =>
      driveOrchestration(adhocBackup, { vaultId, ruleName: "BackupWeekly" }, {}),
    ).toThrow(/backupInstanceName/);
  });

  it("hands each child protection the starting request's correlation", () => {
    // Act
    const run = driveOrchestration(
      protectServer,
      { serverName: "pg1", vaultId, policyName: "weekly", correlation: request },
      {
        listServerDatabases: () => ({ ok: true, value: [datasource] }),
        checkDatabaseLimits: () => ({ ok: true, value: [] }),
        protectDatasource: () => ({ outcome: "Protected" }),
      },
    );

    // Assert
    const batch = run.scheduled.find((task) => task.kind === "all");
    const child =
      batch?.kind === "all" && batch.tasks[0]?.kind === "any" ? batch.tasks[0].tasks[0] : undefined;
    expect(child).toMatchObject({ kind: "subOrchestration", input: { correlation: request } });
    expect(run.output.protected).toEqual(["sales"]);
  });

  it("states a child that answered something other than a protection's output as having no outcome", () => {
    // Act
    const run = driveOrchestration(
      protectServer,
      { serverName: "pg1", vaultId, policyName: "weekly" },
      {
        listServerDatabases: () => ({ ok: true, value: [datasource] }),
        checkDatabaseLimits: () => ({ ok: true, value: [] }),
        protectDatasource: () => ({ outcome: "Exploded" }),
      },
    );

    // Assert
    expect(run.output.failed).toMatchObject([
      { databaseName: "sales", message: expect.stringMatching(/does not/) },
    ]);
    expect(run.output.protected).toEqual([]);
  });
});
