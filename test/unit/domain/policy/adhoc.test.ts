import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../../src/domain/errors.js";
import { checkAdhocBackupRequest } from "../../../../src/domain/policy/adhoc.js";
import { compilePolicySpec } from "../../../../src/domain/policy/spec.js";

const policy = compilePolicySpec({
  schedule: { days: ["Sunday"], time: "22:00" },
  retention: { default: "P3M", monthly: { vault: "P1Y" } },
});

function messageOf(act: () => unknown): string {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as Error).message;
  }
  throw new Error("expected a refusal");
}

describe("checkAdhocBackupRequest", () => {
  it("accepts the backup rule with a retention tag", () => {
    expect(checkAdhocBackupRequest(policy, "BackupWeekly", "Monthly")).toEqual({
      ruleName: "BackupWeekly",
      retentionTag: "Monthly",
    });
  });

  it("names both the backup rule and the retention tag when a retention rule is given as ruleName", () => {
    const message = messageOf(() => checkAdhocBackupRequest(policy, "Monthly"));

    expect(message).toContain("ruleName 'BackupWeekly'");
    expect(message).toContain("retentionTagOverride 'Monthly'");
  });

  it("lists the retention rules when the tag does not exist", () => {
    expect(messageOf(() => checkAdhocBackupRequest(policy, "BackupWeekly", "Yearly"))).toContain(
      "Default, Monthly",
    );
  });
});
