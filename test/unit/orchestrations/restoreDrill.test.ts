import type * as df from "durable-functions";
import { describe, expect, it } from "vitest";
import { driveOrchestrator, EventType } from "@pgprotect/functions-runtime/durable/testing";
import { abandonedDrillAfterMs, type DrillRecord } from "../../../src/domain/drills/drill.js";
import { jobPolling } from "../../../src/orchestrations/retryPolicies.js";
import { restoreDrill, type RestoreDrillInput } from "../../../src/orchestrations/restoreDrill.js";
import { driveOrchestration, type Scheduled } from "../../support/orchestrationDriver.js";

const scratchTarget = "pgprotect_drill_0123456789abcdef01234567";
const begun: DrillRecord = {
  id: "drill-ondemand-pg-company-1",
  backupInstanceId: "/v/backupInstances/pg-company-1",
  backupInstanceName: "pg-company-1",
  friendlyName: "pg-company",
  vaultName: "vault-pg",
  datasourceId: "/s/flexibleServers/pg-company",
  datasourceName: "pg-company",
  verdict: "InProgress",
  startTime: "2026-11-24T08:00:00.000Z",
  recoveryPointId: "rp1",
  scratchTarget,
};
const input: RestoreDrillInput = { vaultId: "/v", backupInstanceName: "pg-company-1" };
const load = {
  containerUrl: "https://stdrills.blob.core.windows.net/drills",
  filePrefix: scratchTarget,
  secretUri: "https://kv.vault.azure.net/secrets/scratch",
  databaseName: scratchTarget,
};
const databases = ["hr", "ledger", "sales"];
const planned = databases.map((databaseName) => ({
  databaseName,
  scratchTarget: `${scratchTarget}_${databaseName.padEnd(10, "0")}`,
}));
const job = (status: string, extra: object = {}) => ({
  id: "/v/backupJobs/job-1",
  name: "job-1",
  status,
  startTime: "2026-11-24T08:00:01.000Z",
  endTime: "2026-11-24T08:00:11.000Z",
  ...extra,
});
const verified = (rows: number) => ({
  verified: true,
  tables: 1,
  rows,
  largeObjects: 0,
  mismatches: [],
});
const loaded = (request: { sourceDatabaseName?: string; databaseName: string }) => ({
  ok: true,
  value: {
    databaseName: request.databaseName,
    server: "127.0.0.1:5432",
    blobName: `${scratchTarget}_${request.sourceDatabaseName}.dump`,
    dumpBytes: 2048,
    verification: verified(databases.indexOf(request.sourceDatabaseName ?? "") * 10 + 10),
    seconds: { download: 0.5, load: 1, verify: 0.5 },
  },
});
/** What `finishDrill` records: the step's own outcome is tested in drillsSteps.test.ts. */
const finished = (sent: unknown) => {
  const { drill } = sent as { drill: DrillRecord };
  return { ...drill, verdict: "Succeeded", endTime: "2026-11-24T08:01:00.000Z" };
};
const loadsOf = (scheduled: readonly Scheduled[]) =>
  scheduled.flatMap((task) =>
    task.kind === "all"
      ? [
          task.tasks.flatMap((any) =>
            any.kind === "any"
              ? any.tasks.flatMap((t) => (t.kind === "activity" ? [t.input] : []))
              : [],
          ),
        ]
      : [],
  );

