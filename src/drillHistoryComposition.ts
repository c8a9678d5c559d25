/**
 * Wiring of the drill history: SQLite in the job history's file under `PGPROTECT_STATE_DIR`
 * wherever the job history is SQLite (one process); where the job history lives in Table Storage
 * (Azure, many instances), the table `<TASKHUB_NAME>Drills` of the host storage account, which
 * every instance shares, so that one drill per backup instance holds across instances.
 */
import path from "node:path";
import type { Config } from "./config.js";
import { connectHistoryTable } from "./historyComposition.js";
import type { CloudSetting } from "./providers/cloudIdentity.js";
import type { DrillHistoryPort } from "./providers/ports.js";
import { openSqliteDrillHistory } from "./providers/history/sqliteDrillHistory.js";
import { drillTableName, TableDrillHistory } from "./providers/history/tableDrillHistory.js";
import { hostTableStorage } from "./providers/notifications/stateLocation.js";

/** The drill history a process uses, and how to let it go. */
export interface OpenedDrillHistory {
  readonly drills: DrillHistoryPort;
  /** Where it lives; safe to log. */
  readonly location: string;
  close(): void;
}

/**
 * Opens the drill history for a configuration.
 *
 * @param lookup - reads a host setting by name (`AzureWebJobsStorage__*`, not in the schema).
 */
export async function openDrillHistory(
  config: Pick<
    Config,
    "PGPROTECT_PROVIDER" | "PGPROTECT_STATE_DIR" | "TASKHUB_NAME" | "AzureWebJobsStorage"
  > &
    CloudSetting,
  lookup: (name: string) => string | undefined,
): Promise<OpenedDrillHistory> {
  const storage =
    config.PGPROTECT_PROVIDER === "local" ? undefined : hostTableStorage(config, lookup);
  if (!storage || (storage.kind === "missing" && storage.unset)) {
    const folder = path.resolve(config.PGPROTECT_STATE_DIR);
    const drills = await openSqliteDrillHistory(folder);
    return { drills, location: folder, close: () => drills.close() };
  }
  const tableName = drillTableName(config.TASKHUB_NAME);
  const drills = new TableDrillHistory(() =>
    connectHistoryTable(tableName, storage, config.AzureWebJobsStorage),
  );
  return { drills, location: `table ${tableName}`, close: () => undefined };
}
