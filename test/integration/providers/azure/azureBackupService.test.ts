import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { rejection } from "../../../support/appError.js";
import {
  createActivities,
  type ActivityDependencies,
} from "../../../../src/activities/createActivities.js";
import { defaultPolicyTemplate } from "../../../../src/domain/policy/template.js";
import { WEEKLY_BACKUP_LIMIT_CODE } from "../../../../src/domain/protection/rules.js";
import { ProviderErrorCodes } from "../../../../src/providers/ports.js";
import {
  backupInstanceSpecFor,
  newBackupInstanceName,
} from "../../../../src/providers/azure/backupInstanceBuilder.js";
import {
  createAzureBackupService,
  type AzureBackupService,
} from "../../../../src/providers/azure/azureBackupService.js";
import {
  createDefaultPolicy,
  FAKE_SUBSCRIPTION_ID,
  FakeArm,
  fakeArmCredential,
  type FakeArmOptions,
} from "../../../support/fakeArm/index.js";
import { useFakeArmContractCheck } from "../../../support/fakeArm/hooks.js";
import { poll } from "../../../support/poll.js";
import { createEventLogger, type LogRecord } from "../../../../src/observability/eventLogger.js";

const RG = "rg-backup";
const pgRg = `/subscriptions/${FAKE_SUBSCRIPTION_ID}/resourceGroups/rg-db/providers/Microsoft.DBforPostgreSQL`;
const flexId = (name: string) => `${pgRg}/flexibleServers/${name}`;
const dbId = (server: string, db: string) => `${pgRg}/servers/${server}/databases/${db}`;
const SECRET = "https://kv-pg.vault.azure.net/secrets/empdb-connection";

/** Scale applied to the fake's Retry-After (1 s becomes 20 ms). */
const SCALE = 0.02;

async function startService(options: Partial<FakeArmOptions> = {}) {
  const fake = await FakeArm.start({ subscriptionId: FAKE_SUBSCRIPTION_ID, ...options });
  const service = createAzureBackupService({
    credential: fakeArmCredential(),
    client: {
      endpoint: fake.url,
      tlsOptions: { ca: fake.ca },
      throttling: { retryAfterScale: SCALE },
    },
    polling: { retryAfterScale: SCALE, intervalInMs: 10 },
  });
  return { fake, service };
}

