/**
 * Wires the Azure adapters from the app's settings: one credential and one set of Resource
 * Manager request buckets shared by every client, so that their requests add up against the
 * same subscription limits.
 */
import type { TlsSettings } from "@azure/core-rest-pipeline";
import { DefaultAzureCredential, type TokenCredential } from "@azure/identity";
import type { Config } from "../../config.js";
import { ConfigurationError } from "../../domain/errors.js";
import type { Provider } from "../ports.js";
import {
  createAzureBackupService,
  dataProtectionClientOptionsFrom,
  type AzureBackupService,
} from "./azureBackupService.js";
import { AzureResourceDirectory } from "./azureResourceDirectory.js";
import { KeyVaultSecretStore } from "./keyVaultSecrets.js";
import { createResourceGraphClient } from "./resourceGraph.js";
import { ResourceGraphJobSource } from "./resourceGraphJobs.js";
import type { LongRunningOptions } from "./dataProtection/pollingHelper.js";
import { ArmRequestThrottle, type ArmThrottlingPolicyOptions } from "./throttling.js";

/** The Azure adapters pgprotect uses: the provider's ports and the cross-vault job source. */
export interface AzureServices extends Provider {
  /** Backup vaults: the backup ports. */
  readonly backup: AzureBackupService;
  /** Key Vault: the secret port. */
  readonly secrets: KeyVaultSecretStore;
  /** PostgreSQL servers, databases and tags. */
  readonly directory: AzureResourceDirectory;
  /** Jobs across vaults and subscriptions (Resource Graph). */
  readonly jobs: ResourceGraphJobSource;
  /** The Resource Manager buckets the clients share. */
  readonly throttle: ArmRequestThrottle;
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
}

/** The settings the Azure adapters read. */
export type AzureSettings = Pick<
  Config,
  "AZURE_SUBSCRIPTION_ID" | "AZURE_RESOURCE_MANAGER_ENDPOINT" | "AZURE_TOKEN_AUDIENCE"
>;

/**
 * Creates the Azure adapters.
 *
 * @param config - `AZURE_SUBSCRIPTION_ID` (where servers are looked up),
 * `AZURE_RESOURCE_MANAGER_ENDPOINT` and `AZURE_TOKEN_AUDIENCE`; Resource Graph is served by
 * Resource Manager's endpoint in every cloud.
 * @param credential - `DefaultAzureCredential` by default (managed identity in Azure).
 * @param options - extra TLS trust (a private CA behind a TLS-inspecting proxy, a loopback
 * fake) and how long-running operations and throttled requests wait.
 * @throws ConfigurationError without a subscription.
 */
export function createAzureServices(
  config: AzureSettings,
  credential: TokenCredential = new DefaultAzureCredential(),
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
  const backup = createAzureBackupService({
    credential,
    client: {
      ...dataProtectionClientOptionsFrom(config),
      ...tls,
      ...(options.throttling ? { throttling: options.throttling } : {}),
    },
    throttle,
    ...(options.polling ? { polling: options.polling } : {}),
  });
  const graph = createResourceGraphClient({
    credential,
    endpoint: config.AZURE_RESOURCE_MANAGER_ENDPOINT,
    tokenAudience: config.AZURE_TOKEN_AUDIENCE,
    client: tls,
  });
  return {
    backup,
    secrets: new KeyVaultSecretStore({ credential, client: tls }),
    directory: new AzureResourceDirectory({
      graph,
      arm: backup.client,
      subscriptions: [subscriptionId],
    }),
    jobs: new ResourceGraphJobSource(graph),
    throttle,
  };
}
