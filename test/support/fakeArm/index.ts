/**
 * The fake Resource Manager for Data Protection contract tests, and what clients need to reach it.
 */
import type { AccessToken, TokenCredential } from "@azure/identity";
import {
  createAzureServices,
  type AzureServices,
  type AzureServicesOptions,
  type AzureSettings,
} from "../../../src/providers/azure/azureServices.js";
import {
  createVaultAccessChecker,
  requiredVaultRoles,
  type VaultAccessChecker,
} from "../../../src/providers/azure/vaultAccess.js";
import { defaultPolicyTemplate } from "../../../src/domain/policy/template.js";
import type { BackupPolicyPort } from "../../../src/providers/ports.js";
import { FAKE_VAULT_PRINCIPAL_ID, type FakeArm } from "./fakeArmServer.js";

export {
  FAKE_VAULT_PRINCIPAL_ID,
  FakeArm,
  type FakeArmOptions,
  type FakeKeyVaultAccessPolicy,
  type RecordedRequest,
  type LostAnswer,
  type Bucket,
} from "./fakeArmServer.js";
export { OpenApiValidator, type ContractViolation } from "./openApiValidator.js";
export { RequiredOnlyPruner } from "./requiredOnly.js";
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
 * Gives the fake vaults' identity the roles it needs on a datasource (and, for a Single Server
 * database, on its RBAC key vault), as an administrator does before protecting it; an assignment
 * already there is not made twice.
 */
export function assignVaultRoles(fake: FakeArm, datasourceId: string, keyVaultId?: string): void {
  for (const role of requiredVaultRoles(datasourceId, keyVaultId)) {
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

/** Options of {@link azureServicesAgainst}. */
export interface AzureServicesAgainstOptions {
  /** Settings beyond the subscription and the endpoints, which are the fake's. */
  readonly settings?: Partial<AzureSettings>;
  /** The fake's token by default. */
  readonly credential?: TokenCredential;
  /** Replaces the shortened waits below, key by key. */
  readonly services?: AzureServicesOptions;
}

/**
 * The app's Azure adapters pointed at a fake and trusting its certificate, with the service's
 * waits shortened: long-running operations' `Retry-After` and 429s' scaled by 0.01, 5 ms between
 * polls without one. Resource Manager's buckets keep their production sizes.
 */
export function azureServicesAgainst(
  fake: FakeArm,
  options: AzureServicesAgainstOptions = {},
): AzureServices {
  return createAzureServices(
    {
      AZURE_SUBSCRIPTION_ID: FAKE_SUBSCRIPTION_ID,
      AZURE_RESOURCE_MANAGER_ENDPOINT: fake.url,
      AZURE_TOKEN_AUDIENCE: fake.url,
      ...options.settings,
    },
    options.credential ?? fakeArmCredential(),
    {
      tlsOptions: { ca: fake.ca },
      polling: { retryAfterScale: 0.01, intervalInMs: 5 },
      throttling: { retryAfterScale: 0.01 },
      ...options.services,
    },
  );
}

/** The app's role checker pointed at a fake, with the fake's token, trusting its certificate. */
export function vaultAccessCheckerAgainst(fake: FakeArm): VaultAccessChecker {
  return createVaultAccessChecker({
    credential: fakeArmCredential(),
    subscriptionId: FAKE_SUBSCRIPTION_ID,
    endpoint: fake.url,
    tlsOptions: { ca: fake.ca },
  });
}

/**
 * Creates the default Flexible Server policy (the template the app's own defaults use) named
 * `name` in a vault of the fake, through the app's backup service, and answers its id.
 */
export async function createDefaultPolicy(
  backup: Pick<BackupPolicyPort, "createPolicy">,
  vaultId: string,
  name = "weekly",
): Promise<string> {
  const policy = await backup.createPolicy(
    vaultId,
    name,
    defaultPolicyTemplate("AzureDatabaseForPostgreSQLFlexibleServer"),
  );
  return policy.id ?? "";
}