describe("restoreDrill of a whole server", () => {
  it("loads every database the restore wrote into its own scratch database, two at a time under the drill's id, and finishes with each database's result after the job", () => {
    // Act
    const run = driveOrchestration(
      restoreDrill,
      input,
      {
        beginDrill: () => ({ ok: true, value: { drill: begun } }),
        sweepDrillScratch: () => [],
        startDrillRestore: () => ({
          ok: true,
          value: { jobId: "/v/backupJobs/job-1", load, wholeServer: true },
        }),
        getJob: () => job("Completed"),
        planDrillLoads: () => ({ ok: true, value: planned }),
        loadRestoredFiles: (request) =>
          loaded(request as { sourceDatabaseName: string; databaseName: string }),
        removeDrillScratch: () => ({ removed: true }),
        finishDrill: finished,
      },
      { instanceId: begun.id },
    );

    // Assert
    const batches = loadsOf(run.scheduled);
    expect(batches.map((batch) => batch.length)).toEqual([2, 1]);
    expect(batches.flat()).toEqual(
      planned.map((p) => ({
        loadId: `${begun.id}/${p.databaseName}`,
        ...load,
        sourceDatabaseName: p.databaseName,
        databaseName: p.scratchTarget,
      })),
    );
    const finish = run.scheduled.find((t) => t.kind === "activity" && t.name === "finishDrill");
    expect((finish as { input: unknown }).input).toMatchObject({
      drill: begun,
      job: { status: "Completed" },
      databasesMs: expect.any(Number),
      scratchRemoved: true,
      databases: databases.map((databaseName, index) => ({
        databaseName,
        scratchTarget: planned[index]?.scratchTarget,
        verdict: "Succeeded",
        verification: verified(index * 10 + 10),
        seconds: 2,
      })),
    });
    expect(run.output).toMatchObject({ verdict: "Succeeded" });
  });

  it("restores nothing into the scratch server and fails with the step's code when the role check refuses the drill", () => {
    // Act
    const run = driveOrchestration(restoreDrill, input, {
      beginDrill: () => ({ ok: true, value: { drill: begun } }),
      sweepDrillScratch: () => [],
      startDrillRestore: () => ({
        ok: false,
        code: "MISSING_REQUIRED_PERMISSIONS",
        message: "The Backup vault's identity lacks 'Storage Blob Data Contributor'",
        recommendedAction: "Run: az role assignment create ...",
      }),
      removeDrillScratch: () => ({ removed: true }),
      finishDrill: (sent) => ({ ...(sent as { drill: DrillRecord }).drill, verdict: "Failed" }),
    });

    // Assert
    const names = run.scheduled.flatMap((t) => (t.kind === "activity" ? [t.name] : []));
    expect(names).toEqual([
      "beginDrill",
      "sweepDrillScratch",
      "startDrillRestore",
      "removeDrillScratch",
      "finishDrill",
    ]);
    expect(run.scheduled.at(-1)).toMatchObject({
      input: { error: { code: "MISSING_REQUIRED_PERMISSIONS" }, scratchRemoved: true },
    });
  });

  it.each([
    ["every completion at once", "all"],
    ["one completion at a time", 1],
    ["the newest completion first", "newest-first"],
  ] as const)(
    "keeps the other databases' results when one database's load still fails after its retries, and removes the scratch databases only after every load ended (%s), on the real durable-functions library",
    async (_label, batch) => {
      // Arrange
      let finishInput:
        | {
            databases: {
              databaseName: string;
              verdict: string;
              error?: { code: string; message: string };
            }[];
          }
        | undefined;

      // Act
      const run = await driveOrchestrator(restoreDrill as unknown as df.OrchestrationHandler, {
        shim: { lookupFunction: (name) => ({ name, triggerType: "activityTrigger" }) },
        input,
        batch,
        activity: (name, sent) => {
          const request = (sent as { input?: unknown }).input ?? sent;
          switch (name) {
            case "beginDrill":
              return { ok: true, value: { ok: true, value: { drill: begun } } };
            case "sweepDrillScratch":
              return { ok: true, value: [] };
            case "startDrillRestore":
              return {
                ok: true,
                value: {
                  ok: true,
                  value: { jobId: "/v/backupJobs/job-1", load, wholeServer: true },
                },
              };
            case "getJob":
              return { ok: true, value: job("Completed") };
            case "planDrillLoads":
              return { ok: true, value: { ok: true, value: planned } };
            case "loadRestoredFiles": {
              const one = request as { sourceDatabaseName: string; databaseName: string };
              return one.sourceDatabaseName === "hr"
                ? { ok: false, message: "connection to the scratch server was reset" }
                : { ok: true, value: loaded(one) };
            }
            case "removeDrillScratch":
              return { ok: true, value: { removed: true } };
            case "finishDrill":
              finishInput = request as typeof finishInput;
              return { ok: true, value: finished(request) };
            default:
              return { ok: false, message: `no activity ${name}` };
          }
        },
      });

      // Assert
      expect(run.error).toBeUndefined();
      const scheduled = run.history.flatMap((e, index) =>
        e.EventType === EventType.TaskScheduled
          ? [{ index, name: (e as { Name: string }).Name }]
          : [],
      );
      const ended = run.history.flatMap((e, index) =>
        e.EventType === EventType.TaskCompleted || e.EventType === EventType.TaskFailed
          ? [{ index, id: (e as { TaskScheduledId: number }).TaskScheduledId }]
          : [],
      );
      const loads = run.history.flatMap((e) =>
        e.EventType === EventType.TaskScheduled &&
        (e as { Name: string }).Name === "loadRestoredFiles"
          ? [(e as { EventId: number }).EventId]
          : [],
      );
      const lastLoadEnded = Math.max(
        ...ended.filter((e) => loads.includes(e.id)).map((e) => e.index),
      );
      const removal = scheduled.find((s) => s.name === "removeDrillScratch");
      expect(removal?.index).toBeGreaterThan(lastLoadEnded);
      // hr was tried again by the retry policy; ledger and sales once each.
      expect(loads.length).toBeGreaterThan(3);
      expect(finishInput?.databases.map((d) => [d.databaseName, d.verdict])).toEqual([
        ["hr", "Failed"],
        ["ledger", "Succeeded"],
        ["sales", "Succeeded"],
      ]);
      expect(finishInput?.databases[0]?.error).toMatchObject({ code: "DRILL_FAILED" });
      expect(finishInput?.databases[0]?.error?.message).toContain(
        "connection to the scratch server was reset",
      );
    },
  );

  it("follows each database's own restore job where each database is restored by its own job (locally), one result per job", () => {
    // Arrange
    const restores = databases.map((databaseName, index) => ({
      databaseName,
      scratchTarget: planned[index]?.scratchTarget ?? "",
      jobId: `/v/backupJobs/job-${databaseName}`,
    }));
    const reads = new Map<string, number>();

    // Act
    const run = driveOrchestration(restoreDrill, input, {
      beginDrill: () => ({ ok: true, value: { drill: begun } }),
      sweepDrillScratch: () => [],
      startDrillRestore: () => ({ ok: true, value: { databases: restores } }),
      getJob: (key) => {
        const { jobId } = key as { jobId: string };
        const read = (reads.get(jobId) ?? 0) + 1;
        reads.set(jobId, read);
        const name = jobId.split("job-")[1] ?? "";
        return job(read < 2 ? "InProgress" : name === "ledger" ? "Failed" : "Completed", {
          id: jobId,
          name: `job-${name}`,
          startTime: "2026-11-24T08:00:01.000Z",
          endTime: name === "sales" ? "2026-11-24T08:00:21.000Z" : "2026-11-24T08:00:11.000Z",
          ...(name === "ledger"
            ? {
                errorDetails: [{ code: "RECOVERY_POINT_CORRUPT", message: "ledger's dump is cut" }],
              }
            : { restoreVerification: verified(10) }),
        });
      },
      removeDrillScratch: () => ({ removed: true }),
      finishDrill: finished,
    });

    // Assert
    expect([...reads.values()]).toEqual([2, 2, 2]);
    const finish = run.scheduled.find((t) => t.kind === "activity" && t.name === "finishDrill");
    const sent = (finish as { input: { databases: unknown[]; databasesMs: number; job?: unknown } })
      .input;
    expect(sent.job).toBeUndefined();
    expect(sent.databasesMs).toBe(20_000);
    expect(sent.databases).toEqual([
      expect.objectContaining({ databaseName: "hr", verdict: "Succeeded", seconds: 10 }),
      expect.objectContaining({
        databaseName: "ledger",
        verdict: "Failed",
        restoreJobId: "/v/backupJobs/job-ledger",
        error: { code: "RECOVERY_POINT_CORRUPT", message: "ledger's dump is cut" },
      }),
      expect.objectContaining({ databaseName: "sales", verdict: "Succeeded", seconds: 20 }),
    ]);
  });
});

