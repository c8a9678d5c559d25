import { describe, expect, it } from "vitest";
import {
  toBackupInstance,
  toBackupJob,
  toIsoDuration,
  toRecoveryPoint,
} from "../../../../src/providers/azure/azureBackupService.js";
import type { AzureBackupJobResourceOutput } from "../../../../src/providers/azure/dataProtection/outputModels.js";

const vaultId =
  "/subscriptions/04cf684a-d41f-4550-9f70-7708a3a2283b/resourceGroups/000pikumar/providers/Microsoft.DataProtection/backupVaults/PratikPrivatePreviewVault1";

/** The shape of the service's GetJob example (2026-06-01), trimmed. */
function exampleJob(
  status: string,
  overrides: Record<string, unknown> = {},
): AzureBackupJobResourceOutput {
  return {
    id: `${vaultId}/backupJobs/3c60cb49-63e8-4b21-b9bd-26277b3fdfae`,
    name: "3c60cb49-63e8-4b21-b9bd-26277b3fdfae",
    type: "Microsoft.DataProtection/Backupvaults/backupJobs",
    properties: {
      activityID: "3c60cb49-63e8-4b21-b9bd-26277b3fdfae",
      backupInstanceFriendlyName: "mabtestingserver1\\postgres",
      backupInstanceId: `${vaultId}/backupInstances/mabtestingserver1-postgres-957d23b1`,
      dataSourceId:
        "/subscriptions/62b829ee-7936-40c9-a1c9-47a93f9f3965/resourceGroups/mabtesting/providers/Microsoft.DBforPostgreSQL/servers/mabtestingserver1/databases/postgres",
      dataSourceLocation: "centraluseuap",
      dataSourceName: "postgres",
      dataSourceSetName: "mabtestingserver1",
      dataSourceType: "Microsoft.DBforPostgreSQL/servers/databases",
      duration: "00:02:11.9724387",
      endTime: "2020-04-24T12:35:43.0329601Z",
      isUserTriggered: false,
      operation: "Backup",
      operationCategory: "Backup",
      policyId: `${vaultId}/backupPolicies/PratikPolicy1`,
      policyName: "PratikPolicy1",
      progressEnabled: false,
      sourceResourceGroup: "mabtesting",
      sourceSubscriptionID: "62b829ee-7936-40c9-a1c9-47a93f9f3965",
      startTime: "2020-04-24T12:33:31.1058398Z",
      status,
      subscriptionId: "04cf684a-d41f-4550-9f70-7708a3a2283b",
      supportedActions: [""],
      vaultName: "PratikPrivatePreviewVault1",
      extendedInfo: {
        additionalDetails: { PolicyRuleName: "BackupWeekly", RetentionTag: "Monthly", TaskId: "t" },
      },
      ...overrides,
    },
  };
}

describe("mapping the service's jobs", () => {
  it.each([
    ["Started", "InProgress"],
    ["InProgress", "InProgress"],
    ["Succeeded", "Completed"],
    ["Completed", "Completed"],
    ["CompletedWithWarnings", "Completed"],
    ["Failed", "Failed"],
    ["Cancelled", "Cancelled"],
  ])("reads status %s as %s", (status, expected) => {
    expect(toBackupJob(exampleJob(status), vaultId).status).toBe(expected);
  });

  it("names a scheduled backup, its rule and tag, and turns a .NET duration into ISO 8601", () => {
    const job = toBackupJob(exampleJob("Completed"), vaultId);

    expect(job).toMatchObject({
      operation: "ScheduledBackup",
      operationCategory: "Backup",
      ruleName: "BackupWeekly",
      retentionTag: "Monthly",
      duration: "PT0H2M11.9724387S",
      endTime: "2020-04-24T12:35:43.0329601Z",
    });
  });

  it("leaves out the end of a running job, whatever placeholder the service sends", () => {
    const job = toBackupJob(
      exampleJob("InProgress", { endTime: "0001-01-01T00:00:00", duration: "00:00:00" }),
      vaultId,
    );

    expect(job.endTime).toBeUndefined();
    expect(job.duration).toBeUndefined();
  });

  it("keeps ISO 8601 durations and converts day-long TimeSpans", () => {
    expect(toIsoDuration("PT4M16.2830187S")).toBe("PT4M16.2830187S");
    expect(toIsoDuration("1.02:03:04")).toBe("PT26H3M4S");
  });

  it("states a failed job's errors in the catalogue's codes, the service's own kept beside", () => {
    const job = toBackupJob(
      exampleJob("Failed", {
        errorDetails: [
          {
            code: "UserErrorMissingDBPermissions",
            message: "permission denied",
            isUserError: true,
          },
          { code: "UserErrorSomethingNew", message: "a code pgprotect does not know" },
        ],
      }),
      vaultId,
    );

    expect(job.errorDetails).toEqual([
      {
        code: "MISSING_DB_PERMISSIONS",
        serviceCode: "UserErrorMissingDBPermissions",
        message: "permission denied",
        isUserError: true,
      },
      {
        code: "AZURE_REQUEST_FAILED",
        serviceCode: "UserErrorSomethingNew",
        message: "a code pgprotect does not know",
      },
    ]);
  });
});