describe("createAzureBackupService against the fake Resource Manager", () => {
  let fake: FakeArm;
  let service: AzureBackupService;
  let vaultId: string;
  let policyId: string;

  beforeAll(async () => {
    ({ fake, service } = await startService());
    vaultId = fake.addVault(RG, "vault-pg");
    policyId = await createDefaultPolicy(service, vaultId);
  });

  afterEach(() => {
    // Every request the client sent and every answer the fake gave kept the contract.
    expect(fake.violations).toEqual([]);
  });

  afterAll(async () => {
    await fake.stop();
  });

  describe("policies", () => {
    it("creates a policy with one synchronous PUT and reads it back with the service's tag ids", async () => {
      // Arrange
      const policy = defaultPolicyTemplate("AzureDatabaseForPostgreSQL");

      // Act
      const created = await service.createPolicy(vaultId, "oss-weekly", policy);
      const read = await service.getPolicy(vaultId, "oss-weekly");

      // Assert
      expect(created.id).toBe(`${vaultId}/backupPolicies/oss-weekly`);
      expect(read.properties.policyRules.map((r) => r.name)).toEqual(["BackupWeekly", "Default"]);
      expect(
        fake
          .requestsOf("BackupPolicies_CreateOrUpdate")
          .filter((r) => r.path.endsWith("/oss-weekly")),
      ).toHaveLength(1);
    });

    it("answers the existing policy when the same JSON is created again, without writing", async () => {
      const before = fake.requestsOf("BackupPolicies_CreateOrUpdate").length;

      const again = await service.createPolicy(
        vaultId,
        "weekly",
        defaultPolicyTemplate("AzureDatabaseForPostgreSQLFlexibleServer"),
      );

      expect(again.id).toBe(policyId);
      expect(fake.requestsOf("BackupPolicies_CreateOrUpdate")).toHaveLength(before);
    });

    it("refuses to change an existing policy in place, naming what to do instead", async () => {
      const changed = defaultPolicyTemplate("AzureDatabaseForPostgreSQLFlexibleServer");
      const retention = changed.policyRules[1];
      if (retention?.objectType !== "AzureRetentionRule" || !retention.lifecycles[0])
        throw new Error("template changed");
      retention.lifecycles[0].deleteAfter.duration = "P6M";

      const error = await rejection(service.createPolicy(vaultId, "weekly", changed));

      expect(error.code).toBe(ProviderErrorCodes.policyUpdateNotSupported);
      expect(error.recommendedAction).toMatch(/new name/);
    });

    it("lists every policy across pages", async () => {
      await service.createPolicy(
        vaultId,
        "third",
        defaultPolicyTemplate("AzureDatabaseForPostgreSQL"),
      );

      const policies = await service.listPolicies(vaultId);

      expect(policies.map((p) => p.name).sort()).toEqual(["oss-weekly", "third", "weekly"]);
      expect(
        fake.requests.some(
          (r) => r.operationId === "BackupPolicies_List" && r.path.includes("backupPolicies"),
        ),
      ).toBe(true);
    });
  });

  describe("protection", () => {
    it("protects a Flexible Server: validates, creates, follows the operation and answers it configured", async () => {
      // Arrange
      const datasourceId = flexId("pg-orders");
      const spec = backupInstanceSpecFor({ datasourceId, location: "westus", policyId });
      const name = newBackupInstanceName(datasourceId);

      // Act
      const instance = await service.createBackupInstance(vaultId, name, spec);

      // Assert
      expect(instance).toMatchObject({
        name,
        vaultName: "vault-pg",
        friendlyName: "pg-orders",
        protectionStatus: "ProtectionConfigured",
        provisioningState: "Succeeded",
        policyId,
        dataSourceInfo: {
          resourceId: datasourceId,
          datasourceType: "Microsoft.DBforPostgreSQL/flexibleServers",
        },
      });
      expect(name).toMatch(/^pg-orders-pg-orders-[0-9a-f-]{36}$/);
      const sent = fake.requestsOf("BackupInstances_CreateOrUpdate").at(-1)?.body as {
        properties: Record<string, unknown>;
      };
      expect(sent.properties["datasourceAuthCredentials"]).toBeUndefined();
      const ops = fake.requests.map((r) => r.operationId);
      expect(ops.indexOf("BackupInstances_ValidateForBackup")).toBeLessThan(
        ops.indexOf("BackupInstances_CreateOrUpdate"),
      );
      expect(ops.filter((o) => o.startsWith("OperationStatus")).length).toBeGreaterThanOrEqual(3);
    });

    it("protects a Single Server database with its Key Vault secret, server as datasource set", async () => {
      const datasourceId = dbId("pg-legacy", "empdb");
      const spec = backupInstanceSpecFor({
        datasourceId,
        location: "westus",
        policyId,
        secretUri: SECRET,
      });

      const instance = await service.createBackupInstance(
        vaultId,
        newBackupInstanceName(datasourceId),
        spec,
      );

      expect(instance.name).toMatch(/^pg-legacy-empdb-/);
      expect(instance.friendlyName).toBe("pg-legacy/empdb");
      expect(instance.secretStore).toEqual({ secretStoreType: "AzureKeyVault", uri: SECRET });
      expect(instance.dataSourceSetInfo?.resourceType).toBe("Microsoft.DBforPostgreSQL/servers");
    });

    it("answers the existing instance when the same creation is retried, without writing again", async () => {
      // Arrange
      const datasourceId = flexId("pg-retried");
      const spec = backupInstanceSpecFor({ datasourceId, location: "westus", policyId });
      const name = newBackupInstanceName(datasourceId);
      const first = await service.createBackupInstance(vaultId, name, spec);
      const writes = fake.requests.filter((r) => r.method !== "GET").length;

      // Act
      const again = await service.createBackupInstance(vaultId, name, spec);

      // Assert
      expect(again.id).toBe(first.id);
      expect(again.protectionStatus).toBe("ProtectionConfigured");
      expect(fake.requests.filter((r) => r.method !== "GET")).toHaveLength(writes);
    });

    it("writes at once when the caller already validated: one PUT and nothing else when the 201 shows it provisioned", async () => {
      // Arrange
      const datasourceId = flexId("pg-prevalidated");
      const spec = backupInstanceSpecFor({ datasourceId, location: "westus", policyId });
      const name = newBackupInstanceName(datasourceId);
      const before = fake.requests.length;

      // Act
      const instance = await service.createBackupInstance(vaultId, name, spec, { validated: true });

      // Assert
      expect(instance).toMatchObject({ name, protectionStatus: "ProtectionConfigured" });
      const ops = fake.requests.slice(before).map((r) => r.operationId);
      expect(ops).toEqual(["BackupInstances_CreateOrUpdate"]);
    });

    it("answers the existing instance when a validated creation is retried under the same name", async () => {
      // Arrange
      const datasourceId = flexId("pg-prevalidated-retried");
      const spec = backupInstanceSpecFor({ datasourceId, location: "westus", policyId });
      const name = newBackupInstanceName(datasourceId);
      const first = await service.createBackupInstance(vaultId, name, spec, { validated: true });
      const writes = fake.requests.filter((r) => r.method !== "GET").length;

      // Act
      const again = await service.createBackupInstance(vaultId, name, spec, { validated: true });

      // Assert
      expect(again.id).toBe(first.id);
      expect(again.protectionStatus).toBe("ProtectionConfigured");
      expect(fake.requests.filter((r) => r.method !== "GET")).toHaveLength(writes + 1);
    });

    it("reports an already protected datasource with the service's code and its recommended action", async () => {
      const datasourceId = flexId("pg-orders");
      const spec = backupInstanceSpecFor({ datasourceId, location: "westus", policyId });

      const error = await rejection(service.validateForBackup(vaultId, spec));

      expect(error.code).toBe("DATASOURCE_ALREADY_PROTECTED");
      expect(error.serviceCode).toBe("UserErrorDppDatasourceAlreadyProtected");
      expect(error.httpStatus).toBe(409);
      expect(error.retryable).toBe(false);
      expect(error.recommendedAction).toMatch(/pg-orders-pg-orders-/);
    });

    it("reports a missing role from the failed validation, with the detail naming the action and scope", async () => {
      const datasourceId = flexId("pg-locked");
      fake.denyPermissions(
        datasourceId,
        `The client does not have authorization to perform action 'Microsoft.DBforPostgreSQL/flexibleServers/ltrBackupOperations/read' over scope '${datasourceId}'`,
      );
      const spec = backupInstanceSpecFor({ datasourceId, location: "westus", policyId });

      const error = await rejection(
        service.createBackupInstance(vaultId, newBackupInstanceName(datasourceId), spec),
      );

      expect(error.code).toBe("MISSING_REQUIRED_PERMISSIONS");
      expect(error.serviceCode).toBe("UserErrorMissingRequiredPermissions");
      expect(error.httpStatus).toBe(403);
      expect(error.message).toContain("ltrBackupOperations/read");
      expect(error.recommendedAction).toMatch(/Grant appropriate permissions/);
      expect(
        fake.requestsOf("BackupInstances_CreateOrUpdate").some((r) => r.path.includes("pg-locked")),
      ).toBe(false);
    });

    it("reports a policy that is not in the vault as not found", async () => {
      const datasourceId = flexId("pg-nopolicy");
      const spec = backupInstanceSpecFor({
        datasourceId,
        location: "westus",
        policyId: `${vaultId}/backupPolicies/missing`,
      });

      const error = await rejection(service.validateForBackup(vaultId, spec));

      expect(error.code).toBe("POLICY_NOT_FOUND");
      expect(error.serviceCode).toBe("UserErrorPolicyNotFound");
      expect(error.httpStatus).toBe(404);
      expect(error.recommendedAction).toBeTruthy();
    });

    it("finds the instances protecting a datasource through the extension route", async () => {
      const found = await service.listBackupInstancesForDatasource(flexId("pg-orders"));

      expect(found).toHaveLength(1);
      expect(found[0]?.vaultName).toBe("vault-pg");
      expect(fake.requestsOf("BackupInstancesExtensionRouting_List").at(-1)?.path).toBe(
        `${flexId("pg-orders")}/providers/Microsoft.DataProtection/backupInstances`,
      );
    });

    it("lists the vault's instances across pages", async () => {
      const instances = await service.listBackupInstances(vaultId);

      expect(instances.map((i) => i.friendlyName).sort()).toEqual([
        "pg-legacy/empdb",
        "pg-orders",
        "pg-prevalidated",
        "pg-prevalidated-retried",
        "pg-retried",
      ]);
    });

    it("answers a missing instance as not found", async () => {
      const error = await rejection(service.getBackupInstance(vaultId, "nope"));

      expect(error.httpStatus).toBe(404);
      expect(error.code).toBe("RESOURCE_NOT_FOUND");
    });

    it.each([
      ["a code the catalogue knows", "UserErrorMissingDBPermissions", "MISSING_DB_PERMISSIONS"],
      ["a code it does not know", "UserErrorSomethingNew", "CONFIGURING_PROTECTION_FAILED"],
    ])(
      "reports protection that failed to configure with %s in the catalogue's terms, the service's code beside",
      async (_case, serviceCode, code) => {
        // Arrange
        const datasourceId = flexId(`pg-failed-${code.toLowerCase().replaceAll("_", "-")}`);
        const spec = backupInstanceSpecFor({ datasourceId, location: "westus", policyId });
        const name = newBackupInstanceName(datasourceId);
        const created = await service.createBackupInstance(vaultId, name, spec);
        fake.failProtection(created.id, { code: serviceCode, message: "it did not work" });

        // Act
        const error = await rejection(service.createBackupInstance(vaultId, name, spec));
        const instance = await service.getBackupInstance(vaultId, name);

        // Assert
        expect(error).toMatchObject({ code, serviceCode, message: "it did not work" });
        expect(error.recommendedAction).toBe("Fix it, then protect again.");
        expect(instance.protectionErrorDetails).toMatchObject({
          code: code === "CONFIGURING_PROTECTION_FAILED" ? "AZURE_REQUEST_FAILED" : code,
          serviceCode,
        });
      },
    );
  });

  describe("backups, jobs, recovery points and restores", () => {
    let instanceName: string;

    beforeAll(async () => {
      const datasourceId = flexId("pg-billing");
      instanceName = newBackupInstanceName(datasourceId);
      await service.createBackupInstance(
        vaultId,
        instanceName,
        backupInstanceSpecFor({ datasourceId, location: "westus", policyId }),
      );
    });

    it("starts an ad-hoc backup under a rule and follows its job to completion", async () => {
      // Act
      const { jobId } = await service.triggerBackup(vaultId, instanceName, {
        ruleName: "BackupWeekly",
        retentionTagOverride: "Default",
      });
      const running = await service.getJob(vaultId, jobId);
      const done = await service.getJob(vaultId, jobId);

      // Assert
      expect(jobId).toMatch(new RegExp(`^${vaultId}/backupJobs/[0-9a-f-]{36}$`));
      expect(fake.requestsOf("BackupInstances_AdhocBackup").at(-1)?.body).toEqual({
        backupRuleOptions: {
          ruleName: "BackupWeekly",
          triggerOption: { retentionTagOverride: "Default" },
        },
      });
      expect(running).toMatchObject({
        status: "InProgress",
        operation: "OnDemandBackup",
        isUserTriggered: true,
      });
      expect(running.endTime).toBeUndefined();
      expect(done).toMatchObject({
        status: "Completed",
        ruleName: "BackupWeekly",
        retentionTag: "Default",
        operationCategory: "Backup",
      });
      expect(done.duration).toMatch(/^PT/);
    });

    it("lists the instance's recovery points after the backup", async () => {
      const points = await service.listRecoveryPoints(vaultId, instanceName);

      expect(points).toHaveLength(1);
      expect(points[0]).toMatchObject({
        recoveryPointType: "Full",
        retentionTagName: "Default",
        policyName: "weekly",
      });
      expect(points[0]?.dataStores[0]?.type).toBe("VaultStore");
    });

    it("names both the rule and the tag when a tag is given as the rule name", async () => {
      const error = await rejection(
        service.triggerBackup(vaultId, instanceName, { ruleName: "Weekly" }),
      );

      expect(error.code).toBe(ProviderErrorCodes.backupRuleNotFound);
      expect(error.recommendedAction).toMatch(/BackupWeekly.*retentionTagOverride/);
    });

    it("surfaces the weekly limit as a failed job carrying the service's error", async () => {
      const { jobId } = await service.triggerBackup(vaultId, instanceName, {
        ruleName: "BackupWeekly",
      });
      fake.failJob(
        jobId,
        WEEKLY_BACKUP_LIMIT_CODE,
        "Only one backup a week is allowed for this Flexible Server.",
      );

      await service.getJob(vaultId, jobId);
      const job = await service.getJob(vaultId, jobId);

      expect(job.status).toBe("Failed");
      expect(job.errorDetails?.[0]).toMatchObject({
        code: WEEKLY_BACKUP_LIMIT_CODE,
        isUserError: true,
      });
    });

    it("lists jobs oldest first and filters them by status and instance", async () => {
      const all = await service.listJobs(vaultId);
      const failed = await service.listJobs(vaultId, {
        status: ["Failed"],
        backupInstanceName: instanceName,
      });

      expect(all.length).toBeGreaterThanOrEqual(2);
      expect([...all].sort((a, b) => a.startTime.localeCompare(b.startTime))).toEqual(all);
      expect(failed).toHaveLength(1);
      expect(failed[0]?.errorDetails?.[0]?.code).toBe(WEEKLY_BACKUP_LIMIT_CODE);
    });

    it("restores a Flexible Server as files into a blob container", async () => {
      const [point] = await service.listRecoveryPoints(vaultId, instanceName);

      const { jobId } = await service.triggerRestore(vaultId, instanceName, {
        recoveryPointId: point?.id ?? "",
        target: { kind: "files", url: "https://stpg.blob.core.windows.net/restores" },
      });
      const job = await service.getJob(vaultId, jobId);

      expect(job).toMatchObject({
        operation: "Restore",
        recoveryDestination: "https://stpg.blob.core.windows.net/restores",
      });
      const sent = fake.requestsOf("BackupInstances_TriggerRestore").at(-1)?.body as Record<
        string,
        unknown
      >;
      expect(sent).toMatchObject({
        objectType: "AzureBackupRecoveryPointBasedRestoreRequest",
        recoveryPointId: point?.recoveryPointId,
        sourceDataStoreType: "VaultStore",
        restoreTargetInfo: {
          objectType: "RestoreFilesTargetInfo",
          targetDetails: { filePrefix: instanceName, restoreTargetLocationType: "AzureBlobs" },
        },
      });
    });

    it("refuses to restore a Flexible Server into a database before calling the service", async () => {
      const before = fake.requestsOf("BackupInstances_TriggerRestore").length;

      const error = await rejection(
        service.triggerRestore(vaultId, instanceName, {
          recoveryPointId: "x",
          target: { kind: "database", targetDatabaseId: dbId("pg-legacy", "copy") },
        }),
      );

      expect(error.code).toBe(ProviderErrorCodes.invalidRestoreTarget);
      expect(fake.requestsOf("BackupInstances_TriggerRestore")).toHaveLength(before);
    });

    it("stops protection, after which backups are refused", async () => {
      const stopped = await service.stopProtection(vaultId, instanceName);
      const error = await rejection(
        service.triggerBackup(vaultId, instanceName, { ruleName: "BackupWeekly" }),
      );

      expect(stopped.protectionStatus).toBe("ProtectionStopped");
      expect(error.code).toBe(ProviderErrorCodes.protectionNotConfigured);
    });
  });

  describe("a Single Server database restore", () => {
    it("restores into a new database with the instance's secret and the target server as datasource set", async () => {
      // Arrange
      const datasourceId = dbId("pg-legacy", "hrdb");
      const name = newBackupInstanceName(datasourceId);
      await service.createBackupInstance(
        vaultId,
        name,
        backupInstanceSpecFor({ datasourceId, location: "westus", policyId, secretUri: SECRET }),
      );
      await service
        .triggerBackup(vaultId, name, { ruleName: "BackupWeekly" })
        .then(({ jobId }) => service.getJob(vaultId, jobId))
        .then((j) => service.getJob(vaultId, j.id));
      const [point] = await service.listRecoveryPoints(vaultId, name);

      // Act
      const { jobId } = await service.triggerRestore(vaultId, name, {
        recoveryPointId: point?.recoveryPointId ?? "",
        target: { kind: "database", targetDatabaseId: dbId("pg-legacy", "hrdb_restored") },
      });

      // Assert
      expect(jobId).toContain("/backupJobs/");
      const sent = fake.requestsOf("BackupInstances_TriggerRestore").at(-1)?.body;
      expect(sent).toMatchObject({
        restoreTargetInfo: {
          objectType: "RestoreTargetInfo",
          recoveryOption: "FailIfExists",
          restoreLocation: "westus",
          datasourceInfo: {
            resourceID: dbId("pg-legacy", "hrdb_restored"),
            resourceName: "hrdb_restored",
          },
          datasourceSetInfo: {
            resourceID: `${pgRg}/servers/pg-legacy`,
            resourceType: "Microsoft.DBforPostgreSQL/servers",
          },
          datasourceAuthCredentials: {
            secretStoreResource: { uri: SECRET, secretStoreType: "AzureKeyVault" },
          },
        },
      });
    });
  });
});

