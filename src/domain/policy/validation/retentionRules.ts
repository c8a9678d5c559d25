/** The policy's retention rules: one Default, the others named after supported tags. */
import { ErrorCodes } from "../../errorCodes.js";
import type { DatasourceManifest } from "../datasources.js";
import { validateLifecycles } from "./lifecycles.js";
import type { LocatedRule, PolicyProblems } from "./problems.js";

/**
 * Checks the retention rules' names, their one Default, and each rule's lifecycles.
 *
 * @returns each rule name with the path of the rule that (last) defines it, for pairing with
 * the tags.
 */
export function validateRetentionRules(
  retentionRules: readonly LocatedRule[],
  root: string,
  manifest: DatasourceManifest | undefined,
  supportedTags: readonly string[],
  problems: PolicyProblems,
): Map<string, string> {
  const ruleNames = new Map<string, string>();
  let defaultRules = 0;
  for (const { rule, path } of retentionRules) {
    const name = typeof rule.name === "string" ? rule.name : "";
    if (ruleNames.has(name))
      problems.error(
        `${path}.name`,
        ErrorCodes.RETENTION_RULE_DUPLICATE,
        `The retention rule '${name}' is defined twice.`,
      );
    ruleNames.set(name, path);
    if (rule.isDefault === true) {
      defaultRules += 1;
      if (name !== "Default")
        problems.error(
          `${path}.name`,
          ErrorCodes.RETENTION_DEFAULT_INVALID,
          `The default retention rule must be named 'Default', not '${name}'.`,
        );
    } else if (name === "Default") {
      problems.error(
        `${path}.isDefault`,
        ErrorCodes.RETENTION_DEFAULT_INVALID,
        "The rule named Default must have isDefault true.",
      );
    } else if (!supportedTags.includes(name)) {
      problems.error(
        `${path}.name`,
        ErrorCodes.RETENTION_RULE_NAME_UNSUPPORTED,
        `'${name}' cannot name a retention rule; use Default or ${supportedTags.join(", ")}.`,
      );
    }
    validateLifecycles(rule.lifecycles, `${path}.lifecycles`, name, manifest, problems);
  }
  if (retentionRules.length > 0 && defaultRules === 0) {
    problems.error(
      `${root}.policyRules`,
      ErrorCodes.RETENTION_DEFAULT_MISSING,
      "The policy has no Default retention rule (isDefault true); backups without another tag would have no retention.",
    );
  } else if (retentionRules.length === 0) {
    problems.error(
      `${root}.policyRules`,
      ErrorCodes.RETENTION_DEFAULT_MISSING,
      "The policy has no retention rule; add the Default rule.",
    );
  } else if (defaultRules > 1) {
    problems.error(
      `${root}.policyRules`,
      ErrorCodes.RETENTION_DEFAULT_DUPLICATE,
      "Only one retention rule can be the default.",
    );
  }
  return ruleNames;
}
