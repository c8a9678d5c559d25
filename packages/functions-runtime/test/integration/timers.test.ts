import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ManualClock } from "../../src/timers/clock.js";
import { formatWithOffset } from "../../src/timers/scheduler.js";
import { startFixtureHost, type TestHost } from "./runtimeHost.js";

interface TimerPayload {
  readonly schedule: { readonly adjustForDST: boolean };
  readonly scheduleStatus: {
    readonly last: string;
    readonly next: string;
    readonly lastUpdated: string;
  } | null;
  readonly isPastDue: boolean;
}

async function received(
  testHost: TestHost,
  kind: string,
): Promise<Array<{ payload: { timer?: TimerPayload } }>> {
  const response = await fetch(`${testHost.host.url}/api/received?kind=${kind}`);
  return (await response.json()) as Array<{ payload: { timer?: TimerPayload } }>;
}

describe("timer triggers driven by a manual clock", () => {
  // Local time, as the host evaluates NCRONTAB schedules.
  const start = new Date(2026, 2, 2, 10, 2, 30);
  const clock = new ManualClock(start);
  let stateDir: string;
  let testHost: TestHost;

  beforeAll(async () => {
    stateDir = mkdtempSync(path.join(os.tmpdir(), "pgprotect-timers-"));
    testHost = await startFixtureHost({ clock, stateDir });
    await testHost.host.timers.idle();
  });

  afterAll(async () => {
    await testHost.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  test("runOnStartup runs the timer once at start, not past due, with its schedule status", async () => {
    const runs = await received(testHost, "startup");

    expect(runs).toHaveLength(1);
    expect(runs[0]?.payload.timer).toEqual({
      schedule: { adjustForDST: true },
      scheduleStatus: {
        last: "0001-01-01T00:00:00",
        next: formatWithOffset(new Date(2027, 0, 1, 0, 0, 0)),
        lastUpdated: formatWithOffset(start),
      },
      isPastDue: false,
    });
  });

  test("a six-field schedule fires at its occurrences only, and each run sees the previous run in its status", async () => {
    clock.advanceTo(new Date(2026, 2, 2, 10, 4, 59));
    await testHost.host.timers.idle();
    expect(await received(testHost, "timer")).toHaveLength(0);

    clock.advanceTo(new Date(2026, 2, 2, 10, 10, 0));
    await testHost.host.timers.idle();

    const runs = await received(testHost, "timer");
    expect(runs.map((run) => run.payload.timer?.scheduleStatus?.next)).toEqual([
      formatWithOffset(new Date(2026, 2, 2, 10, 5, 0)),
      formatWithOffset(new Date(2026, 2, 2, 10, 10, 0)),
    ]);
    expect(runs[1]?.payload.timer?.scheduleStatus?.last).toBe(
      formatWithOffset(new Date(2026, 2, 2, 10, 5, 0)),
    );
    expect(runs.every((run) => run.payload.timer?.isPastDue === false)).toBe(true);
    expect(testHost.host.timers.status("everyFiveMinutes")).toMatchObject({
      last: formatWithOffset(new Date(2026, 2, 2, 10, 10, 0)),
      next: formatWithOffset(new Date(2026, 2, 2, 10, 15, 0)),
    });
  });

  test("a failing timer keeps its schedule and its %Setting% schedule is resolved from app settings", async () => {
    clock.advanceTo(new Date(2026, 2, 2, 12, 0, 0));
    await testHost.host.timers.idle();

    expect(await received(testHost, "failing")).toHaveLength(2);
    expect(
      testHost.logLines.filter((line) => /Executed 'Functions\.failingTimer' \(Failed/.test(line)),
    ).toHaveLength(2);
  });

  test("an occurrence missed while the host was down runs at the next start with isPastDue", async () => {
    await testHost.close();
    const later = new ManualClock(new Date(2026, 2, 2, 12, 47, 0));

    testHost = await startFixtureHost({ clock: later, stateDir });
    await testHost.host.timers.idle();

    const runs = await received(testHost, "timer");
    expect(runs).toHaveLength(1);
    expect(runs[0]?.payload.timer).toMatchObject({
      isPastDue: true,
      scheduleStatus: { next: formatWithOffset(new Date(2026, 2, 2, 12, 5, 0)) },
    });
  });
});

describe("a timer with a fixed-delay retry policy", () => {
  const clock = new ManualClock(new Date(2026, 2, 2, 10, 0, 0));
  let testHost: TestHost;

  beforeAll(async () => {
    testHost = await startFixtureHost({ clock, env: { FIXTURE_RETRY_SCHEDULE: "0 30 10 * * *" } });
    await testHost.host.timers.idle();
  });

  afterAll(async () => {
    await testHost.close();
  });

  test("is retried after the delay with the retry context, until an attempt succeeds", async () => {
    clock.advanceTo(new Date(2026, 2, 2, 10, 30, 0));
    await testHost.waitForLog(/Retrying 'Functions\.retryingTimer' in 5000 ms \(retry 1 of 2\)/);
    clock.advanceBy(5_000);
    await testHost.waitForLog(/Retrying 'Functions\.retryingTimer' in 5000 ms \(retry 2 of 2\)/);
    clock.advanceBy(5_000);
    await testHost.host.timers.idle();

    const response = await fetch(`${testHost.host.url}/api/received?kind=retrying`);
    const attempts = (await response.json()) as Array<{
      payload: {
        retryContext: {
          retryCount: number;
          maxRetryCount: number;
          exception?: { message: string };
        };
      };
    }>;
    expect(attempts.map((attempt) => attempt.payload.retryContext.retryCount)).toEqual([0, 1, 2]);
    expect(attempts[0]?.payload.retryContext).toEqual({ retryCount: 0, maxRetryCount: 2 });
    expect(attempts[2]?.payload.retryContext.exception?.message).toContain("attempt 1 fails");
    expect(
      testHost.logLines.filter((line) =>
        /Executed 'Functions\.retryingTimer' \(Succeeded/.test(line),
      ),
    ).toHaveLength(1);
  });
});