describe("createAzureBackupService when the service answers 202 and throttles", () => {
  let fake: FakeArm;
  let service: AzureBackupService;
  let vaultId: string;

  beforeAll(async () => {
    ({ fake, service } = await startService({ backupInstancePut: "202", retryAfterSeconds: 2 }));
    vaultId = fake.addVault(RG, "vault-two");
  });

  useFakeArmContractCheck(() => fake);

  it("follows a 202 backup instance PUT to the instance, waiting the Retry-After between polls", async () => {
    // Arrange
    const policy = await service.createPolicy(
      vaultId,
      "weekly",
      defaultPolicyTemplate("AzureDatabaseForPostgreSQLFlexibleServer"),
    );
    const datasourceId = flexId("pg-202");

    // Act
    const instance = await service.createBackupInstance(
      vaultId,
      newBackupInstanceName(datasourceId),
      backupInstanceSpecFor({ datasourceId, location: "westus", policyId: policy.id ?? "" }),
    );

    // Assert
    expect(instance.protectionStatus).toBe("ProtectionConfigured");
    const polls = fake.requests.filter((r) => r.operationId.startsWith("OperationStatus"));
    const gaps = polls.slice(1).map((r, i) => r.at - (polls[i]?.at ?? 0));
    // Retry-After: 2 s scaled by 0.02 is 40 ms; the first poll of each operation waits too.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(35);
  });

  it("waits out a burst of 429s with Retry-After and then succeeds", async () => {
    // Arrange
    fake.throttleNext(3, 1);
    const started = Date.now();

    // Act
    const vaults = await service.listPolicies(vaultId);

    // Assert
    expect(vaults).toHaveLength(1);
    const throttled = fake.requests.filter((r) => r.at >= started);
    expect(throttled.length).toBeGreaterThanOrEqual(4);
    // Three waits of 1 s scaled by 0.02.
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });
});

