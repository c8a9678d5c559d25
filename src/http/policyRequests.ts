/**
 * Request bodies of the policy endpoints: `PUT /api/vaults/{vault}/policies/{name}` and
 * `POST /api/policies/simulate`.
 */
import { z } from "zod";
import { compilePolicySpec } from "../domain/policy/spec.js";
import type { BackupPolicy } from "../domain/policy/types.js";
import { assertValidPolicy } from "../domain/policy/validation.js";

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The policy a `PUT` body stands for: `{ "spec": ... }` compiled from the short spec, or the
 * policy JSON itself (bare, or a policy resource with `properties`), validated.
 *
 * @throws InvalidInputError `POLICY_SPEC_INVALID` or `POLICY_INVALID` with JSON paths.
 */
export function policyFromBody(body: unknown): BackupPolicy {
  if (isObject(body) && "spec" in body && !("policyRules" in body) && !("properties" in body)) {
    return compilePolicySpec(body.spec);
  }
  return assertValidPolicy(body);
}

const instant = z.union([z.string().min(1), z.number()]);

/** The body of `POST /api/policies/simulate`. */
export const simulatePolicyBody = z.object({
  policy: z.unknown().refine((value) => value !== undefined, { message: "policy is required" }),
  from: instant,
  to: instant,
  sizeGb: z.number().positive().optional(),
  monthlyGrowth: z.number().min(-1).optional(),
  at: instant.optional(),
});
