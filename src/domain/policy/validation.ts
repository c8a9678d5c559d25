/**
 * Policy validation against the service's rules for PostgreSQL, so mistakes surface when a
 * policy is written, not when the service rejects it or, worse, silently keeps nothing.
 */
import { ErrorCodes } from "../errorCodes.js";
import { InvalidInputError } from "../errors.js";
import type { BackupPolicy } from "./types.js";
import { validateBackupRules } from "./validation/backupRule.js";
import { supportedTagsOf, validateDatasourceTypes } from "./validation/datasourceTypes.js";
import { sortPolicyRules } from "./validation/policyRules.js";
import { isObject, PolicyProblems, type PolicyProblem } from "./validation/problems.js";
import { validateRetentionRules } from "./validation/retentionRules.js";
import { validateTagRulePairing } from "./validation/tagRulePairing.js";

export type { PolicyProblem } from "./validation/problems.js";

/** The outcome of {@link validatePolicy}. */
export interface PolicyValidationResult {
  /** True when there is no problem of severity `error`. */
  readonly valid: boolean;
  readonly problems: readonly PolicyProblem[];
  /** The datasource kind the policy is for, when recognisable. */
  readonly datasourceKind?: string;
}

/**
 * The most problems an answer lists: a policy with thousands of bad entries is answered with the
 * first ones and the count, not with one line for each.
 */
export const maxReportedProblems = 100;

/** A validation answer that lists at most `limit` problems, with the count of all of them. */
export interface ReportedPolicyValidation extends PolicyValidationResult {
  /** How many problems the policy has, listed or not. */
  readonly problemCount: number;
  /** True when `problems` lists only the first {@link maxReportedProblems}. */
  readonly problemsTruncated: boolean;
}

/** The result with only its first `limit` problems listed, and the count of all. */
export function reportValidation(
  result: PolicyValidationResult,
  limit: number = maxReportedProblems,
): ReportedPolicyValidation {
  return {
    ...result,
    problems: result.problems.slice(0, limit),
    problemCount: result.problems.length,
    problemsTruncated: result.problems.length > limit,
  };
}

/**
 * Locates the policy in a document: a bare policy (`{objectType: "BackupPolicy", ...}`) or a
 * policy resource as the service returns it (`{id, name, properties: {...}}`).
 *
 * @returns the policy and the JSON path it sits at.
 */
export function locatePolicy(document: unknown): { policy: unknown; path: string } {
  if (isObject(document) && !("policyRules" in document) && isObject(document.properties)) {
    return { policy: document.properties, path: "$.properties" };
  }
  return { policy: document, path: "$" };
}

/**
 * Validates a backup policy (bare, or a policy resource) against the service's rules.
 *
 * @remarks Never changes the input. Checks the shape (objectTypes, required fields), the
 * schedule (well-formed intervals, weekly only, one backup a week for Flexible Server), tags
 * (names, priorities, criteria), retention (durations within 10 years, datastores, copy options,
 * archive lifecycles) and that every non-default retention rule has a tag of the same name and
 * the other way round.
 */
export function validatePolicy(document: unknown): PolicyValidationResult {
  const problems = new PolicyProblems();
  const { policy, path: root } = locatePolicy(document);
  if (!isObject(policy)) {
    problems.error(root, ErrorCodes.POLICY_NOT_AN_OBJECT, "A policy must be a JSON object.");
    return { valid: false, problems: problems.list };
  }
  if (policy.objectType !== "BackupPolicy") {
    problems.error(
      `${root}.objectType`,
      ErrorCodes.POLICY_OBJECT_TYPE_INVALID,
      `objectType must be "BackupPolicy", not ${JSON.stringify(policy.objectType)}.`,
    );
  }
  const manifest = validateDatasourceTypes(policy.datasourceTypes, root, problems);
  const kind = manifest ? { datasourceKind: manifest.kind } : {};
  const supportedTags = supportedTagsOf(manifest);
  if (!Array.isArray(policy.policyRules)) {
    problems.error(
      `${root}.policyRules`,
      ErrorCodes.POLICY_RULES_MISSING,
      "policyRules must be a list with one backup rule and at least the Default retention rule.",
    );
    return { valid: false, problems: problems.list, ...kind };
  }
  const { backupRules, retentionRules } = sortPolicyRules(policy.policyRules, root, problems);
  const tagNames = validateBackupRules(backupRules, root, manifest, supportedTags, problems);
  const ruleNames = validateRetentionRules(retentionRules, root, manifest, supportedTags, problems);
  validateTagRulePairing(ruleNames, tagNames, supportedTags, problems);
  return {
    valid: !problems.list.some((p) => p.severity === "error"),
    problems: problems.list,
    ...kind,
  };
}

/**
 * Validates a policy and returns it typed, or throws listing every error.
 *
 * @throws InvalidInputError with code `POLICY_INVALID` and the problems of severity `error`.
 */
export function assertValidPolicy(document: unknown): BackupPolicy {
  const result = validatePolicy(document);
  if (!result.valid) {
    const errors = result.problems.filter((p) => p.severity === "error");
    const listed = errors.slice(0, maxReportedProblems);
    const more =
      errors.length > listed.length
        ? ` (the first ${listed.length} of ${errors.length} are listed)`
        : "";
    throw new InvalidInputError(
      ErrorCodes.POLICY_INVALID,
      `The policy breaks ${errors.length} rule${errors.length === 1 ? "" : "s"}${more}: ${listed.map((p) => `${p.path}: ${p.message}`).join(" ")}`,
      listed.map(({ path, code, message }) => ({ path, code, message })),
    );
  }
  return locatePolicy(document).policy as BackupPolicy;
}
