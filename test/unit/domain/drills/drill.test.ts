import { describe, expect, it } from "vitest";
import {
  belongsToScratchTarget,
  combinedVerification,
  databaseScratchName,
  databasesFailure,
  drillScratchTargetOf,
  isDrillId,
  isScratchDatabaseName,
  onDemandDrillId,
  scheduledDrillId,
  scratchDatabaseName,
  type DrillDatabaseResult,
} from "../../../../src/domain/drills/drill.js";

describe("a drill's names", () => {
  it("gives each drill its own reserved scratch database name, well under PostgreSQL's 63 bytes", () => {
    const first = scratchDatabaseName("drill-nightly-local-sales-20261207t030000z");
    const second = scratchDatabaseName("drill-nightly-local-sales-20261208t030000z");

    expect(first).toMatch(/^pgprotect_drill_[0-9a-f]{24}$/);
    expect(first).not.toBe(second);
    expect(scratchDatabaseName("drill-nightly-local-sales-20261207t030000z")).toBe(first);
    expect(isScratchDatabaseName(first)).toBe(true);
    expect(isScratchDatabaseName("sales")).toBe(false);
  });

  it("derives one id per schedule, instance and occurrence, and a fresh one on demand", () => {
    const at = new Date("2026-12-07T03:00:00.000Z");

    const scheduled = scheduledDrillId("Nightly", "local-sales-0b6c", at);
    const onDemand = onDemandDrillId("local-sales-0b6c", at, "1f2e3d4c-aaaa");

    expect(scheduled).toBe("drill-nightly-local-sales-0b6c-20261207t030000z");
    expect(scheduledDrillId("Nightly", "local-sales-0b6c", at)).toBe(scheduled);
    expect(onDemand).toBe("drill-ondemand-local-sales-0b6c-20261207t030000z-1f2e3d4c");
    expect(isDrillId(scheduled)).toBe(true);
    expect(isDrillId("plan-x")).toBe(false);
  });
});

describe("a whole server drill's scratch databases", () => {
  const drillScratch = scratchDatabaseName("drill-nightly-pg-company-20261207t030000z");

  it("names each database's scratch database after the drill's and the database's, the same on a replay, and under 63 bytes for any database name", () => {
    const sales = databaseScratchName(drillScratch, "sales");
    const long = databaseScratchName(drillScratch, "x".repeat(63));

    expect(sales).toMatch(new RegExp(`^${drillScratch}_[0-9a-f]{10}$`));
    expect(databaseScratchName(drillScratch, "sales")).toBe(sales);
    expect(databaseScratchName(drillScratch, "Sales")).not.toBe(sales);
    expect(long.length).toBeLessThanOrEqual(63);
  });

  it("knows a database, a load's temporary database and a file of the drill for the drill's, and no other drill's", () => {
    const sales = databaseScratchName(drillScratch, "sales");
    const other = scratchDatabaseName("drill-nightly-pg-company-20261208t030000z");

    expect(belongsToScratchTarget(sales, drillScratch)).toBe(true);
    expect(belongsToScratchTarget(`${sales}_restoring_0123456789`, drillScratch)).toBe(true);
    expect(belongsToScratchTarget(`${drillScratch}_sales.dump`, drillScratch)).toBe(true);
    expect(belongsToScratchTarget(sales, other)).toBe(false);
    expect(drillScratchTargetOf(`${sales}_restoring_0123456789`)).toBe(drillScratch);
    expect(drillScratchTargetOf("sales")).toBeUndefined();
  });
});

describe("what a whole server drill says of many databases", () => {
  const failedDatabase = (index: number): DrillDatabaseResult => ({
    databaseName: `db${index}`,
    scratchTarget: `pgprotect_drill_0123456789abcdef01234567_${index}`,
    verdict: "Failed",
    verification: {
      verified: false,
      tables: 1,
      rows: 1,
      largeObjects: 0,
      mismatches: ["public.t: rows 1 != 2"],
      checked: [],
      notChecked: ["extension data of postgis"],
    },
    error: { code: "RESTORE_VERIFICATION_FAILED", message: "rows differ" },
  });
  const databases = Array.from({ length: 40 }, (_, index) => failedDatabase(index));

  it("names the first few failed databases and counts the rest", () => {
    const failure = databasesFailure(databases);

    expect(failure?.message).toMatch(/^40 of 40 databases failed: db0: rows differ; /);
    expect(failure?.message).toContain("db4: rows differ");
    expect(failure?.message).not.toContain("db5:");
    expect(failure?.message).toMatch(/… and 35 more$/);
  });

  it("lists the first few things not checked and counts the rest", () => {
    const verification = combinedVerification(databases);

    expect(verification?.notChecked).toHaveLength(6);
    expect(verification?.notChecked?.at(-1)).toBe("… and 35 more");
    expect(verification?.mismatches).toHaveLength(40);
  });
});
