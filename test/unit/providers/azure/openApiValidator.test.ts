import { describe, expect, it } from "vitest";
import { OpenApiValidator } from "../../../support/fakeArm/openApiValidator.js";

const sub = "00000000-0000-0000-0000-000000000001";
const rgp = `https://arm.test/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.DataProtection`;
const url = (path: string, apiVersion = "2026-06-01") =>
  new URL(`${rgp}${path}?api-version=${apiVersion}`);

const weeklyPolicy = {
  objectType: "BackupPolicy",
  datasourceTypes: ["Microsoft.DBforPostgreSQL/flexibleServers"],
  policyRules: [
    {
      name: "BackupWeekly",
      objectType: "AzureBackupRule",
      backupParameters: { backupType: "Full", objectType: "AzureBackupParams" },
      dataStore: { dataStoreType: "VaultStore", objectType: "DataStoreInfoBase" },
      trigger: {
        objectType: "ScheduleBasedTriggerContext",
        schedule: { repeatingTimeIntervals: ["R/2021-08-15T06:30:00+00:00/P1W"], timeZone: "UTC" },
        taggingCriteria: [
          { isDefault: true, taggingPriority: 99, tagInfo: { tagName: "Default" } },
        ],
      },
    },
    {
      name: "Default",
      objectType: "AzureRetentionRule",
      isDefault: true,
      lifecycles: [
        {
          deleteAfter: { objectType: "AbsoluteDeleteOption", duration: "P3M" },
          sourceDataStore: { dataStoreType: "VaultStore", objectType: "DataStoreInfoBase" },
          targetDataStoreCopySettings: [],
        },
      ],
    },
  ],
};

describe("OpenApiValidator", () => {
  const validator = new OpenApiValidator();

  it("accepts the seed's weekly policy as a BackupPolicy PUT body", () => {
    const problems = validator.validateRequest(
      "PUT",
      url("/backupVaults/vault1/backupPolicies/p1"),
      {
        properties: weeklyPolicy,
      },
    );

    expect(problems).toEqual([]);
  });

  it("rejects a misspelt field inside a discriminated subtype", () => {
    const rule = { ...weeklyPolicy.policyRules[0], dataStor: {} };
    const body = { properties: { ...weeklyPolicy, policyRules: [rule] } };

    const problems = validator.validateRequest(
      "PUT",
      url("/backupVaults/vault1/backupPolicies/p1"),
      body,
    );

    expect(JSON.stringify(problems)).toContain("dataStor");
  });

  it("rejects an unknown discriminator value", () => {
    const body = {
      backupInstance: {
        objectType: "BackupInstance",
        dataSourceInfo: { resourceID: "/x" },
        policyInfo: { policyId: "/p" },
        datasourceAuthCredentials: { objectType: "PasswordCredentials" },
      },
    };

    const problems = validator.validateRequest(
      "POST",
      url("/backupVaults/vault1/validateForBackup"),
      body,
    );

    expect(JSON.stringify(problems)).toContain("objectType");
  });

  it("rejects another api-version and a vault name the contract's pattern refuses", () => {
    const problems = validator.validateRequest(
      "GET",
      url("/backupVaults/1vault/backupInstances/bi1", "2023-05-01"),
      undefined,
    );

    expect(problems.map((p) => p.message).join("\n")).toMatch(
      /api-version[\s\S]*vaultName|vaultName[\s\S]*api-version/,
    );
  });

  it("accepts a running operation status with the service's offset-less end time", () => {
    const status = new URL(
      `https://arm.test/subscriptions/${sub}/providers/Microsoft.DataProtection/locations/westus/operationStatus/b3A=?api-version=2026-06-01`,
    );

    const problems = validator.validateResponse("GET", status, 200, {
      id: status.pathname,
      name: "b3A=",
      status: "Inprogress",
      startTime: "2026-11-24T06:00:00Z",
      endTime: "0001-01-01T00:00:00",
    });

    expect(problems).toEqual([]);
  });

  it("refuses a status the operation does not declare, such as 201 for the synchronous policy PUT", () => {
    const problems = validator.validateResponse(
      "PUT",
      url("/backupVaults/vault1/backupPolicies/p1"),
      201,
      {
        properties: weeklyPolicy,
      },
    );

    expect(problems[0]?.message).toContain("201");
  });

  it("routes a datasource's extension path to the extension routing list", () => {
    const u = new URL(
      `https://arm.test/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/flexibleServers/s1/providers/Microsoft.DataProtection/backupInstances?api-version=2026-06-01`,
    );

    const matched = validator.match("GET", u);

    expect(matched?.operationId).toBe("BackupInstancesExtensionRouting_List");
    expect(matched?.pathParams["resourceId"]).toBe(
      `subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/flexibleServers/s1`,
    );
  });
});
