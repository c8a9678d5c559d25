import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  beginDrill,
  drillOutcome,
  finishDrill,
  startScratchRestore,
  type DrillStepDependencies,
} from "../../../src/application/drillsSteps.js";
import type { DrillRecord } from "../../../src/domain/drills/drill.js";
import type { BackupInstance, RecoveryPoint } from "../../../src/domain/protection/types.js";
import { openSqliteDrillHistory } from "../../../src/providers/history/sqliteDrillHistory.js";
import { rejection } from "../../support/appError.js";
import { restoreDrillEvent } from "../../../src/domain/events/drillEvents.js";
import { parsePgProtectEvent } from "../../../src/domain/events/schema.js";
import { describeEvent } from "../../../src/domain/notifications/view.js";
import { backupJob } from "../../support/notificationFixtures.js";

const begun: DrillRecord = {
  id: "drill-nightly-local-sales-20261207t030000z",
  backupInstanceId: "/subscriptions/x/backupInstances/local-sales-1",
  backupInstanceName: "local-sales-1",
  friendlyName: "local/sales",
  vaultName: "pgprotect-vault",
  datasourceId: "/subscriptions/x/databases/sales",
  datasourceName: "sales",
  schedule: "nightly",
  verdict: "InProgress",
  startTime: "2026-12-07T03:00:00.000Z",
  recoveryPointId: "rp1",
  scratchTarget: "pgprotect_drill_0123456789abcdef01234567",
};

const verification = {
  verified: true,
  tables: 2,
  rows: 5200,
  largeObjects: 0,
  mismatches: [],
};

describe("a drill's verdict", () => {
  it("succeeds on a completed, verified restore, timed from the job's start to its end", () => {
    const job = backupJob({
      operation: "Restore",
      operationCategory: "Restore",
      status: "Completed",
      startTime: "2026-12-07T03:00:01.000Z",
      endTime: "2026-12-07T03:00:13.500Z",
      restoreVerification: verification,
    });

    const drill = drillOutcome({
      drill: begun,
      job,
      scratchRemoved: true,
      at: "2026-12-07T03:00:14.000Z",
    });

    expect(drill).toMatchObject({
      verdict: "Succeeded",
      timeToRestoreMs: 12_500,
      endTime: "2026-12-07T03:00:14.000Z",
      scratchRemoved: true,
    });
    expect(drill.error).toBeUndefined();
  });

  it("takes the verification of a restore loaded from files, and times it from the job's start until the load verified it", () => {
    const job = backupJob({
      operation: "Restore",
      operationCategory: "Restore",
      status: "Completed",
      startTime: "2026-12-07T03:00:01.000Z",
      endTime: "2026-12-07T03:00:11.000Z",
    });

    const drill = drillOutcome({
      drill: begun,
      job,
      loaded: { verification, seconds: { download: 0.5, load: 2, verify: 1.25 } },
      scratchRemoved: true,
      at: "2026-12-07T03:00:20.000Z",
    });

    expect(drill).toMatchObject({ verdict: "Succeeded", timeToRestoreMs: 13_750, verification });
  });

  it("fails on a restore whose data differ, naming the differences, with no time to restore", () => {
    const job = backupJob({
      operation: "Restore",
      operationCategory: "Restore",
      status: "Completed",
      endTime: "2026-12-07T03:00:13.500Z",
      restoreVerification: { ...verification, verified: false, mismatches: ["public.a: 3 rows"] },
    });

    const drill = drillOutcome({ drill: begun, job, scratchRemoved: true, at: begun.startTime });

    expect(drill.verdict).toBe("Failed");
    expect(drill.error).toMatchObject({ code: "RESTORE_VERIFICATION_FAILED" });
    expect(drill.error?.message).toContain("public.a: 3 rows");
  });

  it("fails with the error it was given when no restore ran, and announces it as DrillFailed", () => {
    const { recoveryPointId: _none, ...withoutPoint } = begun;

    const drill = drillOutcome({
      drill: withoutPoint,
      error: { code: "NO_RECOVERY_POINT", message: "no recovery point to restore" },
      scratchRemoved: true,
      at: "2026-12-07T03:00:02.000Z",
    });

    const event = parsePgProtectEvent(
      JSON.parse(JSON.stringify(restoreDrillEvent(drill, { source: "/pgprotect/test" }))),
    );
    const view = describeEvent(event);

    expect(drill).toMatchObject({ verdict: "Failed", error: { code: "NO_RECOVERY_POINT" } });
    expect(event.type).toBe("PgProtect.Restore.DrillFailed");
    expect(view.title).toBe("Restore drill failed");
    expect(view.facts).toContainEqual({
      title: "Status",
      value: "Not proven restorable: no recovery point to restore",
    });
  });
});

