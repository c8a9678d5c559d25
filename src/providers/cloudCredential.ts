/**
 * The app's credential for the Azure clients other than the provider's own pipeline (host storage
 * tables, email, Event Grid), signing in at the resolved cloud's authority.
 */
import { DefaultAzureCredential, type TokenCredential } from "@azure/identity";
import { authorityHostOf, type CloudSetting, type SettingLookup } from "./cloudIdentity.js";

/** Who signs in: a user-assigned managed identity's client id, where one is named. */
export interface CloudCredentialOptions {
  readonly managedIdentityClientId?: string | undefined;
  /** The authority host, when already derived (see {@link authorityHostOf}). */
  readonly authorityHost?: string | undefined;
}

/**
 * The app's credential for one client: `DefaultAzureCredential` (the managed identity in Azure; a
 * workload identity or a developer's login elsewhere) signing in at the authority given, else the
 * cloud's.
 */
export function cloudCredential(
  config: CloudSetting,
  options: CloudCredentialOptions = {},
  lookup: SettingLookup = (name) => process.env[name],
): TokenCredential {
  const authorityHost = options.authorityHost ?? authorityHostOf(config, lookup);
  return new DefaultAzureCredential({
    ...(authorityHost ? { authorityHost } : {}),
    ...(options.managedIdentityClientId
      ? { managedIdentityClientId: options.managedIdentityClientId }
      : {}),
  });
}
