import { describe, expect, it } from "vitest";
import {
  WEEKLY_BACKUP_LIMIT_CODE,
  weeklyBackupLimitViolation,
  weekStartUtc,
} from "../../../../src/domain/protection/rules.js";

const FLEX = "Microsoft.DBforPostgreSQL/flexibleServers";
const at = (iso: string) => new Date(iso);

describe("one backup a week on Flexible Server", () => {
  it("starts weeks on Monday 00:00 UTC", () => {
    expect(weekStartUtc(at("2026-11-29T23:59:59Z")).toISOString()).toBe("2026-11-23T00:00:00.000Z");
    expect(weekStartUtc(at("2026-11-30T00:00:00Z")).toISOString()).toBe("2026-11-30T00:00:00.000Z");
  });

  it("refuses a second backup in the same week, naming when the next may run", () => {
    const violation = weeklyBackupLimitViolation(
      FLEX,
      [at("2026-11-23T06:30:00Z")],
      at("2026-11-29T22:00:00Z"),
    );

    expect(violation?.code).toBe(WEEKLY_BACKUP_LIMIT_CODE);
    expect(violation?.recommendedAction).toContain("2026-11-30T00:00:00.000Z");
  });

  it("allows the first backup of a new week and any number of database backups", () => {
    expect(
      weeklyBackupLimitViolation(FLEX, [at("2026-11-22T23:00:00Z")], at("2026-11-23T00:00:00Z")),
    ).toBeUndefined();
    expect(
      weeklyBackupLimitViolation(
        "Microsoft.DBforPostgreSQL/servers/databases",
        [at("2026-11-23T06:30:00Z")],
        at("2026-11-23T07:00:00Z"),
      ),
    ).toBeUndefined();
  });
});
