import { describe, expect, it } from "vitest";
import { occurrencesBetween, parseNcrontab } from "../../../../src/domain/schedule/ncrontab.js";

const invalid = (reason: string) => new Error(reason);

describe("parseNcrontab", () => {
  it("reads the fields in UTC when asked, whatever the machine's zone", () => {
    // Arrange
    const schedule = parseNcrontab("0 30 22 * * Sun", { clock: "utc", invalid });

    // Act
    const next = schedule.nextAfter(new Date("2026-12-04T00:00:00Z"));

    // Assert
    expect(next.toISOString()).toBe("2026-12-06T22:30:00.000Z");
  });

  it("reads the fields in the machine's local time for the host's timers", () => {
    // Arrange
    const schedule = parseNcrontab("0 30 22 * * Sun", { clock: "local", invalid });

    // Act
    const next = schedule.nextAfter(new Date(2026, 11, 4, 0, 0, 0));

    // Assert
    expect(next).toEqual(new Date(2026, 11, 6, 22, 30, 0));
  });

  it("lists a window's occurrences, excluding its start and including its end", () => {
    // Arrange
    const schedule = parseNcrontab("0 0 */6 * * *", { clock: "utc", invalid });

    // Act
    const found = occurrencesBetween(
      schedule,
      new Date("2026-12-04T00:00:00Z"),
      new Date("2026-12-04T12:00:00Z"),
    );

    // Assert
    expect(found.map((d) => d.toISOString())).toEqual([
      "2026-12-04T06:00:00.000Z",
      "2026-12-04T12:00:00.000Z",
    ]);
  });

  it.each([
    ["0 0 0 30 Feb *", /never fires/],
    ["0 0 0 * * 7", /day-of-week 7 is outside 0-6/],
    ["0 0 25 * * *", /hour 25 is outside 0-23/],
    ["0 0 * * *", /expected six fields/],
  ])("refuses %s with the caller's error naming why", (expression, reason) => {
    expect(() => parseNcrontab(expression, { clock: "utc", invalid })).toThrow(reason);
  });
});
