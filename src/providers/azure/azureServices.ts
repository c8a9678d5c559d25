/**
 * Wires the Azure adapters from the app's settings: one credential and one set of Resource
 * Manager request buckets shared by every client, so that their requests add up against the
 * same subscription limits.
 */
import type { TlsSettings } from "@azure/core-rest-pipeline";
import type { TokenCredential } from "@azure/identity";
import type { Config } from "../../config.js";
import { clouds } from "../../domain/cloud.js";
import { AppError, ConfigurationError } from "../../domain/errors.js";
import type { EventLogger } from "../../observability/eventLogger.js";
import type {
  MissingRole,
  MissingSecretPermissions,
  Provider,
  ProtectionLifecyclePort,
  RestoreAccessPort,
  RestoreToServerPort,
  VaultAccessPort,
  VaultAccessReport,
  VaultSettingsPort,
} from "../ports.js";
import {
  createAzureBackupService,
  dataProtectionClientOptionsFrom,
  type AzureBackupService,
  type LostAnswerOptions,
} from "./azureBackupService.js";
import { AzureResourceDirectory } from "./azureResourceDirectory.js";
import { KeyVaultLocator, keyVaultUriOf, missingSecretPermissions } from "./keyVaultAccess.js";
import { keyVaultHostSuffixes, KeyVaultSecretStore } from "./keyVaultSecrets.js";
import { cloudCredential as appCredential } from "../cloudCredential.js";
import { createResourceGraphClient } from "./resourceGraph.js";
import { ResourceGraphJobSource } from "./resourceGraphJobs.js";
import { ResourceGraphProtectedItems } from "./resourceGraphProtectedItems.js";
import type { LongRunningOptions } from "./dataProtection/pollingHelper.js";
import { azureSdkEventLogger } from "./providerLog.js";
import { createAzureServiceLimitFacts } from "./serviceLimitFacts.js";
import { createRestoreAccess } from "./restoreAccess.js";
import { createRestoreToServer } from "./restoreToServer.js";
import { createAzureDrillTargets } from "./drillTargets.js";
import { ArmRequestThrottle, type ArmThrottlingPolicyOptions } from "./throttling.js";
import {
  createVaultAccessChecker,
  requiredVaultRoles,
  type RoleRequirement,
  type VaultAccessChecker,
} from "./vaultAccess.js";

/** The Azure adapters pgprotect uses: the provider's ports and the cross-vault job source. */
export interface AzureServices extends Provider {
  /** Backup vaults: the backup ports. */
  readonly backup: AzureBackupService;
  /** Key Vault: the secret port. */
  readonly secrets: KeyVaultSecretStore;
  /** PostgreSQL servers, databases and tags. */
  readonly directory: AzureResourceDirectory;
  /**
   * Jobs across vaults and subscriptions (Resource Graph): the provider's `jobs` port, so that
   * `GET /api/jobs` and the job watcher ask one query for every vault instead of listing each
   * vault through Resource Manager.
   */
  readonly jobs: ResourceGraphJobSource;
  /** Backup instances across vaults and subscriptions (Resource Graph). */
  readonly protectedItems: ResourceGraphProtectedItems;
  /** The vault identity's role assignments (Microsoft.Authorization). */
  readonly access: VaultAccessPort;
  /** The vault identity's role on a restore's target storage. */
  readonly restoreAccess: RestoreAccessPort;
  /** Loading a restore's files from a blob container into a PostgreSQL server. */
  readonly restoreToServer: RestoreToServerPort;
  /** The Resource Manager buckets the clients share. */
  readonly throttle: ArmRequestThrottle;
  /** Stop, suspend, resume, change of policy, delete and undelete of backup instances. */
  readonly lifecycle: ProtectionLifecyclePort;
  /** The vaults' security settings (`BackupVaults_Get`, `DppResourceGuardProxy_List`). */
  readonly vaultSettings: VaultSettingsPort;
}

