import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../../src/domain/errors.js";
import {
  dueOccurrence,
  parseBackupPlans,
  planRunInstanceId,
  planSelects,
  type PlanCandidate,
} from "../../../../src/domain/plans/plans.js";

const utc = (text: string) => new Date(`${text}Z`);

const candidate = (overrides: Partial<PlanCandidate> = {}): PlanCandidate => ({
  name: "local-sales-0b6c2a4e-9d1f-4c3e-8a7b-1f2e3d4c5b6a",
  friendlyName: "local/sales",
  protectionStatus: "ProtectionConfigured",
  tags: {},
  ...overrides,
});

describe("reading BACKUP_PLANS", () => {
  it("reads a month-end plan with its defaults", () => {
    const [plan] = parseBackupPlans(
      JSON.stringify([
        {
          name: "month-end",
          schedule: "0 0 22 * * *",
          calendar: "lastBusinessDayOfMonth",
          select: { tags: { tier: "gold" } },
          ruleName: "BackupWeekly",
          retentionTagOverride: "Monthly",
        },
      ]),
    );

    expect(plan).toMatchObject({
      name: "month-end",
      calendar: "lastBusinessDayOfMonth",
      catchUpHours: 1,
      retentionTagOverride: "Monthly",
    });
  });

  it("names the JSON path of every problem", () => {
    try {
      parseBackupPlans(
        JSON.stringify([
          {
            name: "x",
            schedule: "0 0 22 * *",
            select: {},
            ruleName: "BackupWeekly",
            calendar: "someday",
          },
        ]),
      );
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInputError);
      const paths = (error as InvalidInputError).problems.map((p) => p.path).sort();
      expect(paths).toEqual(["$[0].calendar", "$[0].schedule", "$[0].select"]);
    }
  });

  it("refuses two plans of the same name", () => {
    const plan = {
      name: "nightly",
      schedule: "0 0 1 * * *",
      select: { backupInstances: ["local/sales"] },
      ruleName: "BackupWeekly",
    };

    expect(() => parseBackupPlans(JSON.stringify([plan, { ...plan, name: "Nightly" }]))).toThrow(
      "twice",
    );
  });

  it("refuses text that is not JSON", () => {
    expect(() => parseBackupPlans("[{")).toThrow("not JSON");
  });
});

describe("when a plan is due", () => {
  const nightly = { schedule: "0 0 1 * * *", catchUpHours: 1 };

  it("runs an occurrence within the catch-up window, and not after it", () => {
    expect(dueOccurrence(nightly, utc("2026-03-02T01:04:59"))?.toISOString()).toBe(
      "2026-03-02T01:00:00.000Z",
    );
    expect(dueOccurrence(nightly, utc("2026-03-02T02:00:01"))).toBeUndefined();
  });

  it("runs only the latest occurrence after an outage", () => {
    const hourly = { schedule: "0 0 * * * *", catchUpHours: 6 };

    expect(dueOccurrence(hourly, utc("2026-03-02T05:10:00"))?.toISOString()).toBe(
      "2026-03-02T05:00:00.000Z",
    );
  });
});

describe("which instances a plan selects", () => {
  it("selects an instance by its name or its friendly name, in any case", () => {
    expect(planSelects({ select: { backupInstances: ["LOCAL/SALES"] } }, candidate())).toBe(true);
    expect(planSelects({ select: { backupInstances: [candidate().name] } }, candidate())).toBe(
      true,
    );
    expect(planSelects({ select: { backupInstances: ["local/hr"] } }, candidate())).toBe(false);
  });

  it("selects by datasource tags only when every tag matches", () => {
    const plan = { select: { tags: { tier: "gold", env: "prod" } } };

    expect(planSelects(plan, candidate({ tags: { Tier: "Gold", env: "prod", owner: "a" } }))).toBe(
      true,
    );
    expect(planSelects(plan, candidate({ tags: { tier: "gold" } }))).toBe(false);
  });

  it("adds the named instances to the tagged ones", () => {
    const plan = { select: { backupInstances: ["local/hr"], tags: { tier: "gold" } } };

    expect(planSelects(plan, candidate({ friendlyName: "local/hr" }))).toBe(true);
    expect(planSelects(plan, candidate({ tags: { tier: "gold" } }))).toBe(true);
    expect(planSelects(plan, candidate())).toBe(false);
  });

  it("leaves out instances whose protection is stopped", () => {
    expect(
      planSelects(
        { select: { backupInstances: ["local/sales"] } },
        candidate({ protectionStatus: "ProtectionStopped" }),
      ),
    ).toBe(false);
  });
});

describe("the instance id of a plan run", () => {
  it("is the same for the same plan, instance and occurrence, and differs otherwise", () => {
    const at = utc("2026-05-29T22:00:00");
    const id = planRunInstanceId("month-end", "local-sales-abc", at);

    expect(id).toBe("plan-month-end-local-sales-abc-20260529t220000z");
    expect(planRunInstanceId("month-end", "local-sales-abc", new Date(at))).toBe(id);
    expect(planRunInstanceId("month-end", "local-sales-abc", utc("2026-06-30T22:00:00"))).not.toBe(
      id,
    );
    expect(planRunInstanceId("nightly", "local-sales-abc", at)).not.toBe(id);
  });
});