describe("restoreDrill on demand", () => {
  it("waits its turn like a scheduled drill while DRILL_MAX_CONCURRENT drills run, saying so in its status", () => {
    // Act
    const run = driveOrchestration(
      restoreDrill,
      input,
      {
        beginDrill: (_sent, call) =>
          call < 2
            ? {
                ok: false,
                code: "DRILLS_AT_CAPACITY",
                message:
                  "2 restore drills run already (DRILL_MAX_CONCURRENT); this one waits its turn",
              }
            : { ok: true, value: { drill: { ...begun, recoveryPointId: undefined } } },
        sweepDrillScratch: () => [],
        removeDrillScratch: () => ({ removed: true }),
        finishDrill: (sent) => ({ ...(sent as { drill: DrillRecord }).drill, verdict: "Failed" }),
      },
      { instanceId: begun.id },
    );

    // Assert
    const begins = run.scheduled.filter((t) => t.kind === "activity" && t.name === "beginDrill");
    expect(begins).toHaveLength(3);
    for (const call of begins) expect(call).toMatchObject({ input: { bounded: true } });
    expect((begins[0] as { input: { schedule?: string } }).input.schedule).toBeUndefined();
    expect(run.customStatuses.slice(0, 2)).toEqual([
      { state: "waitingForTurn", until: "2026-11-24T08:00:30.000Z" },
      { state: "waitingForTurn", until: "2026-11-24T08:01:00.000Z" },
    ]);
  });
});

describe("restoreDrill on demand, after six hours of waiting", () => {
  it("runs rather than being dropped with its record left running, early enough to end before others take it for abandoned", () => {
    // Arrange
    const asked: number[] = [];

    // Act
    const run = driveOrchestration(restoreDrill, input, {
      beginDrill: (sent) => {
        asked.push(Date.parse((sent as { at: string }).at));
        return (sent as { bounded: boolean }).bounded
          ? { ok: false, code: "DRILLS_AT_CAPACITY", message: "at capacity" }
          : { ok: true, value: { drill: { ...begun, recoveryPointId: undefined } } };
      },
      sweepDrillScratch: () => [],
      removeDrillScratch: () => ({ removed: true }),
      finishDrill: (sent) => ({ ...(sent as { drill: DrillRecord }).drill, verdict: "Failed" }),
    });

    // Assert: it runs after six hours, so that with the longest restore it follows (polled every
    // 15 s) it still ends before the abandonment age of its record.
    const begins = run.scheduled.filter((t) => t.kind === "activity" && t.name === "beginDrill");
    expect(begins.at(-1)).toMatchObject({ input: { bounded: false } });
    expect(begins.length).toBe(722);
    const waitedMs = (asked.at(-1) ?? 0) - (asked[0] ?? 0);
    expect(waitedMs).toBe(6 * 3_600_000);
    expect(waitedMs + jobPolling.maxPolls * jobPolling.intervalSeconds * 1000).toBeLessThan(
      abandonedDrillAfterMs,
    );
    expect(run.scheduled.some((t) => t.kind === "activity" && t.name === "finishDrill")).toBe(true);
  });
});
