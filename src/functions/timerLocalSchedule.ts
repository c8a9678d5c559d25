import { app, type InvocationContext, type Timer } from "@azure/functions";
import { appDependencies } from "../composition.js";
import { appConfig } from "../config.js";

/**
 * Runs the local provider's policy schedules once a minute: the backups that fell due and the
 * retention steps (copy to ArchiveStore, delete) that are due. In Azure the service does this
 * itself, so the timer does nothing there.
 */
export async function timerLocalSchedule(_timer: Timer, context: InvocationContext): Promise<void> {
  if (appConfig().PGPROTECT_PROVIDER !== "local") return;
  const deps = await appDependencies();
  const { LocalBackupService } = await import("../providers/local/localBackupService.js");
  const { runLocalScheduleTick } = await import("../providers/local/scheduler.js");
  const backup = deps.provider.backup;
  if (!(backup instanceof LocalBackupService)) return;
  const report = await runLocalScheduleTick({ backup });
  const missed = report.missed.reduce((sum, entry) => sum + entry.occurrences.length, 0);
  if (report.backups.length + report.retention.length + report.errors.length + missed > 0) {
    context.log(
      `local schedule: ${report.backups.length} backup(s), ${report.retention.length} retention step(s), ${missed} missed occurrence(s), ${report.errors.length} failure(s)`,
    );
  }
  for (const deferred of report.deferred) {
    context.log(
      `local schedule: ${deferred.vaultName}/${deferred.instanceName}: the backup due ${deferred.occurrence} is deferred while ${deferred.runningJob} runs`,
    );
  }
  for (const error of report.errors) {
    context.warn(
      `local schedule: ${error.vaultName}/${error.instanceName}: ${error.code}: ${error.message}`,
    );
  }
}

app.timer("timerLocalSchedule", {
  schedule: "0 * * * * *",
  handler: timerLocalSchedule,
});
