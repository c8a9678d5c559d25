/**
 * The policies user story: list, read and create a vault's backup policies. Policies are never
 * modified in place, so creating one under a name already taken by other settings is refused.
 */
import { AppError, isAppError, NotFoundError } from "../domain/errors.js";
import { samePolicy } from "../domain/policy/sameness.js";
import type { BackupPolicy, BackupPolicyResource } from "../domain/policy/types.js";
import { parseVaultId } from "../domain/protection/ids.js";
import { assertName, policyNameRule, sameAzureName } from "../domain/protection/names.js";
import { existingVaultId, type VaultDependencies } from "./vaults.js";

/** The vault's backup policies, sorted by name. */
export async function listPolicies(
  deps: VaultDependencies,
  vault: string | undefined,
): Promise<BackupPolicyResource[]> {
  const policies = await deps.provider.backup.listPolicies(deps.vaults.resolve(vault));
  return [...policies].sort((a, b) => (a.name ?? "").localeCompare(b.name ?? ""));
}

/**
 * A backup policy as the service keeps it.
 *
 * @throws NotFoundError `POLICY_NOT_FOUND`.
 */
export async function getPolicy(
  deps: VaultDependencies,
  vault: string | undefined,
  name: string,
): Promise<BackupPolicyResource> {
  const vaultId = deps.vaults.resolve(vault);
  try {
    return await deps.provider.backup.getPolicy(vaultId, name);
  } catch (error) {
    if (!isAppError(error) || error.httpStatus !== 404) throw error;
    const vaultName = parseVaultId(vaultId).vaultName;
    throw new NotFoundError(
      "POLICY_NOT_FOUND",
      `The vault '${vaultName}' has no policy '${name}'`,
      {
        recommendedAction: `List the vault's policies with GET /api/vaults/${vaultName}/policies, or create it with PUT`,
      },
    );
  }
}

/** What {@link createPolicy} did. */
export interface CreatedPolicy {
  /** False when the same policy existed already under the name. */
  readonly created: boolean;
  readonly vaultName: string;
  /** The name as the vault spells it (names ignore case, as in Azure). */
  readonly name: string;
  readonly policy: BackupPolicyResource;
}

/**
 * Creates `policy` under `name` in an existing vault (an unknown vault is a 404: a policy never
 * creates one), or answers the same policy that exists already under the name in any case.
 *
 * @param readPolicy - the policy, read only once the name and the vault are known good, so a
 * request to an unknown vault is a 404 whatever its body.
 * @throws AppError `POLICY_UPDATE_NOT_SUPPORTED` (409) when the name holds other settings.
 */
export async function createPolicy(
  deps: VaultDependencies,
  vault: string,
  askedName: string,
  readPolicy: () => Promise<BackupPolicy>,
): Promise<CreatedPolicy> {
  const asked = assertName(policyNameRule, askedName, "path.name");
  const vaultId = await existingVaultId(deps, vault);
  const vaultName = parseVaultId(vaultId).vaultName;
  const policy = await readPolicy();
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
    return { created: false, vaultName, name, policy: existing };
  }
  try {
    const created = await deps.provider.backup.createPolicy(vaultId, name, policy);
    return { created: true, vaultName, name, policy: created };
  } catch (error) {
    // Another request created the name in between.
    if (isAppError(error) && error.httpStatus === 409) throw refuse(error);
    throw error;
  }
}