describe("createAzureBackupService when a 201 shows the instance still provisioning", () => {
  let fake: FakeArm;
  let service: AzureBackupService;

  beforeAll(async () => {
    ({ fake, service } = await startService({ backupInstancePut: "201-provisioning" }));
  });

  afterAll(async () => {
    expect(fake.violations).toEqual([]);
    await fake.stop();
  });

  it("follows the operation to its end and answers the instance configured", async () => {
    // Arrange
    const vaultId = fake.addVault(RG, "vault-provisioning");
    const policyId =
      (
        await service.createPolicy(
          vaultId,
          "weekly",
          defaultPolicyTemplate("AzureDatabaseForPostgreSQLFlexibleServer"),
        )
      ).id ?? "";
    const datasourceId = flexId("pg-slow");
    const spec = backupInstanceSpecFor({ datasourceId, location: "westus", policyId });
    const name = newBackupInstanceName(datasourceId);
    const before = fake.requests.length;

    // Act
    const instance = await service.createBackupInstance(vaultId, name, spec, { validated: true });

    // Assert
    expect(instance).toMatchObject({
      name,
      protectionStatus: "ProtectionConfigured",
      provisioningState: "Succeeded",
    });
    const ops = fake.requests.slice(before).map((r) => r.operationId);
    expect(ops[0]).toBe("BackupInstances_CreateOrUpdate");
    expect(ops.filter((o) => o.startsWith("OperationStatus")).length).toBeGreaterThanOrEqual(2);
  });
});

