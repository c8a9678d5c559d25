import { describe, expect, it } from "vitest";
import { durableClockFrom, ManualClock } from "../../../src/durable/clock.js";
import { ManualClock as HostManualClock } from "../../../src/timers/clock.js";

describe("the Durable clock", () => {
  it("fires wake-ups in the order of their due times when a manual clock passes them", () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    clock.wakeAt(2000, () => fired.push("two"));
    clock.wakeAt(1000, () => fired.push("one"));
    const cancel = clock.wakeAt(1500, () => fired.push("cancelled"));
    cancel();

    clock.advance(999);
    const beforeDue = [...fired];
    clock.advance(1001);

    expect(beforeDue).toEqual([]);
    expect(fired).toEqual(["one", "two"]);
  });

  it("follows the host's clock when adapted from it", () => {
    const hostClock = new HostManualClock(new Date(Date.UTC(2030, 0, 1)));
    const clock = durableClockFrom(hostClock);
    let fired = false;
    clock.wakeAt(Date.UTC(2030, 0, 1, 0, 0, 5), () => (fired = true));

    hostClock.advanceTo(new Date(Date.UTC(2030, 0, 1, 0, 0, 5)));

    expect(clock.now()).toBe(Date.UTC(2030, 0, 1, 0, 0, 5));
    expect(fired).toBe(true);
  });
});
