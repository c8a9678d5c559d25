/**
 * The local provider's schedules: the backups that fell due and the retention steps (copy to
 * ArchiveStore, delete) that are due. In Azure the service does this itself.
 */
import type { Provider } from "../providers/ports.js";

/** What a tick is worth telling: progress lines, and failures as warnings. */
export interface LocalScheduleReport {
  readonly lines: readonly string[];
  readonly warnings: readonly string[];
}

/**
 * Runs one tick of the local provider's policy schedules.
 *
 * @returns what the tick did, or `undefined` when the provider is not the local one.
 */
export async function runLocalSchedule(
  provider: Pick<Provider, "backup">,
): Promise<LocalScheduleReport | undefined> {
  // Loaded on demand: the Azure host never loads the local provider.
  const { LocalBackupService } = await import("../providers/local/localBackupService.js");
  const { runLocalScheduleTick } = await import("../providers/local/scheduler.js");
  const backup = provider.backup;
  if (!(backup instanceof LocalBackupService)) return undefined;
  const report = await runLocalScheduleTick({ backup });
  const missed = report.missed.reduce((sum, entry) => sum + entry.occurrences.length, 0);
  const lines: string[] = [];
  if (report.backups.length + report.retention.length + report.errors.length + missed > 0) {
    lines.push(
      `local schedule: ${report.backups.length} backup(s), ${report.retention.length} retention step(s), ${missed} missed occurrence(s), ${report.errors.length} failure(s)`,
    );
  }
  for (const deferred of report.deferred) {
    lines.push(
      `local schedule: ${deferred.vaultName}/${deferred.instanceName}: the backup due ${deferred.occurrence} is deferred while ${deferred.runningJob} runs`,
    );
  }
  const warnings = report.errors.map(
    (error) =>
      `local schedule: ${error.vaultName}/${error.instanceName}: ${error.code}: ${error.message}`,
  );
  return { lines, warnings };
}
