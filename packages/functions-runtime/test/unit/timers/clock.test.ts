import { describe, expect, test } from "vitest";
import { ManualClock, systemClock } from "../../../src/timers/clock.js";
import { formatWithOffset, timerInfoJson } from "../../../src/timers/scheduler.js";

describe("ManualClock", () => {
  test("fires due timers in time order at their own times and leaves later ones", () => {
    const clock = new ManualClock(new Date("2026-01-01T00:00:00Z"));
    const fired: string[] = [];
    clock.setTimer(new Date("2026-01-01T00:00:20Z"), () =>
      fired.push(`b@${clock.now().toISOString()}`),
    );
    clock.setTimer(new Date("2026-01-01T00:00:10Z"), () =>
      fired.push(`a@${clock.now().toISOString()}`),
    );
    clock.setTimer(new Date("2026-01-01T00:01:00Z"), () => fired.push("c"));

    clock.advanceBy(30_000);

    expect(fired).toEqual(["a@2026-01-01T00:00:10.000Z", "b@2026-01-01T00:00:20.000Z"]);
    expect(clock.now().toISOString()).toBe("2026-01-01T00:00:30.000Z");
    expect(clock.pendingTimers).toBe(1);
  });

  test("a cancelled timer never fires and a timer set while firing runs if it is due", () => {
    const clock = new ManualClock(new Date(0));
    const fired: string[] = [];
    const cancel = clock.setTimer(new Date(5), () => fired.push("cancelled"));
    clock.setTimer(new Date(10), () => {
      fired.push("first");
      clock.setTimer(new Date(15), () => fired.push("chained"));
    });

    cancel();
    clock.advanceTo(new Date(20));

    expect(fired).toEqual(["first", "chained"]);
  });
});

describe("systemClock", () => {
  test("calls back once the time has come", async () => {
    const start = Date.now();

    await new Promise<void>((resolve) => systemClock.setTimer(new Date(start + 20), resolve));

    expect(Date.now()).toBeGreaterThanOrEqual(start + 20);
  });
});

describe("the timer payload", () => {
  test("dates carry the local offset and denote the same instant", () => {
    const date = new Date(2026, 5, 15, 8, 9, 10, 11);

    const text = formatWithOffset(date);

    expect(text).toMatch(/^2026-06-15T08:09:10\.011[+-]\d\d:\d\d$/);
    expect(new Date(text).getTime()).toBe(date.getTime());
  });

  test("is PascalCase JSON as the host sends it, with a null status when there is no monitor", () => {
    expect(JSON.parse(timerInfoJson(null, true))).toEqual({
      Schedule: { AdjustForDST: true },
      ScheduleStatus: null,
      IsPastDue: true,
    });
    expect(
      JSON.parse(timerInfoJson({ last: "a", next: "b", lastUpdated: "c" }, false)),
    ).toMatchObject({
      ScheduleStatus: { Last: "a", Next: "b", LastUpdated: "c" },
    });
  });
});
