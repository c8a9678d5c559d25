import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../../src/domain/errors.js";
import {
  drillSelects,
  parseDrillSchedules,
  type DrillCandidate,
} from "../../../../src/domain/drills/schedules.js";
import { parseBackupPlans } from "../../../../src/domain/plans/plans.js";

const candidate = (overrides: Partial<DrillCandidate> = {}): DrillCandidate => ({
  name: "local-sales-0b6c2a4e-9d1f-4c3e-8a7b-1f2e3d4c5b6a",
  friendlyName: "local/sales",
  protectionStatus: "ProtectionConfigured",
  policyName: "weekly",
  tags: {},
  ...overrides,
});

describe("reading DRILL_SCHEDULES", () => {
  it("reads a schedule with its defaults", () => {
    const [schedule] = parseDrillSchedules(
      JSON.stringify([
        { name: "sunday", schedule: "0 0 3 * * 0", select: { policies: ["weekly"] } },
      ]),
    );

    expect(schedule).toEqual({
      name: "sunday",
      schedule: "0 0 3 * * 0",
      select: { policies: ["weekly"] },
      catchUpHours: 1,
    });
  });

  it("refuses a schedule that selects nothing, naming its path", () => {
    const parse = () =>
      parseDrillSchedules(JSON.stringify([{ name: "x", schedule: "0 0 3 * * 0", select: {} }]));

    expect(parse).toThrow(InvalidInputError);
    expect(parse).toThrow(/\$\[0\]\.select: select backup instances by name/);
  });

  it("refuses a schedule that is not NCRONTAB and a name given twice", () => {
    expect(() =>
      parseDrillSchedules(
        JSON.stringify([{ name: "x", schedule: "every night", select: { policies: ["p"] } }]),
      ),
    ).toThrow(/DRILL_SCHEDULES is invalid: \$\[0\]\.schedule/);
    expect(() =>
      parseDrillSchedules(
        JSON.stringify([
          { name: "x", schedule: "0 0 3 * * 0", select: { policies: ["p"] } },
          { name: "X", schedule: "0 0 4 * * 0", select: { policies: ["p"] } },
        ]),
      ),
    ).toThrow("DRILL_SCHEDULES names the schedule 'X' twice");
  });

  it("refuses a schedule naming a backup plan that BACKUP_PLANS does not have", () => {
    const text = JSON.stringify([
      { name: "x", schedule: "0 0 3 * * 0", select: { plans: ["month-end"] } },
    ]);

    expect(() => parseDrillSchedules(text, [])).toThrow(
      "The drill schedule 'x' names the backup plan 'month-end', which BACKUP_PLANS does not have",
    );
    expect(parseDrillSchedules(text, [{ name: "Month-End" }])).toHaveLength(1);
  });
});

describe("which instances a drill schedule selects", () => {
  it("selects by policy, by name and by tags, and only instances whose protection is configured", () => {
    const byPolicy = { select: { policies: ["WEEKLY"] } };
    const byName = { select: { backupInstances: ["local/sales"] } };
    const byTags = { select: { tags: { tier: "gold" } } };

    expect(drillSelects(byPolicy, candidate())).toBe(true);
    expect(drillSelects(byPolicy, candidate({ policyName: "monthly" }))).toBe(false);
    expect(drillSelects(byName, candidate())).toBe(true);
    expect(drillSelects(byTags, candidate({ tags: { Tier: "Gold" } }))).toBe(true);
    expect(drillSelects(byTags, candidate())).toBe(false);
    expect(drillSelects(byPolicy, candidate({ protectionStatus: "ProtectionStopped" }))).toBe(
      false,
    );
  });

  it("selects what a named backup plan selects", () => {
    const plans = parseBackupPlans(
      JSON.stringify([
        {
          name: "month-end",
          schedule: "0 0 22 * * *",
          select: { tags: { tier: "gold" } },
          ruleName: "BackupWeekly",
        },
      ]),
    );
    const schedule = { select: { plans: ["month-end"] } };

    expect(drillSelects(schedule, candidate({ tags: { tier: "gold" } }), plans)).toBe(true);
    expect(drillSelects(schedule, candidate({ tags: { tier: "silver" } }), plans)).toBe(false);
  });
});
