import { beforeAll, describe, expect, it } from "vitest";
import { defaultPolicyTemplate } from "../../../../src/domain/policy/template.js";
import {
  createAzureBackupService,
  type AzureBackupService,
} from "../../../../src/providers/azure/azureBackupService.js";
import {
  backupInstanceSpecFor,
  newBackupInstanceName,
} from "../../../../src/providers/azure/backupInstanceBuilder.js";
import {
  createResourceGraphJobSource,
  type ResourceGraphJobSource,
} from "../../../../src/providers/azure/resourceGraphJobs.js";
import {
  FAKE_SUBSCRIPTION_ID,
  FakeArm,
  fakeArmCredential,
} from "../../../support/fakeArm/index.js";
import { useFakeArmContractCheck } from "../../../support/fakeArm/hooks.js";

const flexId = (name: string) =>
  `/subscriptions/${FAKE_SUBSCRIPTION_ID}/resourceGroups/rg-db/providers/Microsoft.DBforPostgreSQL/flexibleServers/${name}`;

describe("backup jobs across vaults through Resource Graph", () => {
  let fake: FakeArm;
  let service: AzureBackupService;
  let source: ResourceGraphJobSource;
  const jobIds: string[] = [];

  beforeAll(async () => {
    // Two queries per 400 ms window stand in for Resource Graph's 15 per 5 s.
    fake = await FakeArm.start({
      subscriptionId: FAKE_SUBSCRIPTION_ID,
      graphQuota: { queries: 2, windowMs: 400 },
    });
    const client = { endpoint: fake.url, tlsOptions: { ca: fake.ca } };
    service = createAzureBackupService({
      credential: fakeArmCredential(),
      client: { ...client, throttling: { retryAfterScale: 0.01 } },
      polling: { retryAfterScale: 0.01, intervalInMs: 5 },
    });
    // The fake's windows are 400 ms but, like the service, it reports them in whole seconds.
    source = createResourceGraphJobSource({
      credential: fakeArmCredential(),
      endpoint: fake.url,
      client,
      pageSize: 2,
      quota: { waitScale: 0.4 },
    });
    for (const vaultName of ["vault-east", "vault-west"]) {
      const vaultId = fake.addVault("rg-backup", vaultName);
      const policy = await service.createPolicy(
        vaultId,
        "weekly",
        defaultPolicyTemplate("AzureDatabaseForPostgreSQLFlexibleServer"),
      );
      const datasourceId = flexId(`pg-${vaultName}`);
      const name = newBackupInstanceName(datasourceId);
      await service.createBackupInstance(
        vaultId,
        name,
        backupInstanceSpecFor({ datasourceId, location: "westus", policyId: policy.id ?? "" }),
      );
      for (let i = 0; i < 2; i += 1) {
        const { jobId } = await service.triggerBackup(vaultId, name, { ruleName: "BackupWeekly" });
        jobIds.push(jobId);
      }
    }
    fake.failJob(jobIds[3] ?? "", "UserErrorBackupLimitPerWeekReached", "One backup a week.");
    fake.markScheduled(jobIds[0] ?? "");
    for (const jobId of jobIds) {
      const vaultId = jobId.split("/backupJobs/")[0] ?? "";
      await service.getJob(vaultId, jobId);
      await service.getJob(vaultId, jobId);
    }
  });

  useFakeArmContractCheck(() => fake);

  it("finds every job of every vault, oldest first, following $skipToken pages", async () => {
    // Act
    const jobs = await source.listJobs({ subscriptions: [FAKE_SUBSCRIPTION_ID] });

    // Assert
    expect(jobs.map((j) => j.id)).toEqual(jobIds);
    expect(new Set(jobs.map((j) => j.vaultName))).toEqual(new Set(["vault-east", "vault-west"]));
    const queries = fake.requestsOf("Resources");
    expect(queries.length).toBeGreaterThanOrEqual(2);
    expect((queries[0]?.body as { query: string }).query).toMatch(
      /^RecoveryServicesResources \| where type =~ 'microsoft.dataprotection\/backupvaults\/backupjobs'/,
    );
  });

  it("filters in the query by status, operation and vault, as the CLI does", async () => {
    const failed = await source.listJobs({
      subscriptions: [FAKE_SUBSCRIPTION_ID],
      status: ["Failed"],
    });
    const scheduled = await source.listJobs({
      subscriptions: [FAKE_SUBSCRIPTION_ID],
      operation: ["ScheduledBackup"],
    });
    const west = await source.listJobs({
      subscriptions: [FAKE_SUBSCRIPTION_ID],
      vaultNames: ["VAULT-WEST"],
      status: ["Completed"],
    });

    expect(failed.map((j) => j.id)).toEqual([jobIds[3]]);
    expect(failed[0]?.errorDetails?.[0]).toMatchObject({
      code: "BACKUP_LIMIT_PER_WEEK_REACHED",
      serviceCode: "UserErrorBackupLimitPerWeekReached",
    });
    expect(scheduled.map((j) => j.id)).toEqual([jobIds[0]]);
    expect(west.map((j) => j.id)).toEqual([jobIds[2]]);
  });

  it("waits for the quota window when the user's Resource Graph quota is spent, instead of failing", async () => {
    // Arrange
    const before = fake.requestsOf("Resources").length;

    // Act
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        source.listJobs({ subscriptions: [FAKE_SUBSCRIPTION_ID], status: ["Failed"] }),
      ),
    );

    // Assert
    expect(results.every((jobs) => jobs.length === 1)).toBe(true);
    const queries = fake.requestsOf("Resources").slice(before);
    const spanMs = (queries.at(-1)?.at ?? 0) - (queries[0]?.at ?? 0);
    // Six queries at two per 400 ms window need at least two more windows.
    expect(spanMs).toBeGreaterThanOrEqual(700);
  });
});
