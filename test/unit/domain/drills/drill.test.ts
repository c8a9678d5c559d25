import { describe, expect, it } from "vitest";
import {
  isDrillId,
  isScratchDatabaseName,
  onDemandDrillId,
  scheduledDrillId,
  scratchDatabaseName,
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
