/** The answer to a restore request: what was started, and where to follow it. */
import type { RestoreFollowed } from "../application/restoreToServer.js";
import { parseVaultId } from "../domain/protection/ids.js";

/**
 * The 202 body and `Location` of a started restore: the job's status URL and, where an
 * orchestration follows the restore (Azure), the restore's, which `Location` then names.
 */
export function restoreAnswer(
  started: RestoreFollowed,
  requestUrl: string,
): { body: Record<string, unknown>; location: string } {
  const { vaultId, restoreId, notFollowed: _notFollowed, ...answer } = started;
  const statusUrl = new URL(`/api/jobs/${started.jobName}`, requestUrl).toString();
  const restoreStatusUrl = restoreId
    ? new URL(`/api/restores/${restoreId}`, requestUrl).toString()
    : undefined;
  return {
    body: {
      ...answer,
      vaultName: parseVaultId(vaultId).vaultName,
      status: "InProgress",
      statusUrl,
      ...(restoreId ? { restoreId, restoreStatusUrl } : {}),
    },
    location: restoreStatusUrl ?? statusUrl,
  };
}
