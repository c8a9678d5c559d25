import { describe, expect, it } from "vitest";
import type { ProtectionSummary, ResolvedDatasource } from "../../../src/activities/names.js";
import {
  protectDatasource,
  protectionInstanceId,
  type ProtectDatasourceInput,
  type ProtectionProgress,
} from "../../../src/orchestrations/protectDatasource.js";
import type * as df from "durable-functions";
import { driveOrchestrator } from "@pgprotect/functions-runtime/durable/testing";
import {
  activityCalls,
  driveOrchestration,
  type Scheduled,
} from "../../support/orchestrationDriver.js";

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

  it("gives the same datasource the same instance id whatever the letter case of its Azure names", () => {
    const { datasourceId } = datasource;
    const [azureParts, databaseName] = datasourceId.split("/databases/");
    expect(protectionInstanceId(datasourceId)).toBe(
      protectionInstanceId(`${azureParts?.toUpperCase()}/databases/${databaseName}`),
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
                code: "MISSING_REQUIRED_PERMISSIONS",
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
        code: "SECRET_NOT_FOUND",
        message: "The secret https://kv.vault.azure.net/secrets/sales does not exist",
        recommendedAction: "Create it with pgprotect local secret set sales",
      }),
    });

    expect(run.output).toMatchObject({ outcome: "Failed", error: { code: "SECRET_NOT_FOUND" } });
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
          error: { code: "SECRET_NOT_FOUND" },
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

  it("reports a protection still configuring after the polling bound as timed out, with the time it waited", () => {
    const start = new Date("2026-11-24T08:00:00Z");

    const run = driveOrchestration(
      protectDatasource,
      input,
      {
        ...happyPath,
        getBackupInstance: (key) =>
          summary(
            "ConfiguringProtection",
            (key as { backupInstanceName: string }).backupInstanceName,
          ),
      },
      { start },
    );

    expect(run.output).toMatchObject({
      outcome: "Failed",
      backupInstanceName: expect.stringMatching(/^pg1-sales-/),
      error: {
        code: "PROTECTION_TIMED_OUT",
        message: expect.stringContaining("after 10 minutes"),
        recommendedAction: expect.any(String),
      },
    });
    expect(run.finishedAt.getTime() - start.getTime()).toBe(10 * 60_000);
  });

  it("gives up validating after its last attempt while permissions stay missing, and says how often it asked", () => {
    const run = driveOrchestration(protectDatasource, input, {
      ...happyPath,
      validateForBackup: () => ({
        ok: false,
        code: "MISSING_REQUIRED_PERMISSIONS",
        message: "The vault lacks Reader on the server",
      }),
    });

    expect(activityCalls(run.scheduled).filter((n) => n === "validateForBackup")).toHaveLength(6);
    expect(run.output.error).toMatchObject({
      code: "MISSING_REQUIRED_PERMISSIONS",
      message: expect.stringContaining("after 6 attempts"),
    });
  });

  it("explains a failed publish step after the backup instance was created, and announces the failure once", () => {
    // Arrange: the Configured event cannot be built or sent, whatever the retries.
    const run = driveOrchestration(protectDatasource, input, {
      ...happyPath,
      publishEvents: (events) => {
        if ((events as Array<{ kind: string }>)[0]?.kind === "protectionConfigured")
          throw new Error("Activity function 'publishEvents' failed: 'x' is not a time");
        return 1;
      },
    });

    // Assert
    expect(run.output).toMatchObject({
      outcome: "Failed",
      datasourceId: datasource.datasourceId,
      backupInstanceName: expect.stringMatching(/^pg1-sales-/),
      error: {
        code: "PROTECTION_EVENT_NOT_PUBLISHED",
        message: expect.stringContaining("is not a time"),
        recommendedAction: expect.any(String),
      },
    });
    const final = run.customStatuses.at(-1) as ProtectionProgress;
    expect(final.steps.at(-1)).toMatchObject({ name: "publish", status: "failed" });
    expect(final.error?.code).toBe("PROTECTION_EVENT_NOT_PUBLISHED");
    const failedEvents = publishedKinds(run.scheduled).filter((k) => k === "protectionFailed");
    expect(failedEvents).toHaveLength(1);
    expect(run.scheduled.at(-1)).toMatchObject({
      input: [
        {
          kind: "protectionFailed",
          failedStep: "publish",
          backupInstance: { friendlyName: run.output.backupInstanceName },
          error: { code: "PROTECTION_EVENT_NOT_PUBLISHED" },
        },
      ],
    });
  });

  it("states an activity that still fails after its retries as the failed step's error, and announces it", () => {
    const run = driveOrchestration(protectDatasource, input, {
      ...happyPath,
      ensurePolicy: () => {
        throw new Error("Activity function 'ensurePolicy' failed: ECONNRESET");
      },
    });

    expect(run.output).toMatchObject({
      outcome: "Failed",
      error: {
        code: "PROTECTION_STEP_FAILED",
        message: expect.stringContaining(
          "ensurePolicy failed: Activity function 'ensurePolicy' failed: ECONNRESET",
        ),
        recommendedAction: expect.stringContaining("nothing was created"),
      },
    });
    expect(run.scheduled.at(-1)).toMatchObject({
      input: [{ kind: "protectionFailed", failedStep: "ensurePolicy" }],
    });
  });

  it("still states its outcome when the Failed event cannot be published either", () => {
    const run = driveOrchestration(protectDatasource, input, {
      ...happyPath,
      verifyAccess: () => ({ ok: false, code: "SECRET_NOT_FOUND", message: "no secret" }),
      publishEvents: () => {
        throw new Error("Activity function 'publishEvents' failed: Event Grid answered 401");
      },
    });

    expect(run.output).toMatchObject({ outcome: "Failed", error: { code: "SECRET_NOT_FOUND" } });
    expect(run.customStatuses.at(-1)).toMatchObject({
      error: { code: "SECRET_NOT_FOUND" },
      eventNotPublished: expect.stringContaining("401"),
    });
  });

  it("hands the Configured event the orchestration's time, for a service that gives no creation time", () => {
    const start = new Date("2026-11-24T08:00:00Z");

    const run = driveOrchestration(protectDatasource, input, happyPath, { start });

    const configured = run.scheduled.at(-1) as { input: Array<{ kind: string; time?: string }> };
    expect(configured.input[0]).toMatchObject({ kind: "protectionConfigured" });
    expect(configured.input[0]?.time).toBe(run.finishedAt.toISOString());
  });

  it.each([
    ["one completion at a time", 1],
    ["every completion at once", "all"],
  ] as const)(
    "ends Completed with a stated outcome when the publish step throws after the instance was created (%s), on the real durable-functions library",
    async (_label, batch) => {
      // Arrange
      const instanceName = "pg1-sales-1";
      const answers: Record<string, (input: unknown) => unknown> = {
        ...happyPath,
        createBackupInstance: () => ({
          ok: true,
          value: summary("ProtectionConfigured", instanceName),
        }),
      };

      // Act
      const run = await driveOrchestrator(protectDatasource as unknown as df.OrchestrationHandler, {
        shim: {
          lookupFunction: (name: string) =>
            name in answers ? { name, triggerType: "activityTrigger" } : undefined,
        },
        input,
        batch,
        activity: (name, activityInput) => {
          const events = activityInput as Array<{ kind: string }> | undefined;
          if (name === "publishEvents" && events?.[0]?.kind === "protectionConfigured")
            return { ok: false, message: "EVENT_TIME_INVALID: '' is not a time" };
          return { ok: true, value: answers[name]?.(activityInput) ?? null };
        },
      });

      // Assert
      expect(run.error).toBeUndefined();
      expect(run.output).toMatchObject({
        outcome: "Failed",
        backupInstanceName: instanceName,
        error: {
          code: "PROTECTION_EVENT_NOT_PUBLISHED",
          message: expect.stringContaining("EVENT_TIME_INVALID"),
        },
      });
    },
  );
});

/** The kinds of events the orchestration asked to publish, in order. */
function publishedKinds(scheduled: readonly Scheduled[]): string[] {
  return scheduled.flatMap((task) =>
    task.kind === "activity" && task.name === "publishEvents"
      ? (task.input as Array<{ kind: string }>).map((event) => event.kind)
      : [],
  );
}