describe("createAzureBackupService when operations answer with Location only", () => {
  let fake: FakeArm;
  let service: AzureBackupService;

  beforeAll(async () => {
    ({ fake, service } = await startService({ backupInstancePut: "202", lroHeaders: "location" }));
  });

  useFakeArmContractCheck(() => fake);

  it("follows the result URL alone, from validation through creation to the backup's job", async () => {
    // Arrange
    const vaultId = fake.addVault(RG, "vault-loc");
    const policy = await service.createPolicy(
      vaultId,
      "weekly",
      defaultPolicyTemplate("AzureDatabaseForPostgreSQLFlexibleServer"),
    );
    const datasourceId = flexId("pg-location");
    const name = newBackupInstanceName(datasourceId);

    // Act
    const instance = await service.createBackupInstance(
      vaultId,
      name,
      backupInstanceSpecFor({ datasourceId, location: "westus", policyId: policy.id ?? "" }),
    );
    const { jobId } = await service.triggerBackup(vaultId, name, { ruleName: "BackupWeekly" });

    // Assert
    expect(instance.protectionStatus).toBe("ProtectionConfigured");
    expect(jobId).toContain(`${vaultId}/backupJobs/`);
    expect(fake.requests.filter((r) => r.operationId.startsWith("OperationStatus"))).toEqual([]);
    expect(
      fake.requestsOf("BackupInstances_GetBackupInstanceOperationResult").length,
    ).toBeGreaterThan(0);
    expect(fake.requestsOf("OperationResult_Get").length).toBeGreaterThan(0);
  });
});