describe("a whole server's drill verdict", () => {
  const job = backupJob({
    operation: "Restore",
    operationCategory: "Restore",
    status: "Completed",
    startTime: "2026-12-07T03:00:01.000Z",
    endTime: "2026-12-07T03:00:11.000Z",
  });
  const database = (databaseName: string, rows: number) => ({
    databaseName,
    scratchTarget: `${begun.scratchTarget}_${databaseName.padEnd(10, "0")}`,
    verdict: "Succeeded" as const,
    verification: { ...verification, tables: 1, rows },
    seconds: 2,
  });

  it("succeeds when every database was verified, summing their verification, timed from the job's start until the last load", () => {
    const drill = drillOutcome({
      drill: begun,
      job,
      databases: [database("hr", 10), database("sales", 30)],
      databasesMs: 4_500,
      scratchRemoved: true,
      at: "2026-12-07T03:00:20.000Z",
    });

    expect(drill).toMatchObject({
      verdict: "Succeeded",
      timeToRestoreMs: 14_500,
      verification: { verified: true, tables: 2, rows: 40, mismatches: [] },
      databases: [{ databaseName: "hr" }, { databaseName: "sales" }],
    });
    expect(drill.error).toBeUndefined();
  });

  it("fails when one database failed, naming it under its own code, and keeps the others' results", () => {
    const drill = drillOutcome({
      drill: begun,
      job,
      databases: [
        {
          databaseName: "hr",
          scratchTarget: `${begun.scratchTarget}_hr00000000`,
          verdict: "Failed",
          error: {
            code: "MISSING_DB_PERMISSIONS",
            message: "permission denied to create event trigger",
          },
        },
        database("sales", 30),
      ],
      databasesMs: 4_500,
      scratchRemoved: true,
      at: "2026-12-07T03:00:20.000Z",
    });

    expect(drill.verdict).toBe("Failed");
    expect(drill.error).toEqual({
      code: "MISSING_DB_PERMISSIONS",
      message: "1 of 2 databases failed: hr: permission denied to create event trigger",
    });
    expect(drill.verification).toMatchObject({ verified: false, tables: 1, rows: 30 });
    expect(drill.databases?.[1]).toMatchObject({ databaseName: "sales", verdict: "Succeeded" });
  });

  it("keeps ten mismatches of a database in the record and counts the rest", () => {
    const mismatches = Array.from({ length: 25 }, (_, i) => `public.t${i}: rows differ`);

    const drill = drillOutcome({
      drill: begun,
      job,
      databases: [
        {
          ...database("hr", 10),
          verdict: "Failed",
          verification: { ...verification, verified: false, mismatches },
          error: { code: "RESTORE_VERIFICATION_FAILED", message: "differ" },
        },
      ],
      scratchRemoved: true,
      at: "2026-12-07T03:00:20.000Z",
    });

    expect(drill.databases?.[0]?.verification?.mismatches).toHaveLength(11);
    expect(drill.databases?.[0]?.verification?.mismatches.at(-1)).toBe("... and 15 more");
  });
});

