/**
 * The Data Protection REST-level client factory.
 */
import { getClient, type ClientOptions } from "@azure-rest/core-client";
import type { TokenCredential } from "@azure/identity";
import {
  ArmRequestThrottle,
  armThrottlingPolicy,
  type ArmThrottlingPolicyOptions,
} from "../throttling.js";
import type { DataProtectionClient } from "./clientDefinitions.js";
import { API_VERSION } from "./parameters.js";
import { defaultRetryPolicyName, sendOnceRetryPolicy } from "./sendOnce.js";

/** Azure public cloud's Resource Manager. */
export const DEFAULT_RESOURCE_MANAGER_ENDPOINT = "https://management.azure.com";

/** Options of {@link createDataProtectionClient}. */
export interface DataProtectionClientOptions extends ClientOptions {
  /** Resource Manager endpoint (sovereign clouds, loopback fakes); the public cloud by default. */
  readonly endpoint?: string;
  /** Token audience; the endpoint by default. */
  readonly tokenAudience?: string;
  /** Request buckets shared with the app's other Resource Manager clients; a new one by default. */
  readonly throttle?: ArmRequestThrottle;
  /** How the throttling policy waits and retries. */
  readonly throttling?: ArmThrottlingPolicyOptions;
}

/**
 * Creates a Data Protection client speaking api-version 2026-06-01.
 *
 * @remarks Requests are retried as the pipeline does by default, except the non-idempotent
 * backup instance actions (ad-hoc backup, restore, stop, suspend, ...), which are sent again only
 * when the service provably did not act (see `sendOnce.ts`).
 *
 * @param credential - e.g. `DefaultAzureCredential` (managed identity in Azure).
 * @example
 * ```ts
 * const client = createDataProtectionClient(new DefaultAzureCredential(), { endpoint });
 * const vault = await client.path("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DataProtection/backupVaults/{vaultName}", sub, rg, name).get();
 * ```
 */
export function createDataProtectionClient(
  credential: TokenCredential,
  options: DataProtectionClientOptions = {},
): DataProtectionClient {
  const { throttle, throttling, tokenAudience, ...clientOptions } = options;
  const endpoint = (options.endpoint ?? DEFAULT_RESOURCE_MANAGER_ENDPOINT).replace(/\/+$/, "");
  const audience = (tokenAudience ?? endpoint).replace(/\/+$/, "");
  const client = getClient(endpoint, credential, {
    ...clientOptions,
    endpoint,
    apiVersion: API_VERSION,
    credentials: { scopes: [`${audience}/.default`] },
    userAgentOptions: { userAgentPrefix: "pgprotect-dataprotection/0.1.0" },
    additionalPolicies: [
      ...(clientOptions.additionalPolicies ?? []),
      {
        policy: armThrottlingPolicy(throttle ?? new ArmRequestThrottle(), throttling),
        position: "perRetry",
      },
    ],
  }) as DataProtectionClient;
  // The default retry would send an ad-hoc backup or a restore again after a lost answer.
  client.pipeline.removePolicy({ name: defaultRetryPolicyName });
  client.pipeline.addPolicy(sendOnceRetryPolicy(clientOptions.retryOptions), { phase: "Retry" });
  return client;
}