describe("createAzureBackupService when the service carries out a request but its answer is lost", () => {
  const events: LogRecord[] = [];
  let fake: FakeArm;
  let service: AzureBackupService;
  let vaultId: string;
  let instanceName: string;

  beforeAll(async () => {
    fake = await FakeArm.start({ subscriptionId: FAKE_SUBSCRIPTION_ID, jobReadsBeforeDone: 2 });
    service = createAzureBackupService({
      credential: fakeArmCredential(),
      client: {
        endpoint: fake.url,
        tlsOptions: { ca: fake.ca },
        throttling: { retryAfterScale: SCALE },
        // The pipeline's own waits between retries of what may be repeated, shortened.
        retryOptions: { retryDelayInMs: 10, maxRetryDelayInMs: 20 },
      },
      polling: { retryAfterScale: SCALE, intervalInMs: 10 },
      lostAnswers: { lookupIntervalMs: 10 },
      log: createEventLogger((record) => events.push(record)),
    });
    vaultId = fake.addVault(RG, "vault-lost");
    const policy = await service.createPolicy(
      vaultId,
      "weekly",
      defaultPolicyTemplate("AzureDatabaseForPostgreSQLFlexibleServer"),
    );
    const datasourceId = flexId("pg-lost");
    instanceName = newBackupInstanceName(datasourceId);
    await service.createBackupInstance(
      vaultId,
      instanceName,
      backupInstanceSpecFor({ datasourceId, location: "westus", policyId: policy.id ?? "" }),
    );
  });

  useFakeArmContractCheck(() => fake);

  const backupJobs = () => fake.jobsOf(instanceName).filter((j) => j.category === "Backup");

  it.each([
    ["answers 500", "500"],
    ["closes the connection without answering", "drop"],
  ] as const)(
    "starts exactly one backup when the service %s after starting it, and follows that job to its end",
    async (_case, how) => {
      // Arrange
      const before = backupJobs().length;
      const posts = fake.requestsOf("BackupInstances_AdhocBackup").length;
      fake.loseAnswers("BackupInstances_AdhocBackup", how);

      // Act
      const { jobId } = await service.triggerBackup(vaultId, instanceName, {
        ruleName: "BackupWeekly",
      });
      const followed = await poll(
        () => service.getJob(vaultId, jobId),
        (job) => job.status !== "InProgress",
      );

      // Assert
      const jobs = backupJobs().slice(before);
      expect(jobs.map((j) => j.id)).toEqual([jobId]);
      expect(fake.requestsOf("BackupInstances_AdhocBackup")).toHaveLength(posts + 1);
      expect(followed.status).toBe("Completed");
    },
  );

  it("sends the backup again, once, when the 500 came from a service that never started it", async () => {
    // Arrange
    const before = backupJobs().length;
    const posts = fake.requestsOf("BackupInstances_AdhocBackup").length;
    fake.loseAnswers("BackupInstances_AdhocBackup", "500-undone");

    // Act
    const { jobId } = await service.triggerBackup(vaultId, instanceName, {
      ruleName: "BackupWeekly",
    });

    // Assert
    expect(
      backupJobs()
        .slice(before)
        .map((j) => j.id),
    ).toEqual([jobId]);
    expect(fake.requestsOf("BackupInstances_AdhocBackup")).toHaveLength(posts + 2);
  });

  it("reads the backup instance at most once while it looks for the job a lost backup may have started", async () => {
    // Arrange: three looks find nothing, so the backup is sent again.
    const reads = fake.requestsOf("BackupInstances_Get").length;
    const looks = fake.requestsOf("Jobs_List").length;
    fake.loseAnswers("BackupInstances_AdhocBackup", "500-undone");

    // Act
    await service.triggerBackup(vaultId, instanceName, { ruleName: "BackupWeekly" });

    // Assert
    expect(fake.requestsOf("Jobs_List").length - looks).toBeGreaterThanOrEqual(3);
    expect(fake.requestsOf("BackupInstances_Get").length - reads).toBeLessThanOrEqual(1);
    expect(events.at(-1)?.event.name).toBe("PgProtect.Azure.LostAnswerResent");
    expect(events.at(-1)?.properties).toMatchObject({
      operation: "Starting the backup",
      subject: `backup instance ${instanceName}`,
      send: 2,
      maxSends: 2,
    });
  });

  it("fails with RequestOutcomeUnknown and sends nothing again when the answer is lost and the jobs cannot be read", async () => {
    // Arrange: the backup starts but its answer is lost, and the job list fails each retry.
    const posts = fake.requestsOf("BackupInstances_AdhocBackup").length;
    fake.loseAnswers("BackupInstances_AdhocBackup", "500");
    fake.loseAnswers("Jobs_List", "500-undone", 4);

    // Act
    const error = await rejection(
      service.triggerBackup(vaultId, instanceName, { ruleName: "BackupWeekly" }),
    );

    // Assert
    expect(error).toMatchObject({
      code: ProviderErrorCodes.requestOutcomeUnknown,
      retryable: false,
    });
    expect(error.message).toContain("whether it started was not found out");
    expect(error.recommendedAction).toContain(`backup instance ${instanceName}`);
    expect(fake.requestsOf("BackupInstances_AdhocBackup")).toHaveLength(posts + 1);
    // The job the lost request started runs to its end, leaving the instance as it was.
    const started = backupJobs().at(-1)?.id ?? "";
    await poll(
      () => service.getJob(vaultId, started),
      (job) => job.status !== "InProgress",
    );
  });

  it("starts exactly one restore when the service answers 500 after starting it", async () => {
    // Arrange
    const [point] = await service.listRecoveryPoints(vaultId, instanceName);
    fake.loseAnswers("BackupInstances_TriggerRestore", "500");

    // Act
    const { jobId } = await service.triggerRestore(vaultId, instanceName, {
      recoveryPointId: point?.recoveryPointId ?? "",
      target: { kind: "files", url: "https://stpg.blob.core.windows.net/restores" },
    });

    // Assert
    const restores = fake.jobsOf(instanceName).filter((j) => j.category === "Restore");
    expect(restores.map((j) => j.id)).toEqual([jobId]);
    expect(fake.requestsOf("BackupInstances_TriggerRestore")).toHaveLength(1);
  });

  it("stops protection once when the answer to the stop is lost", async () => {
    // Arrange
    fake.loseAnswers("BackupInstances_StopProtection", "drop");

    // Act
    const stopped = await service.stopProtection(vaultId, instanceName);

    // Assert
    expect(stopped.protectionStatus).toBe("ProtectionStopped");
    expect(fake.requestsOf("BackupInstances_StopProtection")).toHaveLength(1);
  });
});