describe("beginning a drill in its turn", () => {
  const folders: string[] = [];
  const closers: (() => void)[] = [];

  afterEach(() => {
    for (const close of closers.splice(0)) close();
    for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  });

  async function stepsWithHistory(maxConcurrentDrills: number) {
    const folder = mkdtempSync(path.join(tmpdir(), "pgprotect-drill-turns-"));
    folders.push(folder);
    const history = await openSqliteDrillHistory(folder);
    closers.push(() => history.close());
    const instance = (name: string) =>
      ({
        id: `/v/backupInstances/${name}`,
        name,
        friendlyName: `local/${name}`,
        dataSourceInfo: { resourceId: `/s/databases/${name}`, resourceName: name },
      }) as unknown as BackupInstance;
    const deps = {
      provider: {
        backup: {
          getBackupInstance: async (_vault: string, name: string) => instance(name),
          listRecoveryPoints: async () =>
            [
              { recoveryPointId: "rp1", recoveryPointTime: "2026-12-07T00:00:00Z" },
            ] as RecoveryPoint[],
        },
      },
      events: { publish: async () => undefined },
      eventSource: "/pgprotect/test",
      drills: history,
      maxConcurrentDrills,
    } as unknown as DrillStepDependencies;
    return { deps, history };
  }

  it("keeps a drill on demand waiting while DRILL_MAX_CONCURRENT drills that began before it run, and lets it go once one ended", async () => {
    // Arrange: one drill of another instance runs; this one was recorded when it was asked for.
    const { deps, history } = await stepsWithHistory(1);
    const running = await beginDrill(deps, {
      drillId: "drill-nightly-sales-1",
      vaultId:
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/v",
      backupInstanceName: "sales",
      schedule: "nightly",
      at: "2026-12-07T03:00:00.000Z",
      bounded: true,
    });
    const onDemand = {
      drillId: "drill-ondemand-hr-1",
      vaultId:
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/v",
      backupInstanceName: "hr",
      at: "2026-12-07T03:00:05.000Z",
    };
    await beginDrill(deps, onDemand);

    // Act
    const waiting = await rejection(
      beginDrill(deps, { ...onDemand, at: "2026-12-07T03:00:06.000Z", bounded: true }),
    );
    await history.finishDrill({
      ...running.drill,
      verdict: "Succeeded",
      endTime: "2026-12-07T03:01:00.000Z",
    });
    const begun = await beginDrill(deps, {
      ...onDemand,
      at: "2026-12-07T03:01:30.000Z",
      bounded: true,
    });

    // Assert
    expect(waiting).toMatchObject({ code: "DRILLS_AT_CAPACITY" });
    expect(begun.drill).toMatchObject({ id: "drill-ondemand-hr-1", verdict: "InProgress" });
  });

  it("lets a drill on demand go at once when fewer than DRILL_MAX_CONCURRENT drills began before it, though later ones run", async () => {
    // Arrange
    const { deps } = await stepsWithHistory(1);
    const vaultId =
      "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/v";
    const first = {
      drillId: "drill-ondemand-hr-1",
      vaultId,
      backupInstanceName: "hr",
      at: "2026-12-07T03:00:00.000Z",
    };
    const second = {
      drillId: "drill-ondemand-crm-1",
      vaultId,
      backupInstanceName: "crm",
      at: "2026-12-07T03:00:01.000Z",
    };
    await beginDrill(deps, first);
    await beginDrill(deps, second);

    // Act
    const firstGoes = await beginDrill(deps, { ...first, bounded: true });
    const secondWaits = await rejection(beginDrill(deps, { ...second, bounded: true }));

    // Assert
    expect(firstGoes.drill.id).toBe("drill-ondemand-hr-1");
    expect(secondWaits).toMatchObject({ code: "DRILLS_AT_CAPACITY" });
  });
});

