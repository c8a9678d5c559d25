/** Tags and retention rules pair up by name: a tag marks backups, the rule of its name keeps them. */
import { ErrorCodes } from "../../errorCodes.js";
import type { PolicyProblems } from "./problems.js";

/**
 * Reports a supported retention rule with no tag of its name, then a tag with no retention rule
 * of its name (Default aside, which always pairs).
 */
export function validateTagRulePairing(
  ruleNames: ReadonlyMap<string, string>,
  tagNames: ReadonlyMap<string, string>,
  supportedTags: readonly string[],
  problems: PolicyProblems,
): void {
  for (const [name, path] of ruleNames) {
    if (name !== "Default" && !tagNames.has(name) && supportedTags.includes(name)) {
      problems.error(
        `${path}.name`,
        ErrorCodes.RETENTION_RULE_WITHOUT_TAG,
        `The retention rule '${name}' has no tag of the same name, so no backup is ever kept by it; add one with 'pgprotect policy tag set --name ${name}'.`,
      );
    }
  }
  for (const [name, path] of tagNames) {
    if (name !== "Default" && !ruleNames.has(name)) {
      problems.error(
        `${path}.tagInfo.tagName`,
        ErrorCodes.TAG_WITHOUT_RETENTION_RULE,
        `The tag '${name}' has no retention rule of the same name, so backups it marks have no retention; add one with 'pgprotect policy retention-rule set --name ${name}'.`,
      );
    }
  }
}
