import { describe, expect, it } from "vitest";
import { lifecycleOperationId, startLifecycleAction } from "../../../src/application/lifecycle.js";
import { createVaultDirectory } from "../../../src/composition.js";
import { loadConfig } from "../../../src/config.js";
import { NotFoundError } from "../../../src/domain/errors.js";
import { compilePolicySpec } from "../../../src/domain/policy/spec.js";
import {
  formatDatabaseId,
  formatVaultId,
  LOCAL_SCOPE,
} from "../../../src/domain/protection/ids.js";
import type { BackupInstance } from "../../../src/domain/protection/types.js";
import type { Provider } from "../../../src/providers/ports.js";
import { rejection } from "../../support/appError.js";
import { InMemoryOrchestrations } from "../../support/inMemoryOrchestrations.js";

const vaultId = formatVaultId({ ...LOCAL_SCOPE, vaultName: "pgprotect-vault" });
const salesId = formatDatabaseId({
  ...LOCAL_SCOPE,
  kind: "servers",
  serverName: "pg1",
  databaseName: "sales",
});
const policies = {
  weekly: compilePolicySpec({
    datasourceType: "AzureDatabaseForPostgreSQL",
    schedule: { days: ["Sunday"], time: "22:00" },
    retention: { default: "P3M" },
  }),
  flexible: compilePolicySpec({
    datasourceType: "AzureDatabaseForPostgreSQLFlexibleServer",
    schedule: { days: ["Sunday"], time: "22:00" },
    retention: { default: "P3M" },
  }),
};

/** The backup instance of `sales` in the given protection state. */
function salesInstance(protectionStatus: BackupInstance["protectionStatus"]): BackupInstance {
  return {
    id: `${vaultId}/backupInstances/pg1-sales-1`,
    name: "pg1-sales-1",
    vaultName: "pgprotect-vault",
    friendlyName: "pg1/sales",
    dataSourceInfo: {
      resourceId: salesId,
      datasourceType: "Microsoft.DBforPostgreSQL/servers/databases",
      resourceName: "sales",
      resourceType: "Microsoft.DBforPostgreSQL/servers/databases",
      resourceLocation: "local",
    },
    policyId: `${vaultId}/backupPolicies/weekly`,
    protectionStatus,
    provisioningState: "Succeeded",
    createdAt: "2026-11-01T00:00:00.000Z",
  };
}

/** A provider in memory holding one backup instance, the vault's policies and no deleted instance. */
function deps(instance: BackupInstance) {
  const config = loadConfig({});
  const provider = {
    backup: {
      getBackupInstance: async (_vault: string, name: string) => {
        if (name !== instance.name) throw new NotFoundError("RESOURCE_NOT_FOUND", "no instance");
        return instance;
      },
      getPolicy: async (_vault: string, name: string) => {
        const properties = policies[name as keyof typeof policies];
        if (!properties) throw new NotFoundError("RESOURCE_NOT_FOUND", "no such policy");
        return { name, id: `${vaultId}/backupPolicies/${name}`, properties };
      },
    },
    lifecycle: { listDeletedBackupInstances: async () => [] },
  } as unknown as Provider;
  return { config, provider, vaults: createVaultDirectory(config) };
}

const at = new Date("2026-12-01T00:00:00Z");

describe("startLifecycleAction", () => {
  it("starts protectionLifecycle once under the instance's operation id, with the action, vault and requester", async () => {
    // Arrange
    const orchestrations = new InMemoryOrchestrations();
    const request = {
      action: "suspend" as const,
      backupInstanceName: "pg1-sales-1",
      requestedBy: "alice",
    };

    // Act
    const answer = await startLifecycleAction(
      deps(salesInstance("ProtectionConfigured")),
      orchestrations,
      request,
      at,
    );

    // Assert
    const operationId = lifecycleOperationId(`${vaultId}/backupInstances/pg1-sales-1`);
    expect(answer).toMatchObject({
      outcome: "accepted",
      operationId,
      state: "ProtectionConfigured",
      targetState: "BackupSchedulesSuspended",
    });
    expect(operationId).toMatch(/^lifecycle-pg1-sales-1-[0-9a-f]+$/);
    expect(orchestrations.started).toEqual([
      {
        name: "protectionLifecycle",
        instanceId: operationId,
        input: {
          action: "suspend",
          vaultId,
          backupInstanceName: "pg1-sales-1",
          requestedBy: "alice",
        },
      },
    ]);
  });

  it("answers the same action asked again while it runs with the running operation, and starts nothing more", async () => {
    // Arrange
    const orchestrations = new InMemoryOrchestrations();
    const request = { action: "stop" as const, backupInstanceName: "pg1-sales-1" };
    const first = await startLifecycleAction(
      deps(salesInstance("ProtectionConfigured")),
      orchestrations,
      request,
      at,
    );

    // Act
    const again = await startLifecycleAction(
      deps(salesInstance("ProtectionConfigured")),
      orchestrations,
      request,
      at,
    );

    // Assert
    expect(again).toMatchObject({ outcome: "accepted", operationId: first.operationId });
    expect(orchestrations.started).toHaveLength(1);
  });

  it("refuses another action while one runs on the instance with a 409 naming the running one", async () => {
    // Arrange
    const orchestrations = new InMemoryOrchestrations();
    const configured = deps(salesInstance("ProtectionConfigured"));
    await startLifecycleAction(
      configured,
      orchestrations,
      { action: "stop", backupInstanceName: "pg1-sales-1" },
      at,
    );

    // Act
    const error = await rejection(
      startLifecycleAction(
        configured,
        orchestrations,
        { action: "suspend", backupInstanceName: "pg1-sales-1" },
        at,
      ),
    );

    // Assert
    expect(error).toMatchObject({ code: "PROTECTION_STATE_CONFLICT", httpStatus: 409 });
    expect(error.message).toContain("stop");
    expect(orchestrations.started).toHaveLength(1);
  });

  it("answers a stop of a stopped instance as already done, starting nothing", async () => {
    // Arrange
    const orchestrations = new InMemoryOrchestrations();

    // Act
    const answer = await startLifecycleAction(
      deps(salesInstance("ProtectionStopped")),
      orchestrations,
      { action: "stop", backupInstanceName: "pg1-sales-1" },
      at,
    );

    // Assert
    expect(answer).toMatchObject({
      outcome: "alreadyDone",
      operationId: null,
      state: "ProtectionStopped",
    });
    expect(orchestrations.started).toEqual([]);
  });

  it("refuses a move to a policy for another datasource type before anything starts", async () => {
    // Arrange
    const orchestrations = new InMemoryOrchestrations();

    // Act
    const error = await rejection(
      startLifecycleAction(
        deps(salesInstance("ProtectionConfigured")),
        orchestrations,
        { action: "changePolicy", backupInstanceName: "pg1-sales-1", policyName: "flexible" },
        at,
      ),
    );

    // Assert
    expect(error).toMatchObject({ code: "POLICY_DATASOURCE_TYPE_MISMATCH", httpStatus: 400 });
    expect(orchestrations.started).toEqual([]);
  });
});