describe("starting a drill's restore as files", () => {
  const containerUrl = "https://stdrills.blob.core.windows.net/drills";
  const containerId =
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/stdrills/blobServices/default/containers/drills";
  const vaultId =
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/vault-pg";

  /** A provider whose vault identity holds the role when `held`, recording what it is asked. */
  function providerWith(options: { held: boolean; storageScope?: string }) {
    const calls: string[] = [];
    let held = options.held;
    const missing = (scope: string) =>
      held ? [] : [{ roleName: "Storage Blob Data Contributor", scope }];
    const provider = {
      backup: {
        getBackupInstance: async () =>
          ({
            dataSourceInfo: { datasourceType: "Microsoft.DBforPostgreSQL/flexibleServers" },
          }) as unknown as BackupInstance,
      },
      restoreAccess: {
        missingRestoreRoles: async (_vault: string, scope: string) => {
          calls.push(`missingRestoreRoles ${scope}`);
          return { principalId: "p-1", roles: missing(scope) };
        },
        grantRestoreRoles: async (_vault: string, scope: string) => {
          calls.push(`grantRestoreRoles ${scope}`);
          const roles = missing(scope);
          held = true;
          return { principalId: "p-1", roles };
        },
      },
      drills: {
        filesTarget: {
          containerUrl,
          ...(options.storageScope ? { storageScope: options.storageScope } : {}),
        },
        startScratchRestore: async () => {
          calls.push("startScratchRestore");
          return {
            jobId: "/v/backupJobs/job-1",
            load: {
              containerUrl,
              filePrefix: begun.scratchTarget,
              secretUri: "s",
              databaseName: "d",
            },
          };
        },
        removeScratchTargets: async () => [],
      },
    };
    return { provider, calls };
  }
  const request = {
    vaultId,
    backupInstanceName: "pg-company-1",
    recoveryPointId: "rp1",
    scratchTarget: begun.scratchTarget,
  };

  it("fails before any restore starts when the vault's identity lacks its role on the drill container, naming the command that grants it", async () => {
    const { provider, calls } = providerWith({ held: false, storageScope: containerId });

    const error = await rejection(
      startScratchRestore({ provider } as unknown as DrillStepDependencies, request),
    );

    expect(error).toMatchObject({ code: "MISSING_REQUIRED_PERMISSIONS", httpStatus: 403 });
    expect(error.recommendedAction).toContain(
      `az role assignment create --assignee-object-id p-1 --assignee-principal-type ServicePrincipal --role "Storage Blob Data Contributor" --scope ${containerId}`,
    );
    expect(calls).toEqual([`missingRestoreRoles ${containerId}`]);
  });

  it("grants the role with AUTO_GRANT_ROLE_ASSIGNMENTS, then starts the restore of a whole server, to be loaded database by database", async () => {
    const { provider, calls } = providerWith({ held: false, storageScope: containerId });

    const started = await startScratchRestore(
      { provider, autoGrantRoleAssignments: true } as unknown as DrillStepDependencies,
      request,
    );

    expect(calls).toEqual([`grantRestoreRoles ${containerId}`, "startScratchRestore"]);
    expect(started).toMatchObject({ jobId: "/v/backupJobs/job-1", wholeServer: true });
  });

  it("starts no restore when the backup instance cannot be read, so that the step's retry starts the only one", async () => {
    const { provider, calls } = providerWith({ held: true, storageScope: containerId });
    provider.backup.getBackupInstance = async () => {
      throw new Error("connection to management.azure.com was reset");
    };

    const started = startScratchRestore({ provider } as unknown as DrillStepDependencies, request);

    await expect(started).rejects.toThrow("connection to management.azure.com was reset");
    expect(calls).not.toContain("startScratchRestore");
  });

  it("says which setting names the drill container's storage account when it cannot be told", async () => {
    const { provider, calls } = providerWith({ held: true });

    const error = await rejection(
      startScratchRestore({ provider } as unknown as DrillStepDependencies, request),
    );

    expect(error).toMatchObject({ code: "RESTORE_STORAGE_ACCOUNT_REQUIRED" });
    expect(error.recommendedAction).toContain("DRILL_STORAGE_ACCOUNT_ID");
    expect(calls).toEqual([]);
  });
});

