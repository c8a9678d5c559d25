import { describe, expect, it } from "vitest";
import { samePolicy } from "../../../../src/domain/policy/sameness.js";
import { compilePolicySpec } from "../../../../src/domain/policy/spec.js";
import type { BackupPolicy } from "../../../../src/domain/policy/types.js";

const weekly = compilePolicySpec({
  datasourceType: "AzureDatabaseForPostgreSQL",
  schedule: { days: ["Sunday"], time: "22:00" },
  retention: { default: "P3M" },
});

/** The same value with every object's keys in reverse order. */
function reversedKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reversedKeys) as T;
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reversedKeys(v)]),
  ) as T;
}

describe("samePolicy", () => {
  it("takes a policy written with its keys in another order for the same policy", () => {
    // Arrange
    const reordered = reversedKeys(weekly);

    // Act
    const same = samePolicy(weekly, reordered);

    // Assert
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(weekly));
    expect(same).toBe(true);
  });

  it("ignores what the service echoes: the informal name and null fields", () => {
    // Arrange
    const echoed = {
      ...weekly,
      name: "weekly",
      datasourceTypes: [...weekly.datasourceTypes],
    } as BackupPolicy;
    (echoed as unknown as Record<string, unknown>).extra = null;

    // Act
    const same = samePolicy(weekly, echoed);

    // Assert
    expect(same).toBe(true);
  });

  it("tells apart policies that keep recovery points for different durations", () => {
    // Arrange
    const longer = compilePolicySpec({
      datasourceType: "AzureDatabaseForPostgreSQL",
      schedule: { days: ["Sunday"], time: "22:00" },
      retention: { default: "P6M" },
    });

    // Act
    const same = samePolicy(weekly, longer);

    // Assert
    expect(same).toBe(false);
  });
});
