/**
 * The idempotency store and delivery log of a {@link NotificationStateLocation}: files, or the
 * notification table of the host storage account.
 */
import path from "node:path";
import { FileDeliveryLog, type DeliveryLog } from "./deliveryLog.js";
import { FileIdempotencyStore, type IdempotencyStore } from "./idempotencyStore.js";
import type { HostTableStorage, NotificationStateLocation } from "./stateLocation.js";
import { NotificationTable, notificationStateUnavailable } from "./tableStorage.js";
import { NotificationDeliveryError } from "./types.js";

/** The state that makes delivery safe under at-least-once delivery. */
export interface DeliveryState {
  readonly idempotency: IdempotencyStore;
  readonly log: DeliveryLog;
}

/**
 * The idempotency store and delivery log of a location. Builds without network: the table is
 * connected on the first delivery.
 *
 * @param connectionString - `AzureWebJobsStorage`, read when the location's storage is a
 * connection string.
 */
export async function createDeliveryState(
  location: NotificationStateLocation,
  connectionString: string | undefined,
): Promise<DeliveryState> {
  if (location.kind === "files") {
    return {
      idempotency: new FileIdempotencyStore(path.join(location.folder, "delivered")),
      log: new FileDeliveryLog(location.folder),
    };
  }
  // Loaded only in Azure, so that local runs never load the Table Storage client.
  const [{ TableIdempotencyStore }, { TableDeliveryLog }] = await Promise.all([
    import("./tableIdempotencyStore.js"),
    import("./tableDeliveryLog.js"),
  ]);
  const table = new NotificationTable({
    tableName: location.tableName,
    // Connecting waits for the first delivery: building the dependencies needs no network, and a
    // missing setting fails deliveries retryably instead of the whole host.
    connect: () => connectHostTable(location.tableName, location.storage, connectionString),
  });
  return { idempotency: new TableIdempotencyStore(table), log: new TableDeliveryLog(table) };
}

/**
 * A client of the notification table in the host storage account.
 *
 * @throws NotificationDeliveryError `NOTIFICATION_STATE_UNAVAILABLE` (retryable) when the settings
 * name no usable account; the message names settings, never their values.
 */
async function connectHostTable(
  tableName: string,
  storage: HostTableStorage,
  connectionString: string | undefined,
) {
  if (storage.kind === "missing") {
    throw new NotificationDeliveryError(
      notificationStateUnavailable,
      `Notification state needs the host storage account: ${storage.reason}`,
      {
        retryable: true,
        recommendedAction:
          "Set AzureWebJobsStorage__tableServiceUri (identity-based host storage) or AzureWebJobsStorage.",
      },
    );
  }
  const { TableClient } = await import("@azure/data-tables");
  if (storage.kind === "connectionString") {
    let client;
    try {
      client = TableClient.fromConnectionString(connectionString ?? "", tableName);
    } catch {
      // No cause attached: whatever the parser says may quote the connection string.
      throw new NotificationDeliveryError(
        notificationStateUnavailable,
        "AzureWebJobsStorage is not a storage connection string the Table Storage client accepts",
        { retryable: true },
      );
    }
    return isLoopbackHttp(client.url)
      ? TableClient.fromConnectionString(connectionString ?? "", tableName, {
          allowInsecureConnection: true,
        })
      : client;
  }
  const { cloudCredential } = await import("../cloudCredential.js");
  // The cloud was resolved with the location: the identity signs in at its authority.
  const credential = cloudCredential(
    {},
    { managedIdentityClientId: storage.clientId, authorityHost: storage.authorityHost },
  );
  return new TableClient(storage.endpoint, tableName, credential, {
    ...(isLoopbackHttp(storage.endpoint) ? { allowInsecureConnection: true } : {}),
  });
}

/**
 * Whether a URL is plain HTTP to this machine: an emulator (Azurite) speaks plain HTTP, and
 * nothing else may.
 */
export function isLoopbackHttp(url: string): boolean {
  const parsed = new URL(url);
  return (
    parsed.protocol === "http:" &&
    ["127.0.0.1", "localhost", "[::1]"].includes(parsed.hostname.toLowerCase())
  );
}
