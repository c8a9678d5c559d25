/**
 * The fake Resource Manager for Data Protection contract tests, and what clients need to reach it.
 */
import type { AccessToken, TokenCredential } from "@azure/identity";
import { requiredVaultRoles } from "../../../src/providers/azure/vaultAccess.js";
import { FAKE_VAULT_PRINCIPAL_ID, type FakeArm } from "./fakeArmServer.js";

export {
  FAKE_VAULT_PRINCIPAL_ID,
  FakeArm,
  type FakeArmOptions,
  type RecordedRequest,
  type Bucket,
} from "./fakeArmServer.js";
export { OpenApiValidator, type ContractViolation } from "./openApiValidator.js";
export { FakeKeyVault } from "./fakeKeyVault.js";

/** The subscription the fakes serve. */
export const FAKE_SUBSCRIPTION_ID = "5f1c3a2b-8d4e-4f60-9a7b-1c2d3e4f5a6b";

/**
 * A credential that hands out the fake's token, standing in for Microsoft Entra ID (the only
 * Azure endpoint between the client and Resource Manager).
 */
export function fakeArmCredential(token = "fake-arm-token"): TokenCredential {
  return {
    getToken: async (): Promise<AccessToken> => ({
      token,
      expiresOnTimestamp: Date.now() + 3_600_000,
    }),
  };
}

/**
 * Gives the fake vaults' identity the roles it needs on a datasource, as an administrator does
 * before protecting it; an assignment already there is not made twice.
 */
export function assignVaultRoles(fake: FakeArm, datasourceId: string): void {
  for (const role of requiredVaultRoles(datasourceId)) {
    const held = fake
      .roleAssignments()
      .some(
        (a) =>
          a.principalId === FAKE_VAULT_PRINCIPAL_ID &&
          a.scope.toLowerCase() === role.scope.toLowerCase() &&
          a.roleDefinitionId.endsWith(`/${role.roleDefinitionGuid}`),
      );
    if (!held) fake.assignRole(role.scope, role.roleDefinitionGuid, FAKE_VAULT_PRINCIPAL_ID);
  }
}
