import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createActivities } from "../../../../src/activities/createActivities.js";
import type { WatchedJob } from "../../../../src/activities/names.js";
import { defaultPolicyTemplate } from "../../../../src/domain/policy/template.js";
import {
  jobWatcher,
  type JobWatcherInput,
  type JobWatcherOutput,
} from "../../../../src/orchestrations/jobWatcher.js";
import { type AzureServices } from "../../../../src/providers/azure/azureServices.js";
import {
  backupInstanceSpecFor,
  newBackupInstanceName,
} from "../../../../src/providers/azure/backupInstanceBuilder.js";
import type { JobFilter, PublishedEvent } from "../../../../src/providers/ports.js";
import { listJobsOfVaults } from "../../../../src/application/vaultJobs.js";
import {
  azureServicesAgainst,
  FAKE_SUBSCRIPTION_ID,
  FakeArm,
} from "../../../support/fakeArm/index.js";
import { runOrchestration } from "../../../support/fakeArm/orchestrationRunner.js";

type Activities = Record<string, (input: never) => Promise<unknown>>;

describe("jobs of several vaults through Resource Graph on the Azure provider, against the fake Resource Manager", () => {
  let fake: FakeArm;
  let services: AzureServices;
  /** The watched vaults: two resource groups, three vaults. */
  const vaultIds: string[] = [];
  /** A vault named like a watched one, in a resource group the app does not watch. */
  let otherVaultId: string;
  const datasources: Record<string, string> = {};
  const instances: Record<string, string> = {};
  const jobIds: string[] = [];
  let otherJobId: string;
  const published: PublishedEvent[] = [];

  /** Resource Graph's job queries (the directory asks it for servers too). */
  const jobQueries = () =>
    fake
      .requestsOf("Resources")
      .filter((r) => String((r.body as { query?: unknown }).query).startsWith("RecoveryServices"));
  /** What the requests of `work` cost: job queries and Resource Manager job lists. */
  const costOf = async <T>(work: () => Promise<T>) => {
    const queries = jobQueries().length;
    const lists = fake.requestsOf("Jobs_List").length;
    const result = await work();
    return {
      result,
      graphQueries: jobQueries().length - queries,
      armLists: fake.requestsOf("Jobs_List").length - lists,
    };
  };
  /** The same provider without its cross-vault source: each vault listed through Resource Manager. */
  const vaultByVault = () => ({
    backup: services.backup,
    secrets: services.secrets,
    directory: services.directory,
  });
  const activitiesOver = (provider: ReturnType<typeof vaultByVault> | AzureServices) =>
    createActivities({
      provider,
      // Event Grid stands behind this port in Azure; the events are kept to assert on.
      events: {
        publish: async (events) => {
          published.push(...events);
        },
      },
      eventSource: "/pgprotect/test",
    }) as unknown as Activities;

  /** Protects a new Flexible Server in the vault and backs it up on demand `backups` times. */
  const protectAndBackUp = async (vaultId: string, server: string, backups: number) => {
    const datasourceId = fake.addPostgresServer({
      resourceGroup: "rg-db",
      name: server,
      kind: "flexibleServers",
      tags: { team: server },
    });
    const policy = await services.backup.createPolicy(
      vaultId,
      "weekly",
      defaultPolicyTemplate("AzureDatabaseForPostgreSQLFlexibleServer"),
    );
    const name = newBackupInstanceName(datasourceId);
    await services.backup.createBackupInstance(
      vaultId,
      name,
      backupInstanceSpecFor({ datasourceId, location: "westus", policyId: policy.id ?? "" }),
    );
    const started: string[] = [];
    for (let i = 0; i < backups; i += 1) {
      const { jobId } = await services.backup.triggerBackup(vaultId, name, {
        ruleName: "BackupWeekly",
      });
      started.push(jobId);
    }
    datasources[server] = datasourceId;
    instances[server] = name;
    return started;
  };
  /** Reads a job until the fake reports it ended, as the ad-hoc backup orchestration does. */
  const finish = async (jobId: string) => {
    const vaultId = jobId.split("/backupJobs/")[0] ?? "";
    await services.backup.getJob(vaultId, jobId);
    await services.backup.getJob(vaultId, jobId);
  };

  beforeAll(async () => {
    fake = await FakeArm.start({ subscriptionId: FAKE_SUBSCRIPTION_ID });
    services = azureServicesAgainst(fake);
    vaultIds.push(
      fake.addVault("rg-backup", "vault-east"),
      fake.addVault("rg-backup", "vault-west"),
      fake.addVault("rg-backup-eu", "vault-north"),
    );
    otherVaultId = fake.addVault("rg-other-team", "vault-east");
    const [east, west, north] = vaultIds as [string, string, string];
    jobIds.push(
      ...(await protectAndBackUp(east, "pg-east", 3)),
      ...(await protectAndBackUp(west, "pg-west", 2)),
      ...(await protectAndBackUp(north, "pg-north", 2)),
    );
    [otherJobId = ""] = await protectAndBackUp(otherVaultId, "pg-other", 1);
    // Ended jobs of every vault, one failed and one scheduled; the last job of each stays running.
    fake.failJob(jobIds[3] ?? "", "UserErrorBackupLimitPerWeekReached", "One backup a week.");
    fake.markScheduled(jobIds[5] ?? "");
    for (const index of [0, 1, 3, 5]) await finish(jobIds[index] ?? "");
    await finish(otherJobId);
  });

  afterEach(() => {
    // Every Data Protection request and answer kept the contract; every query was one the fake knows.
    expect(fake.violations).toEqual([]);
  });

  afterAll(async () => {
    await fake?.stop();
  });

  it("lists the jobs of three vaults with one Resource Graph query, where vault by vault costs a Resource Manager list per vault, and returns the same jobs in the same order", async () => {
    // Arrange
    const expected = await costOf(() => listJobsOfVaults(vaultByVault(), vaultIds));

    // Act
    const listed = await costOf(() => services.jobs.listJobsAcrossVaults(vaultIds));

    // Assert
    expect(listed.graphQueries).toBe(1);
    expect(listed.armLists).toBe(0);
    expect(expected.armLists).toBeGreaterThanOrEqual(3);
    expect(listed.result.map((job) => job.id)).toEqual(jobIds);
    expect(listed.result).toEqual(expected.result);
    expect(new Set(listed.result.map((job) => job.status))).toEqual(
      new Set(["Completed", "Failed", "InProgress"]),
    );
  });

  it("leaves out a vault of the same name in a resource group the app does not watch", async () => {
    // Act
    const jobs = await services.jobs.listJobsAcrossVaults([vaultIds[0] ?? ""]);

    // Assert: the query asks by vault name, which both vaults share.
    expect(jobs.map((job) => job.id)).toEqual(jobIds.slice(0, 3));
    expect(jobs.map((job) => job.id)).not.toContain(otherJobId);
    expect((await services.jobs.listJobsAcrossVaults([otherVaultId])).map((job) => job.id)).toEqual(
      [otherJobId],
    );
  });

  it("answers every filter with the jobs Resource Manager lists vault by vault, in one query each", async () => {
    // Arrange: a watermark on a job's own start must list that job, as Resource Manager does.
    const startOf = async (jobId: string) =>
      (await services.backup.getJob(jobId.split("/backupJobs/")[0] ?? "", jobId)).startTime;
    const filters: Record<string, JobFilter> = {
      failed: { status: ["Failed"] },
      running: { status: ["InProgress"] },
      ended: { status: ["Completed", "Cancelled"] },
      scheduled: { operation: ["ScheduledBackup"] },
      datasource: { datasourceId: (datasources["pg-west"] ?? "").toUpperCase() },
      instance: { backupInstanceName: instances["pg-north"] ?? "" },
      sinceAStart: { since: await startOf(jobIds[4] ?? "") },
    };

    for (const [name, filter] of Object.entries(filters)) {
      // Act
      const expected = await listJobsOfVaults(vaultByVault(), vaultIds, filter);
      const listed = await costOf(() => services.jobs.listJobsAcrossVaults(vaultIds, filter));

      // Assert
      expect({ name, jobs: listed.result }).toEqual({ name, jobs: expected });
      expect({ name, queries: listed.graphQueries, lists: listed.armLists }).toEqual({
        name,
        queries: 1,
        lists: 0,
      });
    }
    const failed = await services.jobs.listJobsAcrossVaults(vaultIds, filters.failed);
    const instance = await services.jobs.listJobsAcrossVaults(vaultIds, filters.instance);
    const since = await services.jobs.listJobsAcrossVaults(vaultIds, filters.sinceAStart);
    expect(failed.map((job) => job.id)).toEqual([jobIds[3]]);
    expect(failed[0]?.errorDetails?.[0]).toMatchObject({
      code: "BACKUP_LIMIT_PER_WEEK_REACHED",
      serviceCode: "UserErrorBackupLimitPerWeekReached",
    });
    expect(instance.map((job) => job.id)).toEqual(jobIds.slice(5));
    expect(since.map((job) => job.id)).toContain(jobIds[4]);
  });

  it("gives the job watcher's listing activity the jobs of every vault with their datasources' tags, from one query", async () => {
    // Arrange
    const input = { vaultIds, since: new Date(Date.now() - 10 * 60_000).toISOString() };
    const expected = (await activitiesOver(vaultByVault()).listJobsSince?.(
      input as never,
    )) as WatchedJob[];

    // Act
    const listed = await costOf(
      async () => (await activitiesOver(services).listJobsSince?.(input as never)) as WatchedJob[],
    );

    // Assert
    expect(listed.graphQueries).toBe(1);
    expect(listed.armLists).toBe(0);
    expect(listed.result).toEqual(expected);
    expect(listed.result.map((watched) => watched.job.id)).toEqual(jobIds);
    expect(listed.result[0]?.datasourceTags).toEqual({ team: "pg-east" });
  });

  it("publishes a job Resource Graph shows late on the watcher's next pass, once", async () => {
    // Arrange: the watcher has published every job so far.
    const activities = activitiesOver(services);
    const watch = (state?: JobWatcherOutput) =>
      runOrchestration<JobWatcherOutput>(
        jobWatcher,
        { vaultIds, ...(state ? { state } : {}) } satisfies JobWatcherInput,
        activities,
      );
    const first = await watch();
    const [lateJobId = ""] = await protectAndBackUp(vaultIds[1] ?? "", "pg-late", 1);
    fake.lagInGraph(lateJobId);
    await finish(lateJobId);
    published.length = 0;

    // Act
    const beforeIndexed = await watch(first.output);
    fake.indexInGraph(lateJobId);
    const afterIndexed = await watch(beforeIndexed.output);
    const later = await watch(afterIndexed.output);

    // Assert
    expect(first.output.published).toBe(jobIds.length);
    expect(beforeIndexed.output.published).toBe(0);
    expect(afterIndexed.output.published).toBe(1);
    expect(later.output.published).toBe(0);
    expect(
      published.map((event) => [event.subject, (event.data as { status: string }).status]),
    ).toEqual([[lateJobId, "Completed"]]);
  });
});
