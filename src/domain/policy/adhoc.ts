/**
 * Checks an ad-hoc backup request against the instance's policy before it reaches the service,
 * so the frequent mix-up of backup rule and retention rule gets an answer that names both.
 */
import { InvalidInputError, type InputProblem } from "../errors.js";
import { isBackupRule, isRetentionRule, type BackupPolicy } from "./types.js";

/**
 * Validates `ruleName` (a backup rule, e.g. `BackupWeekly`) and `retentionTagOverride` (a
 * retention rule's tag, e.g. `Monthly`) against a policy.
 *
 * @returns the backup rule's name and the retention tag the recovery point will carry.
 * @throws InvalidInputError `ADHOC_RULE_IS_RETENTION_RULE` when a retention rule is given as the
 * rule, naming the backup rule to use; `ADHOC_RULE_NOT_FOUND`, `ADHOC_TAG_NOT_FOUND` otherwise.
 */
export function checkAdhocBackupRequest(
  policy: BackupPolicy,
  ruleName: string,
  retentionTagOverride?: string,
): { ruleName: string; retentionTag: string } {
  const backupRules = policy.policyRules.filter(isBackupRule).map((rule) => rule.name);
  const retentionRules = policy.policyRules.filter(isRetentionRule).map((rule) => rule.name);
  const backupRule = backupRules[0] ?? "BackupWeekly";
  const problems: InputProblem[] = [];
  if (!backupRules.includes(ruleName)) {
    if (retentionRules.includes(ruleName)) {
      problems.push({
        path: "$.ruleName",
        code: "ADHOC_RULE_IS_RETENTION_RULE",
        message: `'${ruleName}' is a retention rule, not a backup rule: send ruleName '${backupRule}' and retentionTagOverride '${ruleName}' to keep this backup under the ${ruleName} rule`,
      });
    } else {
      problems.push({
        path: "$.ruleName",
        code: "ADHOC_RULE_NOT_FOUND",
        message: `the policy has no backup rule '${ruleName}'; its backup rule is '${backupRule}'`,
      });
    }
  }
  const tag = retentionTagOverride ?? "Default";
  if (!retentionRules.includes(tag)) {
    problems.push({
      path: "$.retentionTagOverride",
      code: "ADHOC_TAG_NOT_FOUND",
      message: `the policy has no retention rule '${tag}'; use one of ${retentionRules.join(", ")}`,
    });
  }
  if (problems.length > 0) {
    throw new InvalidInputError(
      problems[0]?.code ?? "ADHOC_INVALID",
      problems.map((p) => p.message).join("; "),
      problems,
    );
  }
  return { ruleName, retentionTag: tag };
}