/** Options of {@link createAzureServices}. */
export interface AzureServicesOptions {
  /** Extra trust: a private CA behind a TLS-inspecting proxy, or a loopback fake. */
  readonly tlsOptions?: TlsSettings;
  /** How long-running operations are polled (tests shorten the service's Retry-After). */
  readonly polling?: LongRunningOptions;
  /** How throttled requests wait and retry. */
  readonly throttling?: ArmThrottlingPolicyOptions;
  /** The Resource Manager buckets to share; new ones with Resource Manager's limits by default. */
  readonly throttle?: ArmRequestThrottle;
  /** How an ad-hoc backup, restore or stop whose answer was lost is settled. */
  readonly lostAnswers?: LostAnswerOptions;
  /** Where the adapters' events go (lost answers, throttling); the Azure SDK's log by default. */
  readonly log?: EventLogger;
}

/** The settings the Azure adapters read. */
export type AzureSettings = Pick<
  Config,
  "AZURE_SUBSCRIPTION_ID" | "AZURE_RESOURCE_MANAGER_ENDPOINT" | "AZURE_TOKEN_AUDIENCE"
> &
  Partial<
    Pick<
      Config,
      | "AZURE_KEY_VAULT_DNS_SUFFIXES"
      | "AZURE_CLOUD"
      | "RESTORE_STORAGE_CONNECTION_STRING"
      | "POSTGRES_BIN_DIR"
      | "DRILL_CONTAINER_URL"
      | "DRILL_STORAGE_ACCOUNT_ID"
      | "DRILL_SERVER_SECRET_URI"
    >
  >;

/**
 * The hosts secret URIs may name: the explicit setting, else the cloud's Key Vault suffix, else
 * (an endpoint of no known cloud) every known cloud's.
 */
export function keyVaultHostsOf(
  config: Pick<AzureSettings, "AZURE_KEY_VAULT_DNS_SUFFIXES" | "AZURE_CLOUD">,
): readonly string[] {
  if (config.AZURE_KEY_VAULT_DNS_SUFFIXES?.length) return config.AZURE_KEY_VAULT_DNS_SUFFIXES;
  return config.AZURE_CLOUD ? [clouds[config.AZURE_CLOUD].keyVaultDnsSuffix] : keyVaultHostSuffixes;
}

/**
 * The app's credential: the managed identity in Azure, signing in (where it signs in at all: a
 * workload identity, a developer's login) at the cloud's Microsoft Entra authority.
 */
export function cloudCredential(config: Pick<AzureSettings, "AZURE_CLOUD">): TokenCredential {
  return appCredential(config);
}

/**
 * Creates the Azure adapters.
 *
 * @param config - `AZURE_SUBSCRIPTION_ID` (where servers are looked up),
 * `AZURE_RESOURCE_MANAGER_ENDPOINT` and `AZURE_TOKEN_AUDIENCE`; Resource Graph is served by
 * Resource Manager's endpoint in every cloud; `AZURE_KEY_VAULT_DNS_SUFFIXES`, the hosts secret
 * URIs may name (see {@link keyVaultHostsOf}); `AZURE_CLOUD`, the cloud the settings derived.
 * @param credential - `DefaultAzureCredential` at the cloud's authority by default (managed
 * identity in Azure).
 * @param options - extra TLS trust (a private CA behind a TLS-inspecting proxy, a loopback
 * fake) and how long-running operations and throttled requests wait.
 * @throws ConfigurationError without a subscription.
 */
