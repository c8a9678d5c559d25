/**
 * What every drill history store must do (`DrillHistoryPort`): one drill per backup instance at a
 * time, the bound on running drills, abandoned drills, pages newest first, each instance's last
 * drill, and the retention. Run against SQLite and against Table Storage (Azurite).
 */
import { expect, it } from "vitest";
import type { DrillRecord } from "../../src/domain/drills/drill.js";
import type { DrillHistoryPort } from "../../src/providers/ports.js";

/** A drill of the instance `local-sales-1`, begun 2026-12-07 03:00 and running, as overridden. */
export function drillRecord(id: string, overrides: Partial<DrillRecord> = {}): DrillRecord {
  return {
    id,
    backupInstanceId: "/subscriptions/x/backupInstances/local-sales-1",
    backupInstanceName: "local-sales-1",
    friendlyName: "local/sales",
    vaultName: "pgprotect-vault",
    datasourceId: "/subscriptions/x/databases/sales",
    datasourceName: "sales",
    verdict: "InProgress",
    startTime: "2026-12-07T03:00:00.000Z",
    scratchTarget: `pgprotect_drill_${id}`,
    ...overrides,
  };
}

/** Registers the contract's tests; `open` gives an empty store per test. */
export function drillHistoryContract(open: () => Promise<DrillHistoryPort>): void {
  const drill = drillRecord;

  it("lets one drill of an instance run at a time, and the same drill begin again", async () => {
    const history = await open();

    const first = await history.beginDrill(drill("a"));
    const again = await history.beginDrill(drill("a"));
    const second = await history.beginDrill(drill("b", { startTime: "2026-12-07T03:01:00.000Z" }));
    const otherInstance = await history.beginDrill(
      drill("c", { backupInstanceId: "/subscriptions/x/backupInstances/local-hr-2" }),
    );

    expect(first).toEqual({ begun: true });
    expect(again).toEqual({ begun: true });
    expect(second).toMatchObject({ begun: false, running: { id: "a" } });
    expect(otherInstance).toEqual({ begun: true });
  });

  it("holds a bounded drill while as many drills run as the bound allows", async () => {
    const history = await open();
    const other = (n: number) => ({
      backupInstanceId: `/subscriptions/x/backupInstances/local-db-${n}`,
    });
    await history.beginDrill(drill("a", other(1)), { maxRunning: 2 });
    await history.beginDrill(drill("b", other(2)), { maxRunning: 2 });

    const third = await history.beginDrill(drill("c", other(3)), { maxRunning: 2 });
    const unbounded = await history.beginDrill(drill("d", other(4)));
    await history.finishDrill(drill("a", { ...other(1), verdict: "Succeeded" }));
    await history.finishDrill(drill("b", { ...other(2), verdict: "Succeeded" }));
    const thirdAgain = await history.beginDrill(drill("c", other(3)), { maxRunning: 2 });

    expect(third).toEqual({ begun: false, atCapacity: 2 });
    expect(unbounded).toEqual({ begun: true });
    expect(thirdAgain).toEqual({ begun: true });
  });

  it("lets the next drill begin once the running one has ended, or was abandoned a day ago", async () => {
    const history = await open();
    await history.beginDrill(drill("a"));
    await history.finishDrill(
      drill("a", { verdict: "Succeeded", endTime: "2026-12-07T03:02:00.000Z" }),
    );
    const afterEnd = await history.beginDrill(
      drill("b", { startTime: "2026-12-07T04:00:00.000Z" }),
    );
    const afterAbandoned = await history.beginDrill(
      drill("c", { startTime: "2026-12-08T05:00:00.000Z" }),
    );

    expect(afterEnd).toEqual({ begun: true });
    expect(afterAbandoned).toEqual({ begun: true });
    expect((await history.runningDrills()).map((d) => d.id)).toEqual(["b", "c"]);
  });

  it("keeps how a drill ended, read back by its id", async () => {
    const history = await open();
    await history.beginDrill(drill("a"));
    const ended = drill("a", {
      verdict: "Failed",
      endTime: "2026-12-07T03:04:00.000Z",
      error: { code: "RESTORE_FAILED", message: "pg_restore failed" },
      scratchRemoved: true,
    });

    await history.finishDrill(ended);

    expect(await history.getDrill("a")).toEqual(ended);
    expect(await history.getDrill("nope")).toBeUndefined();
    expect(await history.runningDrills()).toEqual([]);
  });

  it("pages drills newest first by verdict and instance, and knows each instance's last drill", async () => {
    const history = await open();
    for (let n = 0; n < 5; n += 1) {
      await history.finishDrill(
        drill(`d${n}`, {
          startTime: `2026-12-0${n + 1}T03:00:00.000Z`,
          verdict: n % 2 === 0 ? "Succeeded" : "Failed",
          endTime: `2026-12-0${n + 1}T03:05:00.000Z`,
        }),
      );
    }

    const first = await history.queryDrills({ top: 2, instance: "LOCAL/SALES" });
    const rest = await history.queryDrills({
      top: 5,
      ...(first.next ? { after: first.next } : {}),
    });
    const failed = await history.queryDrills({ top: 10, verdict: ["Failed"] });
    const window = await history.queryDrills({
      top: 10,
      from: "2026-12-02T00:00:00.000Z",
      to: "2026-12-04T00:00:00.000Z",
    });
    const last = await history.lastDrills(["/subscriptions/x/backupInstances/LOCAL-SALES-1"]);

    expect(first.value.map((d) => d.id)).toEqual(["d4", "d3"]);
    expect(rest.value.map((d) => d.id)).toEqual(["d2", "d1", "d0"]);
    expect(rest.next).toBeUndefined();
    expect(failed.value.map((d) => d.id)).toEqual(["d3", "d1"]);
    expect(window.value.map((d) => d.id)).toEqual(["d2", "d1"]);
    expect(last.get("/subscriptions/x/backupinstances/local-sales-1")?.id).toBe("d4");
  });

  it("prunes drills begun before the cutoff, ended or left running, and keeps the rest", async () => {
    // Arrange: two drills of a year ago (one ended, one whose end was never recorded), one recent.
    const history = await open();
    const hr = { backupInstanceId: "/subscriptions/x/backupInstances/local-hr-2" };
    await history.beginDrill(drill("old", { startTime: "2025-11-01T03:00:00.000Z" }));
    await history.finishDrill(
      drill("old", {
        startTime: "2025-11-01T03:00:00.000Z",
        verdict: "Succeeded",
        endTime: "2025-11-01T03:05:00.000Z",
      }),
    );
    await history.beginDrill(
      drill("old-running", { ...hr, startTime: "2025-11-02T03:00:00.000Z" }),
    );
    await history.beginDrill(drill("kept", { startTime: "2026-12-01T03:00:00.000Z" }));

    // Act
    const removed = await history.prune("2025-12-01T00:00:00.000Z");

    // Assert
    expect(removed).toBe(2);
    expect((await history.queryDrills({ top: 10 })).value.map((d) => d.id)).toEqual(["kept"]);
    expect(await history.getDrill("old-running")).toBeUndefined();
    expect((await history.runningDrills()).map((d) => d.id)).toEqual(["kept"]);
    expect(
      await history.beginDrill(drill("next-hr", { ...hr, startTime: "2026-12-02T03:00:00.000Z" })),
    ).toEqual({ begun: true });
  });

  it("keeps a whole server's drill of many databases whole, however long its record", async () => {
    // Arrange: 400 databases, each with its verification: a record of about 100 000 characters.
    const history = await open();
    await history.beginDrill(drill("server"));
    const databases = Array.from({ length: 400 }, (_, n) => ({
      databaseName: `tenant_${String(n).padStart(4, "0")}`,
      scratchTarget: `pgprotect_drill_server_${String(n).padStart(10, "0")}`,
      verdict: "Succeeded" as const,
      verification: {
        verified: true,
        tables: 12,
        rows: 48_000 + n,
        largeObjects: 0,
        mismatches: [],
      },
      seconds: 3.5,
    }));
    const ended = drill("server", {
      verdict: "Succeeded",
      endTime: "2026-12-07T04:00:00.000Z",
      databases,
      scratchRemoved: true,
    });

    // Act
    await history.finishDrill(ended);

    // Assert
    expect(JSON.stringify(ended).length).toBeGreaterThan(65_536);
    expect(await history.getDrill("server")).toEqual(ended);
    expect((await history.queryDrills({ top: 1 })).value).toEqual([ended]);
  });
}
