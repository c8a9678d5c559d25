import { describe, expect, it } from "vitest";
import type { ProtectionSummary, ResolvedDatasource } from "../../../src/activities/names.js";
import {
  protectDatasource,
  protectionInstanceId,
  type ProtectDatasourceInput,
  type ProtectionProgress,
} from "../../../src/orchestrations/protectDatasource.js";
import { activityCalls, driveOrchestration } from "../../support/orchestrationDriver.js";

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
const vaultId =
  "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/vault1";
const input: ProtectDatasourceInput = {
  datasource: { serverName: "pg1", databaseName: "sales" },
  vaultId,
  policyName: "weekly",
  secretUri: "https://kv.vault.azure.net/secrets/sales",
};

function summary(status: string, name = "pg1-sales-x"): ProtectionSummary {
  return {
    backupInstanceName: name,
    backupInstanceId: `${vaultId}/backupInstances/${name}`,
    vaultId,
    protectionStatus: status,
    policyId: "p",
  };
}

const happyPath = {
  resolveDatasource: () => ({ ok: true, value: datasource }),
  findProtection: () => null,
  verifyAccess: () => ({ ok: true, value: ["secret exists", "connected"] }),
  ensurePolicy: () => ({ ok: true, value: "policy exists" }),
  validateForBackup: () => ({ ok: true, value: [] }),
  createBackupInstance: (request: unknown) => ({
    ok: true,
    value: summary(
      "ConfiguringProtection",
      (request as { backupInstanceName: string }).backupInstanceName,
    ),
  }),
  getBackupInstance: (key: unknown) =>
    summary("ProtectionConfigured", (key as { backupInstanceName: string }).backupInstanceName),
  publishEvents: () => undefined,
};

