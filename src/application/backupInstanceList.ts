/**
 * The backup instances lookup: the protected items of every vault the app covers (or of one), each
 * described as `GET /api/backup-instances/{name}` describes it.
 */
import type { InstanceAlarmMarks } from "../domain/history/alarmMarks.js";
import type { BackupPolicyResource } from "../domain/policy/types.js";
import type { DrillHistoryPort, JobHistoryPort } from "../providers/ports.js";
import { withInstanceAlarms } from "./alarmMarks.js";
import {
  describeBackupInstance,
  type BackupInstanceView,
  type LookupDependencies,
} from "./backupInstances.js";
import { withLastDrills } from "./drills.js";
import { vaultsToSearch } from "./vaults.js";

/**
 * Every backup instance of the named vault, or of every vault the app covers, sorted by vault and
 * friendly name.
 *
 * @remarks Instances sharing a policy read it once.
 */
export async function listBackupInstanceViews(
  deps: LookupDependencies & {
    readonly history?: JobHistoryPort;
    readonly drills?: DrillHistoryPort;
  },
  vault: string | undefined,
  now: Date,
): Promise<(BackupInstanceView & { readonly alarms?: InstanceAlarmMarks })[]> {
  const vaultIds = await vaultsToSearch(deps, vault);
  const policies = new Map<string, Promise<BackupPolicyResource | undefined>>();
  const perVault = await Promise.all(
    vaultIds.map(async (vaultId) => {
      const instances = await deps.provider.backup.listBackupInstances(vaultId);
      return Promise.all(
        instances.map((instance) =>
          describeBackupInstance(deps, { vaultId, instance }, now, policies),
        ),
      );
    }),
  );
  const views = perVault
    .flat()
    .sort(
      (a, b) =>
        a.vaultName.localeCompare(b.vaultName) || a.friendlyName.localeCompare(b.friendlyName),
    );
  // With a history, each item says whether a job of it is stuck or its latest backup departed.
  const described = deps.history ? await withInstanceAlarms(deps.history, views, now) : views;
  // With a drill history, each item shows its last restore drill.
  return withLastDrills(deps, described);
}