describe("finishing a whole server's drill (each database by its own job, locally)", () => {
  const folders: string[] = [];
  const closers: (() => void)[] = [];

  afterEach(() => {
    for (const close of closers.splice(0)) close();
    for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  });

  const succeeded = (databaseName: string) => ({
    databaseName,
    scratchTarget: `${begun.scratchTarget}_${databaseName}`,
    verdict: "Succeeded" as const,
    verification: { ...verification, tables: 1, rows: 10 },
    seconds: 2,
    restoreJobId: `/v/backupJobs/job-${databaseName}`,
  });

  it("fails a drill whose recovery point lacks a database the previous drill restored, naming it and that drill's date, once", async () => {
    // Arrange: yesterday's drill restored three databases.
    const folder = mkdtempSync(path.join(tmpdir(), "pgprotect-drill-missing-"));
    folders.push(folder);
    const history = await openSqliteDrillHistory(folder);
    closers.push(() => history.close());
    const published: string[] = [];
    const deps = {
      provider: { directory: { getTags: async () => ({}) } },
      events: {
        publish: async (events: readonly { type: string }[]) => {
          published.push(...events.map((event) => event.type));
        },
      },
      eventSource: "/pgprotect/test",
      drills: history,
    } as unknown as DrillStepDependencies;
    const drillAt = (id: string, startTime: string): DrillRecord => ({
      ...begun,
      id,
      startTime,
      scratchTarget: `pgprotect_drill_${id}`,
    });
    const yesterday = drillAt("yesterday", "2026-12-06T03:00:00.000Z");
    await history.beginDrill(yesterday);
    await finishDrill(deps, {
      drill: yesterday,
      databases: ["hr", "ledger", "sales"].map(succeeded),
      databasesMs: 6000,
      scratchRemoved: true,
      at: "2026-12-06T03:01:00.000Z",
    });
    const today = {
      ...drillAt("today", "2026-12-07T03:00:00.000Z"),
      recoveryPointTime: "2026-12-07T00:00:00Z",
    };
    const tomorrow = drillAt("tomorrow", "2026-12-08T03:00:00.000Z");

    // Act: today's and tomorrow's recovery points hold no "ledger".
    await history.beginDrill(today);
    const ended = await finishDrill(deps, {
      drill: today,
      databases: ["hr", "sales"].map(succeeded),
      databasesMs: 4000,
      scratchRemoved: true,
      at: "2026-12-07T03:01:00.000Z",
    });
    await history.beginDrill(tomorrow);
    const next = await finishDrill(deps, {
      drill: tomorrow,
      databases: ["hr", "sales"].map(succeeded),
      databasesMs: 4000,
      scratchRemoved: true,
      at: "2026-12-08T03:01:00.000Z",
    });

    // Assert
    expect(ended).toMatchObject({
      verdict: "Failed",
      error: {
        code: "DRILL_DATABASE_MISSING",
        message:
          "1 of 3 databases failed: 'ledger' was in the drill of 2026-12-06T03:00:00Z and is not in this recovery point (2026-12-07T00:00:00Z)",
      },
    });
    expect(ended.databases?.map((d) => [d.databaseName, d.verdict])).toEqual([
      ["hr", "Succeeded"],
      ["sales", "Succeeded"],
      ["ledger", "Failed"],
    ]);
    expect((await history.getDrill("today"))?.verdict).toBe("Failed");
    expect(next.verdict).toBe("Succeeded");
    expect(published).toEqual([
      "PgProtect.Restore.DrillSucceeded",
      "PgProtect.Restore.DrillFailed",
      "PgProtect.Restore.DrillSucceeded",
    ]);
  });
});