describe("protectDatasource", () => {
  it("protects a new database step by step and announces it once configured", () => {
    const run = driveOrchestration(protectDatasource, input, happyPath);

    expect(activityCalls(run.scheduled)).toEqual([
      "resolveDatasource",
      "findProtection",
      "verifyAccess",
      "ensurePolicy",
      "validateForBackup",
      "createBackupInstance",
      "getBackupInstance",
      "publishEvents",
    ]);
    expect(run.output.outcome).toBe("Protected");
    expect(run.output.backupInstanceName).toMatch(/^pg1-sales-[0-9a-f-]{36}$/);
    const final = run.customStatuses.at(-1) as ProtectionProgress;
    expect(final.steps.map((s) => `${s.name}:${s.status}`)).toEqual([
      "resolve:done",
      "checkExisting:done",
      "verifyAccess:done",
      "ensurePolicy:done",
      "validateForBackup:done",
      "createBackupInstance:done",
      "waitForProtection:done",
      "publish:done",
    ]);
    const published = run.scheduled.find(
      (t) => t.kind === "activity" && t.name === "publishEvents",
    );
    expect(published).toMatchObject({ input: [{ kind: "protectionConfigured", vaultId }] });
  });

  it("trusts a datasource a fan-out listed instead of resolving it again", () => {
    // Arrange
    const listed: ProtectDatasourceInput = {
      ...input,
      datasource: { datasourceId: datasource.datasourceId },
      resolved: datasource,
    };

    // Act
    const run = driveOrchestration(protectDatasource, listed, happyPath);

    // Assert
    expect(activityCalls(run.scheduled)).not.toContain("resolveDatasource");
    expect(run.output).toMatchObject({
      outcome: "Protected",
      datasourceId: datasource.datasourceId,
    });
    const verify = run.scheduled.find((t) => t.kind === "activity" && t.name === "verifyAccess");
    expect(verify).toMatchObject({ input: { datasource } });
  });

  it("announces the instance as the service answered it, so the event needs no second read", () => {
    // Arrange
    const answered = {
      name: "pg1-sales-x",
      id: `${vaultId}/backupInstances/pg1-sales-x`,
      protectionStatus: "ProtectionConfigured",
    };
    const activities = {
      ...happyPath,
      createBackupInstance: () => ({
        ok: true,
        value: { ...summary("ProtectionConfigured"), instance: answered },
      }),
    };

    // Act
    const run = driveOrchestration(protectDatasource, input, activities);

    // Assert
    expect(activityCalls(run.scheduled)).not.toContain("getBackupInstance");
    const published = run.scheduled.find(
      (t) => t.kind === "activity" && t.name === "publishEvents",
    );
    expect(published).toMatchObject({
      input: [{ kind: "protectionConfigured", instance: answered }],
    });
  });

  it("answers the existing backup instance and creates nothing when the datasource is already protected", () => {
    const run = driveOrchestration(protectDatasource, input, {
      ...happyPath,
      findProtection: () => summary("ProtectionConfigured", "pg1-sales-existing"),
    });

    expect(run.output).toMatchObject({
      outcome: "AlreadyProtected",
      backupInstanceName: "pg1-sales-existing",
    });
    expect(activityCalls(run.scheduled)).not.toContain("createBackupInstance");
  });

  it("gives the same datasource the same instance id whatever its letter case", () => {
    expect(protectionInstanceId(datasource.datasourceId)).toBe(
      protectionInstanceId(datasource.datasourceId.toUpperCase()),
    );
    expect(protectionInstanceId(datasource.datasourceId)).not.toBe(
      protectionInstanceId(datasource.datasourceId.replace("sales", "hr")),
    );
  });

  it("keeps validating with growing waits while permissions propagate, then protects", () => {
    const start = new Date("2026-11-24T08:00:00Z");
    const run = driveOrchestration(
      protectDatasource,
      input,
      {
        ...happyPath,
        validateForBackup: (_input, call) =>
          call < 2
            ? {
                ok: false,
                code: "UserErrorMissingRequiredPermissions",
                message: "no Reader role yet",
              }
            : { ok: true, value: [] },
      },
      { start },
    );

    const timers = run.scheduled
      .filter((t) => t.kind === "timer")
      .map((t) => (t as { fireAt: Date }).fireAt.getTime() - start.getTime());
    expect(run.output.outcome).toBe("Protected");
    expect(timers.slice(0, 2)).toEqual([15_000, 45_000]);
  });

  it("fails with the service's code and a recommended action when access is missing, and says so in an event", () => {
    const run = driveOrchestration(protectDatasource, input, {
      ...happyPath,
      verifyAccess: () => ({
        ok: false,
        code: "SecretNotFound",
        message: "The secret https://kv.vault.azure.net/secrets/sales does not exist",
        recommendedAction: "Create it with pgprotect local secret set sales",
      }),
    });

    expect(run.output).toMatchObject({ outcome: "Failed", error: { code: "SecretNotFound" } });
    const final = run.customStatuses.at(-1) as ProtectionProgress;
    expect(final.error?.recommendedAction).toContain("secret set");
    expect(final.steps.at(-1)).toMatchObject({ name: "verifyAccess", status: "failed" });
    expect(activityCalls(run.scheduled).at(-1)).toBe("publishEvents");
    expect(run.scheduled.at(-1)).toMatchObject({
      input: [
        {
          kind: "protectionFailed",
          failedStep: "verifyAccess",
          operationId: "test-instance",
          error: { code: "SecretNotFound" },
        },
      ],
    });
  });

  it("waits on durable timers until the instance reports ProtectionConfigured", () => {
    const run = driveOrchestration(protectDatasource, input, {
      ...happyPath,
      getBackupInstance: (key, call) =>
        summary(
          call < 3 ? "ConfiguringProtection" : "ProtectionConfigured",
          (key as { backupInstanceName: string }).backupInstanceName,
        ),
    });

    expect(run.scheduled.filter((t) => t.kind === "timer")).toHaveLength(4);
    expect(run.output.outcome).toBe("Protected");
  });

  it("fails, naming the state, when protection configuration fails", () => {
    const run = driveOrchestration(protectDatasource, input, {
      ...happyPath,
      getBackupInstance: (key) =>
        summary(
          "ConfiguringProtectionFailed",
          (key as { backupInstanceName: string }).backupInstanceName,
        ),
    });

    expect(run.output.outcome).toBe("Failed");
    expect(run.output.error?.message).toContain("ConfiguringProtectionFailed");
  });
});
