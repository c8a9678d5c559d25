import { describe, expect, test } from "vitest";
import { HostLog, parseLogLevel } from "../../../src/core/hostLog.js";

describe("the host log", () => {
  test("reads levels as host.json writes them", () => {
    expect(parseLogLevel("Information")).toBe("information");
    expect(parseLogLevel("Warning")).toBe("warning");
    expect(parseLogLevel("warn")).toBe("warning");
    expect(parseLogLevel("None")).toBe("none");
    expect(parseLogLevel("Verbose")).toBeUndefined();
  });

  test("drops lines below the minimum level and labels the rest with time, level and function", () => {
    const lines: string[] = [];
    const log = new HostLog(
      (line) => lines.push(line),
      "information",
      () => new Date("2026-01-01T00:00:00Z"),
    );

    log.write("debug", "hidden");
    log.write("information", "shown", "hello");
    log.write("error", "first\nsecond");

    expect(lines).toEqual([
      "[2026-01-01T00:00:00.000Z] [hello] shown",
      "[2026-01-01T00:00:00.000Z] [Error] first",
      "[2026-01-01T00:00:00.000Z] [Error] second",
    ]);
  });

  test("keeps a function's own level for its lines and the host's lines about it", () => {
    const lines: string[] = [];
    const log = new HostLog(
      (line) => lines.push(line),
      "information",
      () => new Date("2026-01-01T00:00:00Z"),
      { everySecond: "warning" },
    );

    log.writeAbout("EverySecond", "information", "Executed 'Functions.everySecond' (Succeeded)");
    log.write("information", "looked, nothing new", "everySecond");
    log.writeAbout("everySecond", "error", "Executed 'Functions.everySecond' (Failed)");
    log.writeAbout("other", "information", "Executed 'Functions.other' (Succeeded)");

    expect(lines).toEqual([
      "[2026-01-01T00:00:00.000Z] [Error] Executed 'Functions.everySecond' (Failed)",
      "[2026-01-01T00:00:00.000Z] Executed 'Functions.other' (Succeeded)",
    ]);
  });

  test("at level none, only the banner is written", () => {
    const lines: string[] = [];
    const log = new HostLog((line) => lines.push(line), "none");

    log.write("critical", "hidden");
    log.banner("Functions:");

    expect(lines).toEqual(["Functions:"]);
  });
});