export function createAzureServices(
  config: AzureSettings,
  credential: TokenCredential = cloudCredential(config),
  options: AzureServicesOptions = {},
): AzureServices {
  const { tlsOptions } = options;
  const subscriptionId = config.AZURE_SUBSCRIPTION_ID;
  if (!subscriptionId) {
    throw new ConfigurationError("AZURE_SUBSCRIPTION_ID is required for the Azure provider", [
      {
        path: "AZURE_SUBSCRIPTION_ID",
        code: "CONFIG_INVALID",
        message: "required for the Azure provider",
      },
    ]);
  }
  const throttle = options.throttle ?? new ArmRequestThrottle();
  const tls = tlsOptions ? { tlsOptions } : {};
  const log = options.log ?? azureSdkEventLogger;
  const throttling = { log, ...options.throttling };
  const backup = createAzureBackupService({
    credential,
    client: { ...dataProtectionClientOptionsFrom(config), ...tls, throttling },
    throttle,
    log,
    ...(options.polling ? { polling: options.polling } : {}),
    ...(options.lostAnswers ? { lostAnswers: options.lostAnswers } : {}),
  });
  const graph = createResourceGraphClient({
    credential,
    endpoint: config.AZURE_RESOURCE_MANAGER_ENDPOINT,
    tokenAudience: config.AZURE_TOKEN_AUDIENCE,
    client: tls,
  });
  const checker = createVaultAccessChecker({
    credential,
    subscriptionId,
    endpoint: config.AZURE_RESOURCE_MANAGER_ENDPOINT,
    tokenAudience: config.AZURE_TOKEN_AUDIENCE,
    throttle,
    ...tls,
    throttling,
  });
  const secrets = new KeyVaultSecretStore({
    credential,
    client: tls,
    allowedHosts: keyVaultHostsOf(config),
  });
  const directory = new AzureResourceDirectory({
    graph,
    arm: backup.client,
    subscriptions: [subscriptionId],
  });
  return {
    backup,
    limits: createAzureServiceLimitFacts(directory, secrets),
    access: createVaultAccess(backup, checker, new KeyVaultLocator(graph), subscriptionId),
    restoreAccess: createRestoreAccess((vaultId) => backup.getVault(vaultId), checker, {
      graph,
      subscriptions: [subscriptionId],
      // A cloud of its own (a test double) may use any known cloud's storage suffix.
      storageSuffixes: config.AZURE_CLOUD
        ? [clouds[config.AZURE_CLOUD].storageSuffix]
        : Object.values(clouds).map((cloud) => cloud.storageSuffix),
    }),
    restoreToServer: createRestoreToServer({
      secrets,
      credential,
      ...(config.RESTORE_STORAGE_CONNECTION_STRING
        ? { storageConnectionString: config.RESTORE_STORAGE_CONNECTION_STRING }
        : {}),
      ...(config.POSTGRES_BIN_DIR ? { binDir: config.POSTGRES_BIN_DIR } : {}),
    }),
    // Drills need both a container to restore into and a scratch server to load into.
    ...(config.DRILL_CONTAINER_URL && config.DRILL_SERVER_SECRET_URI
      ? {
          drills: createAzureDrillTargets({
            backup,
            secrets,
            credential,
            containerUrl: config.DRILL_CONTAINER_URL,
            serverSecretUri: config.DRILL_SERVER_SECRET_URI,
            ...(config.DRILL_STORAGE_ACCOUNT_ID
              ? { storageScope: config.DRILL_STORAGE_ACCOUNT_ID }
              : {}),
            ...(config.RESTORE_STORAGE_CONNECTION_STRING
              ? { storageConnectionString: config.RESTORE_STORAGE_CONNECTION_STRING }
              : {}),
          }),
        }
      : {}),
    secrets,
    directory,
    jobs: new ResourceGraphJobSource(graph),
    protectedItems: new ResourceGraphProtectedItems(graph),
    lifecycle: backup.lifecycle,
    vaultSettings: backup.vaultSettings,
    throttle,
  };
}

/**
 * The access port over the vault's system-assigned identity: its principal comes from the vault.
 *
 * @remarks A Single Server database's key vault is found by its secret's URI through Resource
 * Graph, in the app's subscription and the database's. A key vault using Azure RBAC needs Key
 * Vault Secrets User, checked and granted like the other roles; one using access policies needs
 * `get` and `list` secret permissions for the identity, which are checked and reported but never
 * granted (that would write the key vault resource itself). A key vault Resource Graph does not
 * show is left to the service's own validation.
 */
