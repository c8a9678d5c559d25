/**
 * The local provider's schedules: the backups that fell due and the retention steps (copy to
 * ArchiveStore, delete) that are due. In Azure the service does this itself.
 */

/** What one tick of the schedules did, in the parts a report names. */
export interface LocalScheduleTickReport {
  readonly backups: readonly unknown[];
  readonly retention: readonly unknown[];
  /** Occurrences skipped by the catch-up rule. */
  readonly missed: readonly { readonly occurrences: readonly string[] }[];
  /** Due backups left for a later tick because a backup of the same instance ran. */
  readonly deferred: readonly {
    readonly vaultName: string;
    readonly instanceName: string;
    readonly occurrence: string;
    readonly runningJob: string;
  }[];
  /** Instances the tick could not handle. */
  readonly errors: readonly {
    readonly vaultName: string;
    readonly instanceName: string;
    readonly code: string;
    readonly message: string;
  }[];
}

/**
 * Runs the policy schedules of a provider that keeps them itself (the local one); the
 * composition root supplies it, so the application never loads a provider.
 */
export interface LocalSchedulePort {
  /** Runs the backups and retention steps due now; a tick waits for one still running. */
  tick(): Promise<LocalScheduleTickReport>;
}

/** What a tick is worth telling: progress lines, and failures as warnings. */
export interface LocalScheduleReport {
  readonly lines: readonly string[];
  readonly warnings: readonly string[];
}

/**
 * Runs one tick of the local provider's policy schedules.
 *
 * @returns what the tick did, or `undefined` when the provider keeps no schedules of its own.
 */
export async function runLocalSchedule(
  schedule: LocalSchedulePort | undefined,
): Promise<LocalScheduleReport | undefined> {
  if (!schedule) return undefined;
  const report = await schedule.tick();
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
