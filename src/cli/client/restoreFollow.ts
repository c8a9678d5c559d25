/**
 * Following a restore in Azure (`GET /api/restores/{id}`) until it ends: the restore job, then,
 * for a restore to a server, the load into the target database, its verification and the time
 * each step took.
 */
import type { RestoreView } from "../../application/restoreToServer.js";
import type { ApiClient } from "./apiClient.js";
import { begunAt, followWork, workMark, type FollowOptions } from "./follow.js";
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

/** The picture of a restore on a terminal. */
export function restorePicture(
  colors: Colors,
  restore: RestoreView,
  elapsedMs: number,
  spinner: string,
): string {
  const mark = workMark(colors, spinner, restoreEnded(restore), restore.status === "Completed");
  return `${mark} restore of ${restore.backupInstanceName} · ${stateColor(colors, restore.state)} · ${shortDuration(elapsedMs)}`;
}

/** Polls a restore until it ends, showing where it is; resolves with the last view. */
export function followRestore(
  api: ApiClient,
  id: string,
  options: FollowOptions,
): Promise<RestoreView> {
  return followWork<RestoreView>(
    api,
    {
      route: `restores/${encodeURIComponent(id)}`,
      ended: restoreEnded,
      elapsedMs: (restore, at, firstRead) => at - begunAt(firstRead, restore.createdTime),
      picture: (restore, elapsedMs, spinner) =>
        restorePicture(options.colors, restore, elapsedMs, spinner),
      lines: (restore) => [restoreLine(restore)],
    },
    options,
  );
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
