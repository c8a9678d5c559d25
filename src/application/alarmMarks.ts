/**
 * The job history's alarms beside what they are about: each listed job with the alarms raised
 * about it, and each protected item with its running job reported stuck and its latest backup
 * when that backup departed from the usual. The answers of `GET /api/jobs` and
 * `GET /api/backup-instances` carry them, so that the CLI and the dashboard mark what needs a look.
 */
import {
  jobAlarmMark,
  type InstanceAlarmMark,
  type InstanceAlarmMarks,
  type JobAlarmMark,
} from "../domain/history/alarmMarks.js";
import type { BackupJob } from "../domain/protection/types.js";
import type { AlarmRecord, JobHistoryPort } from "../providers/ports.js";

/** A job with the alarms the history raised about it, oldest first (none: an empty list). */
export type JobWithAlarms = BackupJob & { readonly alarms: readonly JobAlarmMark[] };

function markOf(alarm: AlarmRecord): JobAlarmMark | undefined {
  const { event } = alarm;
  return event.type === "PgProtect.Job.Stuck" || event.type === "PgProtect.Backup.Anomaly"
    ? jobAlarmMark(event, alarm.at)
    : undefined;
}

async function marksOfJob(history: JobHistoryPort, jobId: string): Promise<JobAlarmMark[]> {
  return (await history.alarmsOfJob(jobId)).flatMap((alarm) => {
    const mark = markOf(alarm);
    return mark ? [mark] : [];
  });
}

/**
 * The jobs, each with its alarms.
 *
 * @remarks One indexed look-up per job (`alarmsOfJob`): a page is at most a few hundred jobs, and
 * alarms are rare, so the look-ups stay small with either store.
 */
export async function withJobAlarms(
  history: JobHistoryPort,
  jobs: readonly BackupJob[],
): Promise<JobWithAlarms[]> {
  return Promise.all(
    jobs.map(async (job) => ({ ...job, alarms: await marksOfJob(history, job.id) })),
  );
}

function instanceMark(job: BackupJob, mark: JobAlarmMark): InstanceAlarmMark {
  return { ...mark, jobId: job.id, jobName: job.name };
}

/**
 * Each protected item's marks, by its ARM id in lower case: `stuck` while a job of it that was
 * reported stuck still runs (as the history last saw it), `anomaly` while its latest completed
 * backup is one that departed from the usual (a normal backup after it clears the mark).
 *
 * @param now - only backups started before it count as the latest.
 */
export async function instanceAlarmMarks(
  history: JobHistoryPort,
  instanceIds: readonly string[],
  now: Date,
): Promise<Map<string, InstanceAlarmMarks>> {
  const wanted = new Set(instanceIds.map((id) => id.toLowerCase()));
  const stuck = new Map<string, InstanceAlarmMark>();
  for (const job of await history.runningJobs()) {
    const key = job.backupInstanceId.toLowerCase();
    if (!wanted.has(key)) continue;
    const mark = (await marksOfJob(history, job.id)).find((m) => m.kind === "stuck");
    if (mark) stuck.set(key, instanceMark(job, mark));
  }
  const marks = new Map<string, InstanceAlarmMarks>();
  await Promise.all(
    [...wanted].map(async (key) => {
      const [latest] = await history.completedJobs({
        backupInstanceId: key,
        operationCategory: "Backup",
        startedBefore: now.toISOString(),
        limit: 1,
      });
      const anomaly = latest
        ? (await marksOfJob(history, latest.id)).find((m) => m.kind === "anomaly")
        : undefined;
      marks.set(key, {
        stuck: stuck.get(key) ?? null,
        anomaly: latest && anomaly ? instanceMark(latest, anomaly) : null,
      });
    }),
  );
  return marks;
}

/** Views of protected items, each given its `alarms` (see {@link instanceAlarmMarks}). */
export async function withInstanceAlarms<T extends { readonly id: string }>(
  history: JobHistoryPort,
  views: readonly T[],
  now: Date,
): Promise<(T & { readonly alarms: InstanceAlarmMarks })[]> {
  const marks = await instanceAlarmMarks(
    history,
    views.map((view) => view.id),
    now,
  );
  return views.map((view) => ({
    ...view,
    alarms: marks.get(view.id.toLowerCase()) ?? { stuck: null, anomaly: null },
  }));
}
