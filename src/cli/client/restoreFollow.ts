/**
 * Following a restore in Azure (`GET /api/restores/{id}`) until it ends: the restore job, then,
 * for a restore to a server, the load into the target database, its verification and the time
 * each step took.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { RestoreView } from "../../application/restoreToServer.js";
import type { ApiClient } from "./apiClient.js";
import { WaitInterrupted, type FollowOptions } from "./follow.js";
import { keyValues, shortDuration, stateColor, type Colors } from "./render.js";

/** Whether a restore has ended. */
export function restoreEnded(restore: Pick<RestoreView, "status">): boolean {
  return restore.status !== "Running";
}

/** One line per state a restore is seen in, for a log. */
function restoreLine(restore: RestoreView): string {
  const error = restore.error ? `: ${restore.error.code}: ${restore.error.message}` : "";
  return `${restore.id}: restore of ${restore.backupInstanceName} ${restore.status}, ${restore.state}${error}`;
}

/** Polls a restore until it ends, showing where it is; resolves with the last view. */
export async function followRestore(
  api: ApiClient,
  id: string,
  options: FollowOptions,
): Promise<RestoreView> {
  const now = options.now ?? Date.now;
  const started = now();
  try {
    for (;;) {
      const restore = await api.get<RestoreView>(`restores/${encodeURIComponent(id)}`);
      const createdAt = Date.parse(restore.createdTime);
      const since = Number.isNaN(createdAt) ? started : Math.min(started, createdAt);
      options.view.show(
        (spinner) => {
          const mark = !restoreEnded(restore)
            ? options.colors.cyan(spinner)
            : restore.status === "Completed"
              ? options.colors.green("✔")
              : options.colors.red("✖");
          return `${mark} restore of ${restore.backupInstanceName} · ${stateColor(options.colors, restore.state)} · ${shortDuration(now() - since)}`;
        },
        [restoreLine(restore)],
      );
      if (restoreEnded(restore)) return restore;
      if (options.signal.aborted) throw new WaitInterrupted(restore);
      try {
        await sleep(options.intervalSeconds * 1000, undefined, { signal: options.signal });
      } catch {
        throw new WaitInterrupted(restore);
      }
    }
  } finally {
    options.view.close();
  }
}

/** A finished restore for people: its job, the database, its verification, the time it took. */
export function restoreDetails(colors: Colors, restore: RestoreView): string {
  const database = restore.database;
  const verification = database?.verification;
  return keyValues(colors, [
    ["restore", restore.id],
    ["backup instance", restore.backupInstanceName],
    ["status", stateColor(colors, restore.status)],
    ["job", restore.jobId.split("/").pop()],
    ["database", database ? `${database.databaseName} on ${database.server}` : undefined],
    [
      "verified",
      verification
        ? `${verification.verified ? "yes" : "no"}: ${verification.tables} tables, ${verification.rows} rows`
        : undefined,
    ],
    ["took", restore.seconds ? `${restore.seconds.total.toFixed(1)} s` : undefined],
    ["error", restore.error ? `${restore.error.code}: ${restore.error.message}` : undefined],
  ]);
}
