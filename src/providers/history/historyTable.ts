/**
 * What the Table Storage histories (jobs and drills) share: how the table is reached, opened once
 * per process, and the HTTP status of a failure.
 */
import { isRestError } from "@azure/core-rest-pipeline";
import type { TableClient } from "@azure/data-tables";

/** How to reach the table; called once, and again after a failure. */
export type HistoryTableConnector = () => TableClient | Promise<TableClient>;

/**
 * The table's client, connected and the table created on first use. A failed attempt is
 * forgotten, so the next call tries again rather than answering the same failure forever.
 */
export function openTableOnce(connect: HistoryTableConnector): () => Promise<TableClient> {
  let ready: Promise<TableClient> | undefined;
  return () => {
    ready ??= (async () => {
      const client = await connect();
      await client.createTable();
      return client;
    })().catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    return ready;
  };
}

/** The HTTP status of a Table Storage failure, when the service answered. */
export function statusOf(error: unknown): number | undefined {
  if (isRestError(error)) return error.statusCode;
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" ? status : undefined;
}