describe("mapping the service's backup instances and recovery points", () => {
  it("reads the legacy OssDB type of Single Server examples as the database datasource type", () => {
    const instance = toBackupInstance(
      {
        id: `${vaultId}/backupInstances/testInstance1`,
        name: "testInstance1",
        type: "Microsoft.DataProtection/backupVaults/backupInstances",
        properties: {
          objectType: "BackupInstance",
          friendlyName: "harshitbi2",
          dataSourceInfo: {
            datasourceType: "OssDB",
            objectType: "Datasource",
            resourceID:
              "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/servers/viveksipgtest/databases/testdb",
            resourceLocation: "",
            resourceName: "testdb",
            resourceType: "Microsoft.DBforPostgreSQL/servers/databases",
            resourceUri: "",
          },
          policyInfo: { policyId: `${vaultId}/backupPolicies/pol1` },
          protectionStatus: {
            status: "ProtectionError",
            errorDetails: {
              code: "UserErrorMissingDBPermissions",
              message: "no",
              recommendedAction: ["Grant SELECT."],
            },
          },
          provisioningState: "Succeeded",
        },
      },
      "PratikPrivatePreviewVault1",
      { observedAt: "2026-06-01T10:00:00.000Z" },
    );

    expect(instance.dataSourceInfo.datasourceType).toBe(
      "Microsoft.DBforPostgreSQL/servers/databases",
    );
    expect(instance.protectionErrorDetails).toMatchObject({
      code: "MISSING_DB_PERMISSIONS",
      serviceCode: "UserErrorMissingDBPermissions",
      recommendedAction: ["Grant SELECT."],
    });
    // The example has no systemData: the instance was created no later than the app saw it.
    expect(instance.createdAt).toBe("2026-06-01T10:00:00.000Z");
  });

  it("keeps the vault and archive copies of a recovery point", () => {
    const point = toRecoveryPoint(
      {
        id: `${vaultId}/backupInstances/bi/recoveryPoints/7fb2cddd`,
        name: "7fb2cddd",
        properties: {
          objectType: "AzureBackupDiscreteRecoveryPoint",
          recoveryPointId: "7fb2cddd",
          recoveryPointTime: "2021-03-01T09:27:26.0000000Z",
          recoveryPointType: "Full",
          retentionTagName: "Monthly",
          policyName: "pol1",
          recoveryPointDataStoresDetails: [
            { type: "VaultStore", creationTime: "2021-03-01T09:27:26Z" },
            { type: "ArchiveStore", creationTime: "2021-09-01T00:00:00Z" },
            { type: "OperationalStore" },
          ],
        },
      },
      "bi",
    );

    expect(point).toMatchObject({
      recoveryPointId: "7fb2cddd",
      retentionTagName: "Monthly",
      policyName: "pol1",
      backupInstanceName: "bi",
    });
    expect(point.dataStores.map((d) => d.type)).toEqual(["VaultStore", "ArchiveStore"]);
  });
});

describe("mapping answers that carry only what the contract requires", () => {
  const bare = {
    properties: {
      objectType: "BackupInstance",
      dataSourceInfo: {
        resourceID:
          "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg-orders",
      },
      policyInfo: { policyId: `${vaultId}/backupPolicies/weekly` },
    },
  };

  it("names a backup instance from the request and its datasource from its id, and takes it as configured", () => {
    const instance = toBackupInstance(bare, "vault", {
      observedAt: "2026-06-01T10:00:00.000Z",
      id: `${vaultId}/backupInstances/pg-orders-pg-orders-1`,
      name: "pg-orders-pg-orders-1",
    });

    expect(instance).toMatchObject({
      id: `${vaultId}/backupInstances/pg-orders-pg-orders-1`,
      name: "pg-orders-pg-orders-1",
      friendlyName: "pg-orders",
      protectionStatus: "ProtectionConfigured",
      createdAt: "2026-06-01T10:00:00.000Z",
      dataSourceInfo: {
        datasourceType: "Microsoft.DBforPostgreSQL/flexibleServers",
        resourceType: "Microsoft.DBforPostgreSQL/flexibleServers",
        resourceName: "pg-orders",
      },
    });
  });

  it("reads an unreported protection state from the provisioning state, then from what the request did", () => {
    const reading = { observedAt: "2026-06-01T10:00:00.000Z", name: "bi", id: `${vaultId}/bi` };
    const withState = (provisioningState: string) => ({
      properties: { ...bare.properties, provisioningState },
    });

    expect(toBackupInstance(withState("Provisioning"), "v", reading).protectionStatus).toBe(
      "ConfiguringProtection",
    );
    expect(toBackupInstance(withState("Failed"), "v", reading).protectionStatus).toBe(
      "ConfiguringProtectionFailed",
    );
    expect(
      toBackupInstance(bare, "v", { ...reading, statusWhenUnreported: "ProtectionStopped" })
        .protectionStatus,
    ).toBe("ProtectionStopped");
  });

  it("takes a finished job's end for its start when the service gives none, and keeps a running job open", () => {
    const job = (status: string): AzureBackupJobResourceOutput => {
      const {
        endTime: _end,
        duration: _duration,
        ...required
      } = exampleJob(status).properties ?? ({} as never);
      return {
        id: `${vaultId}/backupJobs/3c60cb49-63e8-4b21-b9bd-26b54a5e7ab7`,
        properties: required,
      };
    };

    expect(toBackupJob(job("Completed"), vaultId)).toMatchObject({
      name: "3c60cb49-63e8-4b21-b9bd-26b54a5e7ab7",
      endTime: job("Completed").properties?.startTime,
    });
    expect(toBackupJob(job("InProgress"), vaultId).endTime).toBeUndefined();
  });
});
