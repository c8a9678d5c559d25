import { describe, expect, it } from "vitest";
import { compilePolicySpec } from "../../../../src/domain/policy/spec.js";
import { expectedBackupPeriod, overdueSince } from "../../../../src/domain/plans/staleness.js";

describe("stale protection", () => {
  it("reads a weekly policy's period", () => {
    const policy = compilePolicySpec({
      datasourceType: "AzureDatabaseForPostgreSQL",
      schedule: { days: ["Sunday"], time: "22:00" },
      retention: { default: "P3M" },
    });

    expect(expectedBackupPeriod(policy)).toBe("P1W");
  });

  it("is overdue eight days after the last success of a weekly policy, not before", () => {
    const input = {
      protectedSince: "2026-01-01T00:00:00Z",
      lastSuccessfulBackupTime: "2026-03-01T22:10:00Z",
      expectedEvery: "P1W",
    };

    expect(overdueSince(input, new Date("2026-03-09T22:09:59Z"))).toBeUndefined();
    expect(overdueSince(input, new Date("2026-03-10T08:00:00Z"))).toBe("2026-03-09T22:10:00.000Z");
  });

  it("counts from the start of protection when no backup ever succeeded", () => {
    const input = { protectedSince: "2026-03-01T00:00:00Z", expectedEvery: "P1W" };

    expect(overdueSince(input, new Date("2026-03-12T00:00:00Z"))).toBe("2026-03-09T00:00:00.000Z");
  });

  it("uses a configured period instead of the policy's", () => {
    const input = {
      protectedSince: "2026-03-01T00:00:00Z",
      expectedEvery: "P1W",
      staleAfter: "P2D",
    };

    expect(overdueSince(input, new Date("2026-03-03T00:00:00Z"))).toBe("2026-03-03T00:00:00.000Z");
  });

  it("counts from when the app configured protection when the service's time is only when it was read", () => {
    // Arrange: the service gave no creation time, so the instance carries the time of each read.
    const configuredAt = "2026-03-01T00:00:00Z";
    const firstRead = {
      protectedSince: "2026-03-12T00:00:00Z",
      configuredAt,
      expectedEvery: "P1W",
    };
    const laterRead = {
      protectedSince: "2026-03-13T00:00:00Z",
      configuredAt,
      expectedEvery: "P1W",
    };

    // Act
    const first = overdueSince(firstRead, new Date("2026-03-12T00:00:00Z"));
    const later = overdueSince(laterRead, new Date("2026-03-13T00:00:00Z"));

    // Assert: overdue, and the same missed backup both times.
    expect(first).toBe("2026-03-09T00:00:00.000Z");
    expect(later).toBe(first);
  });

  it("counts from when the app configured protection when the service gives no time at all", () => {
    const input = { configuredAt: "2026-03-01T00:00:00Z", expectedEvery: "P1W" };

    expect(overdueSince(input, new Date("2026-03-12T00:00:00Z"))).toBe("2026-03-09T00:00:00.000Z");
  });

  it("keeps counting from the last success once there is one", () => {
    const input = {
      protectedSince: "2026-03-20T00:00:00Z",
      configuredAt: "2026-01-01T00:00:00Z",
      lastSuccessfulBackupTime: "2026-03-08T22:10:00Z",
      expectedEvery: "P1W",
    };

    expect(overdueSince(input, new Date("2026-03-12T00:00:00Z"))).toBeUndefined();
  });

  it("is never overdue when no time at all is known", () => {
    expect(
      overdueSince({ expectedEvery: "P1W" }, new Date("2026-03-12T00:00:00Z")),
    ).toBeUndefined();
  });
});