describe("createAzureBackupService when the service answers only what the contract requires", () => {
  let fake: FakeArm;
  let service: AzureBackupService;
  let vaultId: string;
  let policyId: string;
  let instanceName: string;

  beforeAll(async () => {
    ({ fake, service } = await startService({ answers: "required-only" }));
    vaultId = fake.addVault(RG, "vault-bare");
    policyId = await createDefaultPolicy(service, vaultId);
  });

  useFakeArmContractCheck(() => fake);

  it("answers the policy again when the same JSON is created again, though the service omits most of it", async () => {
    const again = await service.createPolicy(
      vaultId,
      "weekly",
      defaultPolicyTemplate("AzureDatabaseForPostgreSQLFlexibleServer"),
    );

    expect(again.id).toBe(policyId);
    expect(fake.requestsOf("BackupInstances_CreateOrUpdate")).toEqual([]);
    expect(fake.requestsOf("BackupPolicies_CreateOrUpdate")).toHaveLength(1);
  });

  it("protects a Flexible Server: configured, named as the tools name it, created at a valid time", async () => {
    // Arrange
    const datasourceId = flexId("pg-bare");
    instanceName = newBackupInstanceName(datasourceId);
    const before = Date.now();

    // Act
    const instance = await service.createBackupInstance(
      vaultId,
      instanceName,
      backupInstanceSpecFor({ datasourceId, location: "westus", policyId }),
    );

    // Assert
    expect(instance).toMatchObject({
      name: instanceName,
      id: `${vaultId}/backupInstances/${instanceName}`,
      friendlyName: "pg-bare",
      protectionStatus: "ProtectionConfigured",
      dataSourceInfo: {
        resourceId: datasourceId,
        datasourceType: "Microsoft.DBforPostgreSQL/flexibleServers",
        resourceName: "pg-bare",
      },
    });
    expect(Date.parse(instance.createdAt)).toBeGreaterThanOrEqual(before - 1000);
    const listed = await service.listBackupInstances(vaultId);
    expect(listed.map((i) => [i.friendlyName, i.protectionStatus])).toEqual([
      ["pg-bare", "ProtectionConfigured"],
    ]);
  });

  it("starts an ad-hoc backup whose answer names no job, finds that job and follows it to completion", async () => {
    // Act
    const { jobId } = await service.triggerBackup(vaultId, instanceName, {
      ruleName: "BackupWeekly",
    });
    const done = await poll(
      () => service.getJob(vaultId, jobId),
      (job) => job.status !== "InProgress",
    );

    // Assert
    expect(fake.jobsOf(instanceName).map((j) => j.id)).toEqual([jobId]);
    expect(done).toMatchObject({ status: "Completed", operation: "OnDemandBackup" });
    expect(Date.parse(done.endTime ?? "")).not.toBeNaN();
    const ofInstance = await service.listJobs(vaultId, {
      backupInstanceName: instanceName,
      status: ["Completed"],
    });
    expect(ofInstance.map((j) => j.id)).toEqual([jobId]);
  });

  it("lists the recovery point in the vault store and restores it as files, finding the restore's job", async () => {
    // Arrange
    const [point] = await service.listRecoveryPoints(vaultId, instanceName);

    // Act
    const { jobId } = await service.triggerRestore(vaultId, instanceName, {
      recoveryPointId: point?.id ?? "",
      target: { kind: "files", url: "https://stpg.blob.core.windows.net/restores" },
    });
    const job = await service.getJob(vaultId, jobId);

    // Assert
    expect(point?.dataStores.map((d) => d.type)).toEqual(["VaultStore"]);
    expect(point?.id).toContain(`/backupInstances/${instanceName}/recoveryPoints/`);
    expect(job.operation).toBe("Restore");
    expect(fake.jobsOf(instanceName).filter((j) => j.category === "Restore")).toHaveLength(1);
    const sent = fake.requestsOf("BackupInstances_TriggerRestore").at(-1)?.body as Record<
      string,
      Record<string, unknown>
    >;
    // The vault's region stands in for the datasource's, which the answers omit.
    expect(sent.restoreTargetInfo?.restoreLocation).toBe("westus");
  });

  it("stops protection, reported as stopped though the service does not say", async () => {
    const stopped = await service.stopProtection(vaultId, instanceName);

    expect(stopped.protectionStatus).toBe("ProtectionStopped");
  });
});

