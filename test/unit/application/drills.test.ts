import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  drillScheduleSettings,
  runDrillTick,
  showDrillState,
} from "../../../src/application/drills.js";
import type { ApplicationDependencies } from "../../../src/application/dependencies.js";
import type { OrchestrationPort } from "../../../src/application/orchestrationPort.js";
import {
  openSqliteDrillHistory,
  type SqliteDrillHistory,
} from "../../../src/providers/history/sqliteDrillHistory.js";
import type { PgProtectEvent } from "../../../src/domain/events/types.js";
import type { DrillTargetPort, Provider } from "../../../src/providers/ports.js";
import { drillRecord } from "../../support/drillHistoryContract.js";

describe("the drill timer's settings", () => {
  it("parses a configuration's drill schedules once, however often the timer ticks", () => {
    // Arrange
    const config = {
      DRILL_SCHEDULES: JSON.stringify([
        { name: "sunday", schedule: "0 0 3 * * 0", select: { backupInstances: ["local/sales"] } },
      ]),
    };

    // Act
    const first = drillScheduleSettings(config);
    const second = drillScheduleSettings(config);
    const other = drillScheduleSettings({});

    // Assert
    expect(first.schedules.map((schedule) => schedule.name)).toEqual(["sunday"]);
    expect(second).toBe(first);
    expect(other).toEqual({ schedules: [], plans: [] });
  });
});

describe("the drill timer's sweep for leftovers", () => {
  const folders: string[] = [];
  const closers: (() => void)[] = [];

  afterEach(() => {
    for (const close of closers.splice(0)) close();
    for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  });

  /** A drill history and scratch targets that count the sweeps reaching the scratch server. */
  async function timer() {
    const folder = mkdtempSync(path.join(tmpdir(), "pgprotect-drill-tick-"));
    folders.push(folder);
    const drills: SqliteDrillHistory = await openSqliteDrillHistory(folder);
    closers.push(() => drills.close());
    const sweeps: string[][] = [];
    let unreachable = false;
    const targets: DrillTargetPort = {
      startScratchRestore: () => Promise.reject(new Error("no restore in this test")),
      removeScratchTargets: async ({ keep }) => {
        if (unreachable) throw new Error("scratch server unreachable");
        sweeps.push([...(keep ?? [])]);
        return [];
      },
    };
    const published: PgProtectEvent[] = [];
    const deps: Pick<
      ApplicationDependencies,
      "provider" | "vaults" | "drills" | "events" | "eventSource"
    > = {
      provider: {
        drills: targets,
        directory: { getTags: async () => ({}) },
      } as unknown as Provider,
      vaults: { ids: [], resolve: () => "" },
      drills,
      events: {
        publish: async (events: readonly PgProtectEvent[]) => {
          published.push(...events);
        },
      },
      eventSource: "/pgprotect/test",
    };
    // Every drill's orchestration runs unless a test says it ended or is gone.
    const runtimeStatuses = new Map<string, string | undefined>();
    const orchestrations: OrchestrationPort = {
      start: () => Promise.reject(new Error("no drill starts in this test")),
      status: async (id) => {
        const runtimeStatus = runtimeStatuses.has(id) ? runtimeStatuses.get(id) : "Running";
        return runtimeStatus === undefined
          ? undefined
          : { name: "restoreDrill", runtimeStatus, createdTime: "", lastUpdatedTime: "" };
      },
    };
    return {
      drills,
      published,
      runtimeStatuses,
      sweeps,
      scratchServerDown: (down: boolean) => {
        unreachable = down;
      },
      tick: (at: string) => runDrillTick([], [], new Date(at), deps, orchestrations),
    };
  }

  it("reaches the scratch server on a process's first tick, then only while a drill may have left something", async () => {
    // Arrange
    const { drills, sweeps, tick } = await timer();

    // Act: a first tick, a quiet one, one with a drill running, then ticks after it ended (a sweep
    // at least a quarter of an hour after its start, then none).
    const first = await tick("2026-12-07T02:00:30.000Z");
    const quiet = await tick("2026-12-07T02:05:30.000Z");
    await drills.beginDrill(drillRecord("a", { startTime: "2026-12-07T02:07:00.000Z" }));
    const running = await tick("2026-12-07T02:10:30.000Z");
    await drills.finishDrill(
      drillRecord("a", {
        startTime: "2026-12-07T02:07:00.000Z",
        verdict: "Succeeded",
        endTime: "2026-12-07T02:12:00.000Z",
        scratchRemoved: false,
      }),
    );
    const afterEnd = await tick("2026-12-07T02:15:30.000Z");
    const later = await tick("2026-12-07T02:40:30.000Z");
    const quietAgain = await tick("2026-12-07T02:45:30.000Z");

    // Assert
    expect([first, quiet, running, afterEnd, later, quietAgain].map((t) => t.swept)).toEqual([
      true,
      false,
      true,
      true,
      true,
      false,
    ]);
    expect(sweeps).toEqual([[], ["pgprotect_drill_a"], [], []]);
  });

  it("sweeps after a drill longer than a quarter of an hour ended, though it began long before the last sweep", async () => {
    // Arrange: a drill of an hour, swept around while it ran.
    const { drills, sweeps, tick } = await timer();
    await tick("2026-12-07T02:00:30.000Z");
    await drills.beginDrill(drillRecord("long", { startTime: "2026-12-07T02:02:00.000Z" }));
    for (const at of ["02:05:30", "02:30:30", "03:00:30"]) await tick(`2026-12-07T${at}.000Z`);
    await drills.finishDrill(
      drillRecord("long", {
        startTime: "2026-12-07T02:02:00.000Z",
        verdict: "Failed",
        endTime: "2026-12-07T03:02:00.000Z",
        scratchRemoved: false,
      }),
    );

    // Act
    const afterEnd = await tick("2026-12-07T03:05:30.000Z");
    const quiet = await tick("2026-12-07T03:10:30.000Z");

    // Assert: the tick after its end swept with nothing kept, so its scratch target went.
    expect([afterEnd.swept, quiet.swept]).toEqual([true, false]);
    expect(sweeps.at(-1)).toEqual([]);
  });

  it("ends a drill whose orchestration was terminated or is gone as failed, notifies once, and sweeps its scratch target", async () => {
    // Arrange: three drills recorded as running since 02:00: one terminated, one whose
    // orchestration is gone, and one whose orchestration still runs (past a day, too).
    const { drills, published, runtimeStatuses, sweeps, tick } = await timer();
    await tick("2026-12-07T02:00:30.000Z");
    const at = (startTime: string, instance: string) => ({
      startTime,
      backupInstanceId: `/subscriptions/x/backupInstances/${instance}`,
    });
    await drills.beginDrill(drillRecord("terminated", at("2026-12-07T02:00:00.000Z", "one")));
    await drills.beginDrill(drillRecord("lost", at("2026-12-07T02:00:00.000Z", "two")));
    await drills.beginDrill(drillRecord("alive", at("2026-12-06T01:00:00.000Z", "three")));
    runtimeStatuses.set("terminated", "Terminated");
    runtimeStatuses.set("lost", undefined);

    // Act: a tick within the grace a new drill's record has, then two after it.
    const early = await tick("2026-12-07T02:05:30.000Z");
    const later = await tick("2026-12-07T05:00:30.000Z");
    const again = await tick("2026-12-07T05:05:30.000Z");

    // Assert
    expect(early.abandoned).toEqual([]);
    expect(later.abandoned.map((a) => [a.drill.id, a.runtimeStatus]).sort()).toEqual([
      ["lost", "Missing"],
      ["terminated", "Terminated"],
    ]);
    expect(again.abandoned).toEqual([]);
    expect(await drills.getDrill("terminated")).toMatchObject({
      verdict: "Failed",
      endTime: "2026-12-07T05:00:30.000Z",
      error: {
        code: "DRILL_ABANDONED",
        message:
          "The drill's orchestration ended Terminated without recording how the drill ended; ended as abandoned 3 hours after it began",
      },
    });
    expect((await drills.getDrill("lost"))?.error?.message).toMatch(/orchestration is gone/);
    expect((await drills.getDrill("alive"))?.verdict).toBe("InProgress");
    expect(published.map((event) => event.type)).toEqual([
      "PgProtect.Restore.DrillFailed",
      "PgProtect.Restore.DrillFailed",
    ]);
    // The sweep after the tick that ended them keeps only the live drill's scratch target.
    expect(sweeps.at(-1)).toEqual(["pgprotect_drill_alive"]);
  });

  it("sweeps again on the next tick when the scratch server could not be reached", async () => {
    // Arrange
    const { sweeps, tick, scratchServerDown } = await timer();
    scratchServerDown(true);

    // Act
    const failed = await tick("2026-12-07T02:00:30.000Z");
    scratchServerDown(false);
    const next = await tick("2026-12-07T02:05:30.000Z");

    // Assert
    expect(failed).toMatchObject({ swept: false, sweepError: "scratch server unreachable" });
    expect(next.swept).toBe(true);
    expect(sweeps).toHaveLength(1);
  });
});

