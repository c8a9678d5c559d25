/**
 * Where notification delivery state lives: files under `PGPROTECT_STATE_DIR` locally, where one
 * process delivers; in Azure, a table of the host's storage account that every instance shares, so
 * a redelivered event that lands on another instance still notifies no one twice, and digests count
 * every instance's deliveries.
 */
import { tmpdir } from "node:os";
import path from "node:path";
import type { Config } from "../../config.js";
import { authorityHostOf, storageSuffixOf, type CloudSetting } from "../cloudIdentity.js";

/**
 * The folder of local notification files: under `PGPROTECT_STATE_DIR` locally; in Azure, the
 * instance's temporary folder (the app's own folder is read-only there), which holds only the
 * outbox, if anything: delivery state is in Table Storage there (see {@link notificationStateLocation}).
 */
export function notificationStateDir(
  config: Pick<Config, "PGPROTECT_PROVIDER" | "PGPROTECT_STATE_DIR">,
): string {
  return config.PGPROTECT_PROVIDER === "local"
    ? path.resolve(config.PGPROTECT_STATE_DIR, "notifications")
    : path.join(tmpdir(), "pgprotect", "notifications");
}

/**
 * The host storage account's table service, as the Functions host's own settings give it. Carries
 * no secret: a connection string stays in the config.
 */
export type HostTableStorage =
  /** `AzureWebJobsStorage` holds a connection string (or `UseDevelopmentStorage=true`). */
  | { readonly kind: "connectionString" }
  /** Identity-based host storage: an endpoint and, for a user-assigned identity, its client id. */
  | {
      readonly kind: "identity";
      readonly endpoint: string;
      /** Which setting gave the endpoint. */
      readonly from: "AzureWebJobsStorage__tableServiceUri" | "AzureWebJobsStorage__accountName";
      /** `AzureWebJobsStorage__clientId`; without it the Azure Identity library reads `AZURE_CLIENT_ID`. */
      readonly clientId?: string;
      /**
       * The Microsoft Entra authority the identity signs in at: the cloud's; absent when
       * `AZURE_AUTHORITY_HOST` says (Azure Identity reads it) or the cloud is unknown.
       */
      readonly authorityHost?: string;
    }
  /**
   * Nothing usable: the reason names the settings, never their values. `unset` when no host
   * storage setting is there at all (the local runtime), rather than one that cannot be read.
   */
  | { readonly kind: "missing"; readonly reason: string; readonly unset?: true };

/** Where notification delivery state lives; safe to log (no secret in it). */
export type NotificationStateLocation =
  | {
      readonly kind: "files";
      readonly folder: string;
      /** Why files serve in Azure mode: no host storage is configured (the local runtime). */
      readonly fallback?: string;
    }
  | { readonly kind: "table"; readonly tableName: string; readonly storage: HostTableStorage };

/**
 * The table of notification state in the host's storage account: named after the task hub, as
 * Durable Functions names its own tables there (`<hub>History`, `<hub>Instances`), so that apps
 * sharing an account with different task hubs keep their delivery state apart too.
 */
export function notificationTableName(config: Pick<Config, "TASKHUB_NAME">): string {
  // TASKHUB_NAME is 3-45 letters and digits starting with a letter: a valid table name (3-63) once suffixed.
  return `${config.TASKHUB_NAME}Notifications`;
}

/**
 * Reads the host storage settings the way the Functions host does: a connection string in
 * `AzureWebJobsStorage` first; otherwise identity-based, with `AzureWebJobsStorage__tableServiceUri`,
 * or `https://<AzureWebJobsStorage__accountName>.table.<storage suffix>` on the cloud's storage
 * suffix (`core.windows.net`, `core.usgovcloudapi.net`, `core.chinacloudapi.cn`), the identity
 * signing in at the cloud's authority.
 *
 * @param lookup - reads a host setting by name. The `AzureWebJobsStorage__*` settings belong to
 * the host and are absent from local.settings.sample.json, so they are read on demand, not
 * through the schema.
 */
export function hostTableStorage(
  config: Pick<Config, "AzureWebJobsStorage"> & CloudSetting,
  lookup: (name: string) => string | undefined,
): HostTableStorage {
  if (config.AzureWebJobsStorage) return { kind: "connectionString" };
  const clientId = lookup("AzureWebJobsStorage__clientId");
  const authorityHost = authorityHostOf(config, lookup);
  const identity = {
    ...(clientId ? { clientId } : {}),
    ...(authorityHost ? { authorityHost } : {}),
  };
  const serviceUri = lookup("AzureWebJobsStorage__tableServiceUri");
  if (serviceUri) {
    if (!URL.canParse(serviceUri)) {
      return {
        kind: "missing",
        reason: "AzureWebJobsStorage__tableServiceUri is not an absolute URL",
      };
    }
    return {
      kind: "identity",
      endpoint: serviceUri.replace(/\/+$/, ""),
      from: "AzureWebJobsStorage__tableServiceUri",
      ...identity,
    };
  }
  const accountName = lookup("AzureWebJobsStorage__accountName");
  if (accountName) {
    if (!/^[a-z0-9]{3,24}$/.test(accountName)) {
      return {
        kind: "missing",
        reason: "AzureWebJobsStorage__accountName is not a storage account name",
      };
    }
    return {
      kind: "identity",
      endpoint: `https://${accountName}.table.${storageSuffixOf(config)}`,
      from: "AzureWebJobsStorage__accountName",
      ...identity,
    };
  }
  return {
    kind: "missing",
    reason:
      "none of AzureWebJobsStorage (a connection string), AzureWebJobsStorage__tableServiceUri or AzureWebJobsStorage__accountName is set",
    unset: true,
  };
}

/**
 * Where this process keeps notification delivery state: files locally, the host storage
 * account's table in Azure.
 *
 * @param lookup - reads a host setting by name (see {@link hostTableStorage}).
 */
export function notificationStateLocation(
  config: Pick<
    Config,
    "PGPROTECT_PROVIDER" | "PGPROTECT_STATE_DIR" | "TASKHUB_NAME" | "AzureWebJobsStorage"
  > &
    CloudSetting,
  lookup: (name: string) => string | undefined,
): NotificationStateLocation {
  if (config.PGPROTECT_PROVIDER === "local") {
    return { kind: "files", folder: notificationStateDir(config) };
  }
  const storage = hostTableStorage(config, lookup);
  // The Functions host in Azure always has host storage; only the local runtime runs the Azure
  // provider without it, as one instance, where files de-duplicate as well as a table would. A
  // setting that is there but unreadable is a mistake to report, not a reason to fall back.
  if (storage.kind === "missing" && storage.unset) {
    return { kind: "files", folder: notificationStateDir(config), fallback: storage.reason };
  }
  return { kind: "table", tableName: notificationTableName(config), storage };
}
