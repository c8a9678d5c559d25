import { describe, expect, it } from "vitest";
import { parseDrillSchedules } from "../../../../src/domain/drills/schedules.js";
import { InvalidInputError } from "../../../../src/domain/errors.js";
import { parseBackupPlans } from "../../../../src/domain/plans/plans.js";

const plan = (fields: object) => ({
  name: "month-end",
  schedule: "0 0 22 * * *",
  select: { tags: { tier: "gold" } },
  ruleName: "BackupWeekly",
  ...fields,
});
const drill = (fields: object) => ({
  name: "month-end",
  schedule: "0 0 22 * * *",
  select: { tags: { tier: "gold" } },
  ...fields,
});

function problemsOf(parse: () => unknown): { path: string; code: string; message: string }[] {
  try {
    parse();
  } catch (error) {
    if (error instanceof InvalidInputError) return [...(error.problems ?? [])];
    throw error;
  }
  throw new Error("the setting was accepted");
}

describe("the scheduled settings BACKUP_PLANS and DRILL_SCHEDULES", () => {
  it.each([
    ["a schedule that is not NCRONTAB", { schedule: "every sunday" }, "$[0].schedule"],
    ["a name with a space", { name: "month end" }, "$[0].name"],
    ["an unknown calendar", { calendar: "fullMoon" }, "$[0].calendar"],
    ["a catch-up window over two days", { catchUpHours: 49 }, "$[0].catchUpHours"],
  ])("refuse %s alike, at the same path", (_what, fields, path) => {
    // Act
    const planProblems = problemsOf(() => parseBackupPlans(JSON.stringify([plan(fields)])));
    const drillProblems = problemsOf(() => parseDrillSchedules(JSON.stringify([drill(fields)])));

    // Assert
    expect(planProblems.map((p) => [p.path, p.message])).toEqual(
      drillProblems.map((p) => [p.path, p.message]),
    );
    expect(planProblems.map((p) => p.path)).toEqual([path]);
    expect(planProblems[0]?.code).toBe("PLANS_INVALID");
    expect(drillProblems[0]?.code).toBe("DRILL_SCHEDULES_INVALID");
  });

  it("refuse a name given twice, whatever its case, naming the setting and the second entry", () => {
    // Act
    const parsePlans = () =>
      parseBackupPlans(JSON.stringify([plan({}), plan({ name: "Month-End" })]));
    const parseDrills = () =>
      parseDrillSchedules(JSON.stringify([drill({}), drill({ name: "Month-End" })]));

    // Assert
    expect(parsePlans).toThrow("BACKUP_PLANS names the plan 'Month-End' twice");
    expect(parseDrills).toThrow("DRILL_SCHEDULES names the schedule 'Month-End' twice");
    expect(problemsOf(parsePlans)).toEqual([
      { path: "$[1].name", code: "PLANS_INVALID", message: "plan names must be unique" },
    ]);
    expect(problemsOf(parseDrills)).toEqual([
      {
        path: "$[1].name",
        code: "DRILL_SCHEDULES_INVALID",
        message: "schedule names must be unique",
      },
    ]);
  });

  it("say which setting is not JSON", () => {
    expect(() => parseBackupPlans("[{")).toThrow(/^BACKUP_PLANS is not JSON: /);
    expect(() => parseDrillSchedules("[{")).toThrow(/^DRILL_SCHEDULES is not JSON: /);
  });
});