function createVaultAccess(
  backup: AzureBackupService,
  checker: VaultAccessChecker,
  keyVaults: KeyVaultLocator,
  subscriptionId: string,
): VaultAccessPort {
  // A fan-out protects many datasources into one vault: its identity is read once in a while, not
  // once per datasource. An identity turned off and on again gets a new principal, hence the expiry.
  const principals = new Map<string, { principalId: string; readAt: number }>();
  const principalTtlMs = 10 * 60_000;
  const principalOf = async (vaultId: string): Promise<string> => {
    const key = vaultId.toLowerCase();
    const known = principals.get(key);
    if (known && Date.now() - known.readAt < principalTtlMs) return known.principalId;
    const vault = await backup.getVault(vaultId);
    if (vault.principalId) {
      principals.set(key, { principalId: vault.principalId, readAt: Date.now() });
      return vault.principalId;
    }
    throw new AppError(
      "VAULT_IDENTITY_MISSING",
      `The Backup vault ${vault.name} has no managed identity, so it cannot be given roles on what it protects`,
      {
        httpStatus: 400,
        retryable: false,
        recommendedAction: `Enable the system-assigned managed identity of the Backup vault ${vault.name}, then retry`,
      },
    );
  };
  const named = (requirements: readonly RoleRequirement[]): MissingRole[] =>
    requirements.map(({ roleName, scope }) => ({ roleName, scope }));
  /** The roles the identity needs, and what its secret's key vault asks beyond roles. */
  const needsOf = async (
    vaultId: string,
    datasourceId: string,
    secretUri: string | undefined,
  ): Promise<{
    principalId: string;
    requirements: RoleRequirement[];
    secretPermissions: MissingSecretPermissions[];
    unchecked: string[];
  }> => {
    const principalId = await principalOf(vaultId);
    // Only a Single Server database reads a secret; a Flexible Server's request has none.
    if (!secretUri || !/\/databases\/[^/]+$/i.test(datasourceId)) {
      return {
        principalId,
        requirements: requiredVaultRoles(datasourceId),
        secretPermissions: [],
        unchecked: [],
      };
    }
    const datasourceSubscription = /^\/subscriptions\/([^/]+)/i.exec(datasourceId)?.[1];
    const subscriptions = [
      ...new Set(
        [subscriptionId, datasourceSubscription ?? subscriptionId].map((s) => s.toLowerCase()),
      ),
    ];
    const keyVault = await keyVaults.find(secretUri, subscriptions);
    if (!keyVault) {
      return {
        principalId,
        requirements: requiredVaultRoles(datasourceId),
        secretPermissions: [],
        unchecked: [
          `the key vault ${keyVaultUriOf(secretUri)} is not visible in Resource Graph (another subscription, or no read access): its permissions for the vault's identity are left to the service's validation`,
        ],
      };
    }
    if (keyVault.rbac) {
      return {
        principalId,
        requirements: requiredVaultRoles(datasourceId, keyVault.id),
        secretPermissions: [],
        unchecked: [],
      };
    }
    const permissions = missingSecretPermissions(keyVault.accessPolicies, principalId);
    return {
      principalId,
      requirements: requiredVaultRoles(datasourceId),
      secretPermissions:
        permissions.length > 0 ? [{ keyVaultId: keyVault.id, principalId, permissions }] : [],
      unchecked: [],
    };
  };
  return {
    missingRoles: async (vaultId, datasourceId, secretUri): Promise<VaultAccessReport> => {
      const needs = await needsOf(vaultId, datasourceId, secretUri);
      return {
        roles: named(await checker.missingRoles(needs.principalId, needs.requirements)),
        secretPermissions: needs.secretPermissions,
        unchecked: needs.unchecked,
      };
    },
    // Roles are granted even when an access policy lacks permissions: both are needed, and a
    // role assignment is what AUTO_GRANT_ROLE_ASSIGNMENTS allows; the policy is reported.
    grantMissingRoles: async (vaultId, datasourceId, secretUri): Promise<VaultAccessReport> => {
      const needs = await needsOf(vaultId, datasourceId, secretUri);
      return {
        roles: named(await checker.grantMissingRoles(needs.principalId, needs.requirements)),
        secretPermissions: needs.secretPermissions,
        unchecked: needs.unchecked,
      };
    },
  };
}
