/** The local service's backup policies: created once, read back, never changed in place. */
import { AppError } from "../../../domain/errors.js";
import { formatVaultChildId } from "../../../domain/protection/ids.js";
import { samePolicy } from "../../../domain/policy/sameness.js";
import type { BackupPolicy, BackupPolicyResource } from "../../../domain/policy/types.js";
import { isBackupRule } from "../../../domain/policy/types.js";
import { assertValidPolicy } from "../../../domain/policy/validation.js";
import { ProviderErrorCodes } from "../../ports.js";
import type { LocalServiceContext } from "./context.js";

/**
 * Creates a policy; the same policy again answers the stored one.
 *
 * @throws AppError `UserErrorPolicyUpdateNotSupported` (409) when the name holds other settings.
 */
export async function createPolicy(
  context: LocalServiceContext,
  vaultId: string,
  policyName: string,
  policy: BackupPolicy,
): Promise<BackupPolicyResource> {
  const { vault, ref } = await context.vault(vaultId);
  // The service validates a policy on PUT; the domain knows its rules.
  assertValidPolicy(policy);
  // The service echoes each tag's id as `<tagName>_`.
  const properties: BackupPolicy = {
    ...policy,
    policyRules: policy.policyRules.map((rule) =>
      isBackupRule(rule)
        ? {
            ...rule,
            trigger: {
              ...rule.trigger,
              taggingCriteria: rule.trigger.taggingCriteria.map((c) => ({
                ...c,
                tagInfo: { ...c.tagInfo, id: `${c.tagInfo.tagName}_` },
              })),
            },
          }
        : rule,
    ),
  };
  const resource: BackupPolicyResource = {
    id: formatVaultChildId({ ...ref, childType: "backupPolicies", childName: policyName }),
    name: policyName,
    type: "Microsoft.DataProtection/backupVaults/backupPolicies",
    properties,
  };
  const storedName = await vault.recordNameLike("backupPolicies", policyName);
  const existing = storedName
    ? await vault.readRecord<BackupPolicyResource>("backupPolicies", storedName)
    : undefined;
  if (existing) {
    if (samePolicy(existing.properties, properties)) return existing;
    throw new AppError(
      ProviderErrorCodes.policyUpdateNotSupported,
      `Policy '${policyName}' exists with other settings; policies cannot be modified in place`,
      {
        httpStatus: 409,
        recommendedAction: "Create a policy under a new name and assign it to the backup instances",
      },
    );
  }
  await vault.writeRecord("backupPolicies", policyName, resource);
  return resource;
}

/** A policy by name, case-insensitive. @throws NotFoundError `ResourceNotFound`. */
export async function getPolicy(
  context: LocalServiceContext,
  vaultId: string,
  policyName: string,
): Promise<BackupPolicyResource> {
  const { vault } = await context.vault(vaultId);
  // Azure names ignore case: `WEEKLY` is the policy `weekly`.
  const stored = await vault.recordNameLike("backupPolicies", policyName);
  const policy = stored
    ? await vault.readRecord<BackupPolicyResource>("backupPolicies", stored)
    : undefined;
  if (!policy) throw context.notFound(`Policy '${policyName}' was not found in the vault`);
  return policy;
}

/** The policies of a vault. */
export async function listPolicies(
  context: LocalServiceContext,
  vaultId: string,
): Promise<BackupPolicyResource[]> {
  const { vault } = await context.vault(vaultId);
  return vault.listRecords<BackupPolicyResource>("backupPolicies");
}