describe("one drill's state", () => {
  const folders: string[] = [];
  const closers: (() => void)[] = [];

  afterEach(() => {
    for (const close of closers.splice(0)) close();
    for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  });

  it("says a drill recorded as running waits its turn while its orchestration waits, and runs once it restores", async () => {
    // Arrange
    const folder = mkdtempSync(path.join(tmpdir(), "pgprotect-drill-state-"));
    folders.push(folder);
    const drills = await openSqliteDrillHistory(folder);
    closers.push(() => drills.close());
    await drills.beginDrill(drillRecord("waiting"));
    let customStatus: unknown = { state: "waitingForTurn", until: "2026-12-07T03:00:30.000Z" };
    const orchestrations = {
      status: async () => ({
        name: "restoreDrill",
        runtimeStatus: "Running",
        customStatus,
        createdTime: "",
        lastUpdatedTime: "",
      }),
    };

    // Act
    const waiting = await showDrillState({ drills }, orchestrations, "waiting");
    customStatus = { state: "restoring", scratchTarget: "pgprotect_drill_waiting" };
    const running = await showDrillState({ drills }, orchestrations, "waiting");
    await drills.finishDrill(drillRecord("waiting", { verdict: "Succeeded" }));
    const ended = await showDrillState({ drills }, orchestrations, "waiting");

    // Assert
    expect([waiting.state, running.state, ended.state]).toEqual([
      "waitingForTurn",
      "running",
      "ended",
    ]);
    expect(waiting.drill.verdict).toBe("InProgress");
  });
});
