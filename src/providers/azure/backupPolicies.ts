/**
 * Backup policies of a vault. The service cannot modify a policy in place, so creating one that
 * exists answers it when its rules agree and refuses otherwise.
 */
import { AppError } from "../../domain/errors.js";
import type { BackupPolicy, BackupPolicyResource } from "../../domain/policy/types.js";
import { copySettingsOf } from "../../domain/policy/types.js";
import { formatVaultChildId } from "../../domain/protection/ids.js";
import { ProviderErrorCodes, type BackupPolicyPort } from "../ports.js";
import { toPolicyResource } from "./armMapping.js";
import {
  isUnexpected,
  listAll,
  type BaseBackupPolicyResourceOutput,
} from "./dataProtection/index.js";
import {
  POLICY_ROUTE,
  VAULT_ROUTE,
  type DataProtectionRequests,
} from "./dataProtectionRequests.js";

/** The parts of a policy that decide its behaviour, in one canonical form. */
function canonicalPolicy(policy: BackupPolicy): unknown {
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (typeof value !== "object" || value === null) return value;
    const entries = Object.entries(value as Record<string, unknown>)
      // The service stamps tag ids and eTags; nulls and absent fields mean the same.
      .filter(([key, v]) => v !== null && v !== undefined && key !== "id" && key !== "eTag")
      .map(([key, v]) => [key, strip(v)] as const)
      .sort(([a], [b]) => a.localeCompare(b));
    return Object.fromEntries(entries);
  };
  const rules = policy.policyRules.map((rule) =>
    rule.objectType === "AzureRetentionRule"
      ? {
          ...rule,
          lifecycles: rule.lifecycles.map((l) => ({
            ...l,
            targetDataStoreCopySettings: copySettingsOf(l),
          })),
        }
      : rule,
  );
  return strip({
    objectType: policy.objectType,
    datasourceTypes: policy.datasourceTypes,
    policyRules: rules,
  });
}

/**
 * Whether what the service reports of a policy agrees with `wanted`: every property it reports
 * has the wanted value, lists have the same length. Properties it omits (all but a few are
 * optional in the contract) are not taken for differences.
 */
function reportedPolicyAgrees(reported: BackupPolicy, wanted: BackupPolicy): boolean {
  const agrees = (read: unknown, want: unknown): boolean => {
    if (Array.isArray(read)) {
      return (
        Array.isArray(want) &&
        read.length === want.length &&
        read.every((item, i) => agrees(item, want[i]))
      );
    }
    if (typeof read === "object" && read !== null) {
      if (typeof want !== "object" || want === null || Array.isArray(want)) return false;
      return Object.entries(read).every(([key, value]) =>
        agrees(value, (want as Record<string, unknown>)[key]),
      );
    }
    return read === want;
  };
  return agrees(canonicalPolicy(reported), canonicalPolicy(wanted));
}
/** The policy port over a vault's `backupPolicies`. */
export class AzureBackupPolicies implements BackupPolicyPort {
  constructor(private readonly requests: DataProtectionRequests) {}

  async createPolicy(
    vaultId: string,
    policyName: string,
    policy: BackupPolicy,
  ): Promise<BackupPolicyResource> {
    const v = this.requests.vault(vaultId);
    const route = this.requests.client.path(
      POLICY_ROUTE,
      v.subscriptionId,
      v.resourceGroup,
      v.vaultName,
      policyName,
    );
    const known = {
      id: formatVaultChildId({ ...v, childType: "backupPolicies", childName: policyName }),
      name: policyName,
    };
    const existing = await this.requests.call("Reading the backup policy", () => route.get());
    if (!isUnexpected(existing)) {
      const current = toPolicyResource(existing.body, known);
      if (reportedPolicyAgrees(current.properties, policy)) return current;
      throw new AppError(
        ProviderErrorCodes.policyUpdateNotSupported,
        `Backup policy '${policyName}' exists with other rules; the service does not support modifying a policy`,
        {
          httpStatus: 409,
          retryable: false,
          recommendedAction:
            "Create the policy under a new name and assign it to the backup instances",
        },
      );
    }
    if (existing.status !== "404") this.requests.fail(existing, "Reading the backup policy");
    // `name` is a template convenience, not part of the contract's BackupPolicy.
    const { name: _name, ...properties } = policy;
    const created = await this.requests.call("Creating the backup policy", () =>
      route.put({ body: { properties } }),
    );
    if (isUnexpected(created)) this.requests.fail(created, "Creating the backup policy");
    return toPolicyResource(created.body, { ...known, properties: policy });
  }

  async getPolicy(vaultId: string, policyName: string): Promise<BackupPolicyResource> {
    const v = this.requests.vault(vaultId);
    const response = await this.requests.call("Reading the backup policy", () =>
      this.requests.client
        .path(POLICY_ROUTE, v.subscriptionId, v.resourceGroup, v.vaultName, policyName)
        .get(),
    );
    if (isUnexpected(response)) this.requests.fail(response, "Reading the backup policy");
    return toPolicyResource(response.body, {
      id: formatVaultChildId({ ...v, childType: "backupPolicies", childName: policyName }),
      name: policyName,
    });
  }

  async listPolicies(vaultId: string): Promise<BackupPolicyResource[]> {
    const v = this.requests.vault(vaultId);
    const first = await this.requests.call("Listing backup policies", () =>
      this.requests.client
        .path(`${VAULT_ROUTE}/backupPolicies`, v.subscriptionId, v.resourceGroup, v.vaultName)
        .get(),
    );
    const items = await this.requests.call("Listing backup policies", () =>
      listAll<BaseBackupPolicyResourceOutput>(
        this.requests.client,
        first,
        "Listing backup policies",
      ),
    );
    return items.map((item) => toPolicyResource(item));
  }
}
