/**
 * Wiring of the job history: which store a configuration gets. SQLite under
 * `PGPROTECT_STATE_DIR` where one process runs (the local provider, or the Azure provider on the
 * local runtime without host storage); in Azure, the table `<TASKHUB_NAME>JobHistory` of the host
 * storage account, which every instance shares.
 */
import path from "node:path";
import type { Config } from "./config.js";
import { ConfigurationError } from "./domain/errors.js";
import type { CloudSetting } from "./providers/cloudIdentity.js";
import type { JobHistoryPort } from "./providers/ports.js";
import { openSqliteJobHistory } from "./providers/history/sqliteJobHistory.js";
import { historyTableName, TableJobHistory } from "./providers/history/tableJobHistory.js";
import { isLoopbackHttp } from "./providers/notifications/deliveryState.js";
import {
  hostTableStorage,
  type HostTableStorage,
} from "./providers/notifications/stateLocation.js";

/** The history a process uses, and how to let it go. */
export interface OpenedJobHistory {
  readonly history: JobHistoryPort;
  /** Where it lives; safe to log. */
  readonly location: string;
  close(): void;
}

/**
 * Opens the job history for a configuration.
 *
 * @param lookup - reads a host setting by name (`AzureWebJobsStorage__*`, not in the schema).
 */
export async function openJobHistory(
  config: Pick<
    Config,
    "PGPROTECT_PROVIDER" | "PGPROTECT_STATE_DIR" | "TASKHUB_NAME" | "AzureWebJobsStorage"
  > &
    CloudSetting,
  lookup: (name: string) => string | undefined,
): Promise<OpenedJobHistory> {
  const storage: HostTableStorage | undefined =
    config.PGPROTECT_PROVIDER === "local" ? undefined : hostTableStorage(config, lookup);
  if (!storage || (storage.kind === "missing" && storage.unset)) {
    const folder = path.resolve(config.PGPROTECT_STATE_DIR);
    const history = await openSqliteJobHistory(folder);
    return { history, location: folder, close: () => history.close() };
  }
  const tableName = historyTableName(config.TASKHUB_NAME);
  const history = new TableJobHistory(() =>
    connectHistoryTable(tableName, storage, config.AzureWebJobsStorage),
  );
  return { history, location: `table ${tableName}`, close: () => undefined };
}

/**
 * A client of a table in the host storage account (the job history's, the drill history's).
 *
 * @throws ConfigurationError when the host storage settings cannot reach one.
 */
export async function connectHistoryTable(
  tableName: string,
  storage: HostTableStorage,
  connectionString: string | undefined,
) {
  if (storage.kind === "missing") {
    throw new ConfigurationError(
      `The job history needs the host storage account: ${storage.reason}`,
      [
        {
          path: "AzureWebJobsStorage",
          code: "CONFIG_INVALID",
          message:
            "set AzureWebJobsStorage__tableServiceUri (identity-based host storage) or AzureWebJobsStorage",
        },
      ],
    );
  }
  const { TableClient } = await import("@azure/data-tables");
  if (storage.kind === "connectionString") {
    let client;
    try {
      client = TableClient.fromConnectionString(connectionString ?? "", tableName);
    } catch {
      // No cause attached: whatever the parser says may quote the connection string.
      throw new ConfigurationError(
        "AzureWebJobsStorage is not a storage connection string the Table Storage client accepts",
        [
          {
            path: "AzureWebJobsStorage",
            code: "CONFIG_INVALID",
            message: "not a connection string",
          },
        ],
      );
    }
    return isLoopbackHttp(client.url)
      ? TableClient.fromConnectionString(connectionString ?? "", tableName, {
          allowInsecureConnection: true,
        })
      : client;
  }
  const { cloudCredential } = await import("./providers/cloudCredential.js");
  // The cloud was resolved with the location: the identity signs in at its authority.
  const credential = cloudCredential(
    {},
    { managedIdentityClientId: storage.clientId, authorityHost: storage.authorityHost },
  );
  return new TableClient(storage.endpoint, tableName, credential, {
    ...(isLoopbackHttp(storage.endpoint) ? { allowInsecureConnection: true } : {}),
  });
}