describe("createAzureBackupService waits for an operation only a short while", () => {
  /** Polls of the service's status monitors, under any of their scopes. */
  const statusPolls = (fake: FakeArm) =>
    fake.requests.filter((r) => /^Operation|OperationResult$/.test(r.operationId)).length;

  let fake: FakeArm;
  let service: AzureBackupService;
  let vaultId: string;
  let policyId: string;

  beforeAll(async () => {
    // Operations that outlast any bound the test sets: the service is still at work.
    fake = await FakeArm.start({
      subscriptionId: FAKE_SUBSCRIPTION_ID,
      pollsBeforeDone: 1_000,
      backupInstancePut: "202",
    });
    service = createAzureBackupService({
      credential: fakeArmCredential(),
      client: {
        endpoint: fake.url,
        tlsOptions: { ca: fake.ca },
        throttling: { retryAfterScale: SCALE },
      },
      // Retry-After 1 s scaled to 20 ms: five waits fit within the bound, the sixth does not.
      polling: { retryAfterScale: SCALE, intervalInMs: 10, maxWaitMs: 100 },
    });
    vaultId = fake.addVault(RG, "vault-slow");
    policyId = await createDefaultPolicy(service, vaultId);
  });

  useFakeArmContractCheck(() => fake);

  it("answers a new backup instance still configuring instead of waiting for it", async () => {
    // Arrange
    const datasourceId = flexId("pg-slow");
    const spec = backupInstanceSpecFor({ datasourceId, location: "westus", policyId });
    const name = newBackupInstanceName(datasourceId);
    const pollsBefore = statusPolls(fake);

    // Act
    const instance = await service.createBackupInstance(vaultId, name, spec, { validated: true });

    // Assert
    expect(instance).toMatchObject({ name, protectionStatus: "ConfiguringProtection" });
    expect(statusPolls(fake) - pollsBefore).toBeLessThanOrEqual(5);
  });

  it("fails a validation still running with a retryable OperationStillRunning", async () => {
    const datasourceId = flexId("pg-slow-validation");
    const spec = backupInstanceSpecFor({ datasourceId, location: "westus", policyId });

    const error = await rejection(service.validateForBackup(vaultId, spec));

    expect(error.code).toBe(ProviderErrorCodes.operationStillRunning);
    expect(error.retryable).toBe(true);
  });

  it("leaves the waiting to the orchestration: the activities answer or throw within the bound", async () => {
    // Arrange: the activities over this service, as the Functions host runs them.
    const activities = createActivities({
      provider: { backup: service, secrets: {}, directory: {}, access: undefined },
      events: { publish: async () => undefined },
      eventSource: "/pgprotect/test",
    } as unknown as ActivityDependencies);
    const datasource = {
      datasourceId: flexId("pg-slow-activity"),
      kind: "server" as const,
      datasourceType: "Microsoft.DBforPostgreSQL/flexibleServers",
      serverName: "pg-slow-activity",
      friendlyName: "pg-slow-activity",
      location: "westus",
      tags: {},
    };
    const request = { vaultId, policyName: "weekly", datasource };

    // Act
    const validation = activities.validateForBackup(request).then(
      () => undefined,
      (error: unknown) => error,
    );
    const created = await activities.createBackupInstance({
      ...request,
      backupInstanceName: newBackupInstanceName(datasource.datasourceId),
    });

    // Assert: the validation is thrown, so the durable retry asks again; the instance is answered
    // still configuring, for protectDatasource's durable timers to follow.
    expect(await validation).toMatchObject({
      code: ProviderErrorCodes.operationStillRunning,
      retryable: true,
    });
    expect(created).toMatchObject({
      ok: true,
      value: { protectionStatus: "ConfiguringProtection" },
    });
  });
});
