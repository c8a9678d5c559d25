import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { appDependencies } from "../composition.js";
import { AppError, isAppError } from "../domain/errors.js";
import { compilePolicySpec } from "../domain/policy/spec.js";
import type { BackupPolicy, BackupPolicyResource } from "../domain/policy/types.js";
import { samePolicy } from "../domain/policy/sameness.js";
import { assertValidPolicy } from "../domain/policy/validation.js";
import { parseVaultId } from "../domain/protection/ids.js";
import { assertName, policyNameRule, sameAzureName } from "../domain/protection/names.js";
import { existingVaultId } from "../http/backupLookup.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";
import { readJson } from "../http/requestBody.js";

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

export { samePolicy };

/**
 * `PUT /api/vaults/{vault}/policies/{name}`: creates a backup policy from its JSON or from a short
 * spec (`{ "spec": ... }`) in an existing vault (an unknown vault is a 404: a policy never creates
 * one). 201 when created; 200 when the same policy exists already. Names ignore case, as in Azure:
 * `WEEKLY` is the policy `weekly`. Policies cannot be modified in place: a different policy under
 * an existing name is a 409 that says to create a new policy and reassign the backup instances.
 */
export async function putPolicy(
  request: HttpRequest,
  _context: InvocationContext,
): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  authorize(request, "Backup.Operator", deps.config.WEBSITE_AUTH_ENABLED);
  const asked = assertName(policyNameRule, request.params.name ?? "", "path.name");
  // Only an existing vault: a policy never creates one.
  const vaultId = await existingVaultId(deps, request.params.vault ?? "");
  const vaultName = parseVaultId(vaultId).vaultName;
  const policy = policyFromBody(await readJson(request));
  // Azure names ignore case: `WEEKLY` is the policy `weekly`, spelled as it was created.
  const existing = (await deps.provider.backup.listPolicies(vaultId)).find((p) =>
    sameAzureName(p.name ?? "", asked),
  );
  const name = existing?.name ?? asked;
  const refuse = (cause?: unknown) =>
    new AppError(
      "POLICY_UPDATE_NOT_SUPPORTED",
      `The vault '${vaultName}' has a policy '${name}' with other settings, and policies cannot be modified in place`,
      {
        httpStatus: 409,
        recommendedAction: `Create a new policy under another name (PUT /api/vaults/${vaultName}/policies/${name}-v2) and reassign the backup instances to it`,
        cause,
      },
    );

  if (existing) {
    if (!samePolicy(existing.properties, policy)) throw refuse();
    return json(200, existing);
  }
  let created: BackupPolicyResource;
  try {
    created = await deps.provider.backup.createPolicy(vaultId, name, policy);
  } catch (error) {
    // Another request created the name in between.
    if (isAppError(error) && error.httpStatus === 409) throw refuse(error);
    throw error;
  }
  const location = new URL(
    `/api/vaults/${encodeURIComponent(vaultName)}/policies/${encodeURIComponent(name)}`,
    request.url,
  ).toString();
  return json(201, created, { location });
}

app.http("putPolicy", {
  route: "vaults/{vault}/policies/{name}",
  methods: ["PUT"],
  authLevel: "function",
  handler: withProblemDetails(putPolicy),
});
