/** The policy's list of rules, sorted into the backup rules and the retention rules. */
import { ErrorCodes } from "../../errorCodes.js";
import { isObject, type LocatedRule, type PolicyProblems } from "./problems.js";

/** The rules of a policy by kind, each with its path, in the order the policy lists them. */
export interface SortedRules {
  readonly backupRules: readonly LocatedRule[];
  readonly retentionRules: readonly LocatedRule[];
}

/**
 * Sorts `policyRules` by objectType, reporting a rule that is not an object, has another
 * objectType or has no name.
 */
export function sortPolicyRules(
  rules: readonly unknown[],
  root: string,
  problems: PolicyProblems,
): SortedRules {
  const backupRules: LocatedRule[] = [];
  const retentionRules: LocatedRule[] = [];
  rules.forEach((rule, i) => {
    const path = `${root}.policyRules[${i}]`;
    if (!isObject(rule)) {
      problems.error(path, ErrorCodes.POLICY_RULE_INVALID, "A policy rule must be a JSON object.");
    } else if (rule.objectType === "AzureBackupRule") {
      backupRules.push({ rule, path });
    } else if (rule.objectType === "AzureRetentionRule") {
      retentionRules.push({ rule, path });
    } else {
      problems.error(
        `${path}.objectType`,
        ErrorCodes.POLICY_RULE_OBJECT_TYPE_INVALID,
        `objectType must be "AzureBackupRule" or "AzureRetentionRule", not ${JSON.stringify(rule.objectType)}.`,
      );
    }
    if (isObject(rule) && (typeof rule.name !== "string" || rule.name === "")) {
      problems.error(
        `${path}.name`,
        ErrorCodes.POLICY_RULE_NAME_MISSING,
        "Every policy rule needs a name.",
      );
    }
  });
  return { backupRules, retentionRules };
}
