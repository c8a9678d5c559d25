/**
 * Recording jobs in pgprotect's own history as the job watcher sees them, and raising the alarms
 * the history makes possible: a job running longer than its earlier runs say it should
 * (`PgProtect.Job.Stuck`), and a completed backup that departs from its instance's earlier ones
 * (`PgProtect.Backup.Anomaly`).
 */
import { isAppError } from "../domain/errors.js";
import { backupAnomalyEvent, jobStuckEvent, type EventOptions } from "../domain/events/builders.js";
import type { AnomalyMeasure, PgProtectEvent, StuckMark } from "../domain/events/types.js";
import {
  anomalyVerdict,
  defaultAnomalyRule,
  defaultStuckRule,
  historyWindow,
  isStuck,
  stuckThreshold,
  type AnomalyRule,
  type BackupMeasure,
  type StuckRule,
} from "../domain/history/alarms.js";
import type { BackupJob } from "../domain/protection/types.js";
import type {
  AlarmRecord,
  DrillHistoryPort,
  EventPublisherPort,
  JobHistoryPort,
  ResourceDirectoryPort,
} from "../providers/ports.js";

/** The settings of the history and its alarms, under their names in the configuration. */
export interface JobHistorySettings {
  /** Days a job stays in the history (default 400). */
  readonly HISTORY_RETENTION_DAYS?: number | undefined;
  /** The least time a job may run before it counts as stuck (minutes, default 30). */
  readonly STUCK_JOB_FLOOR_MINUTES?: number | undefined;
  /** The longest a job may run before it counts as stuck (hours, default 24). */
  readonly STUCK_JOB_CEILING_HOURS?: number | undefined;
  /** A backup below this fraction of its instance's usual size is an anomaly (default 0.5). */
  readonly ANOMALY_SIZE_DROP_RATIO?: number | undefined;
  /** A backup taking more than this many times its usual duration is an anomaly (default 3). */
  readonly ANOMALY_DURATION_RATIO?: number | undefined;
}

/** Days a job is kept when `HISTORY_RETENTION_DAYS` is not set. */
export const defaultHistoryRetentionDays = 400;

/** What recording needs. */
export interface JobHistoryDependencies {
  readonly history: JobHistoryPort;
  readonly events: EventPublisherPort;
  readonly eventSource: string;
  readonly config: JobHistorySettings;
  /** Reads a running job's datasource tags for routing rules (the listing has them for the rest). */
  readonly directory?: Pick<ResourceDirectoryPort, "getTags">;
  /** The drill history, pruned with the jobs by the same retention. */
  readonly drills?: Pick<DrillHistoryPort, "prune">;
}

/** A job as the watcher saw it, with its datasource's tags. */
export interface SeenJob {
  readonly job: BackupJob;
  readonly datasourceTags?: Readonly<Record<string, string>>;
}

/** What one recording did. */
export interface RecordedJobs {
  /** The alarms whose events were published now. */
  readonly alarms: readonly {
    readonly id: string;
    readonly type: string;
    readonly subject: string;
  }[];
  /** Jobs seen ending that had been reported stuck, with how they were judged. */
  readonly stuckEnded: readonly { readonly jobId: string; readonly stuck: StuckMark }[];
}

/** The rules in force, from the settings. */
export function alarmRules(config: JobHistorySettings): {
  stuck: StuckRule;
  anomaly: AnomalyRule;
} {
  return {
    stuck: {
      factor: defaultStuckRule.factor,
      floorMinutes: config.STUCK_JOB_FLOOR_MINUTES ?? defaultStuckRule.floorMinutes,
      ceilingHours: config.STUCK_JOB_CEILING_HOURS ?? defaultStuckRule.ceilingHours,
    },
    anomaly: {
      sizeDropRatio: config.ANOMALY_SIZE_DROP_RATIO ?? defaultAnomalyRule.sizeDropRatio,
      durationRatio: config.ANOMALY_DURATION_RATIO ?? defaultAnomalyRule.durationRatio,
    },
  };
}

/** How often a process prunes the history at most. */
const pruneEveryMs = 3_600_000;
const lastPruned = new WeakMap<JobHistoryPort, number>();

function durationMs(job: BackupJob): number | undefined {
  if (job.endTime === undefined) return undefined;
  const ms = Date.parse(job.endTime) - Date.parse(job.startTime);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

function measureOf(job: BackupJob): BackupMeasure {
  const duration = durationMs(job);
  return {
    ...(job.dataTransferredInBytes === undefined ? {} : { bytes: job.dataTransferredInBytes }),
    ...(duration === undefined ? {} : { durationMs: duration }),
  };
}

const minutes = (ms: number) => Math.round((ms / 60_000) * 10) / 10;

/**
 * Records the jobs the watcher listed, then raises what the history now shows: an anomaly for
 * each completed backup that departs from its instance's earlier ones, and a stuck alarm for each
 * recorded running job past its expected time. Each alarm is recorded under its event id before
 * it is published, and published until it is marked so: raised once, however often a pass runs
 * again.
 *
 * @param at - the pass's time (ISO 8601): running time is measured to it.
 */
export async function recordWatchedJobs(
  deps: JobHistoryDependencies,
  seen: readonly SeenJob[],
  at: string,
): Promise<RecordedJobs> {
  const { history } = deps;
  const now = Date.parse(at);
  const rules = alarmRules(deps.config);
  await history.recordJobs(seen.map((entry) => entry.job));
  const tagsByDatasource = new Map<string, Readonly<Record<string, string>>>();
  for (const entry of seen) {
    if (entry.datasourceTags)
      tagsByDatasource.set(entry.job.dataSourceId.toLowerCase(), entry.datasourceTags);
  }
  const optionsFor = async (job: BackupJob): Promise<EventOptions> => {
    const tags = await tagsOf(deps, job, tagsByDatasource);
    return { source: deps.eventSource, ...(tags ? { datasourceTags: tags } : {}) };
  };

  const candidates: AlarmRecord[] = [];
  for (const { job } of seen) {
    if (job.operationCategory !== "Backup" || job.status !== "Completed") continue;
    if (await raised(history, job, "anomaly")) continue;
    const earlier = await history.completedJobs({
      backupInstanceId: job.backupInstanceId,
      operationCategory: "Backup",
      startedBefore: job.startTime,
      limit: historyWindow.runs,
    });
    const verdict = anomalyVerdict(measureOf(job), earlier.map(measureOf), rules.anomaly);
    if (!verdict.anomalous) continue;
    const findings = verdict.findings.map((finding): AnomalyMeasure =>
      finding.measure === "size"
        ? finding
        : { ...finding, observed: finding.observed / 1000, usual: finding.usual / 1000 },
    );
    const event = backupAnomalyEvent(
      { job, findings, earlierBackups: earlier.length },
      await optionsFor(job),
    );
    candidates.push(alarmOf("anomaly", job, event, at));
  }

  for (const job of await history.runningJobs()) {
    if (await raised(history, job, "stuck")) continue;
    const earlier = await history.completedJobs({
      backupInstanceId: job.backupInstanceId,
      operationCategory: job.operationCategory,
      startedBefore: job.startTime,
      limit: historyWindow.runs,
    });
    const threshold = stuckThreshold(
      earlier.flatMap((run) => {
        const ms = durationMs(run);
        return ms === undefined ? [] : [ms];
      }),
      rules.stuck,
    );
    const start = Date.parse(job.startTime);
    if (!isStuck(start, now, threshold)) continue;
    const event = jobStuckEvent(
      {
        job,
        detectedAt: at,
        runningMinutes: minutes(now - start),
        expectedWithinMinutes: minutes(threshold.thresholdMs),
        ...(threshold.p95Ms === undefined ? {} : { usualP95Minutes: minutes(threshold.p95Ms) }),
        earlierRuns: threshold.runs,
        basis: threshold.basis,
      },
      await optionsFor(job),
    );
    candidates.push(alarmOf("stuck", job, event, at));
  }

  const unpublished: AlarmRecord[] = [];
  for (const candidate of candidates) {
    const recorded = await history.recordAlarm(candidate);
    if (!recorded.published) unpublished.push(recorded);
  }
  if (unpublished.length > 0) {
    await deps.events.publish(unpublished.map((alarm) => alarm.event));
    for (const alarm of unpublished) await history.markAlarmPublished(alarm.id);
  }

  const stuckEnded: { jobId: string; stuck: StuckMark }[] = [];
  for (const { job } of seen) {
    if (job.status === "InProgress") continue;
    const stuck = await stuckMarkOf(history, job);
    if (stuck) stuckEnded.push({ jobId: job.id, stuck });
  }

  await pruneNowAndThen(history, deps.drills, deps.config, now);
  return {
    alarms: unpublished.map((alarm) => ({
      id: alarm.id,
      type: alarm.event.type,
      subject: alarm.event.subject,
    })),
    stuckEnded,
  };
}

/** Whether the alarm was raised and published already: nothing to weigh again. */
async function raised(
  history: JobHistoryPort,
  job: BackupJob,
  kind: AlarmRecord["kind"],
): Promise<boolean> {
  return (await history.alarmsOfJob(job.id)).some(
    (alarm) => alarm.kind === kind && alarm.published,
  );
}

function alarmOf(
  kind: AlarmRecord["kind"],
  job: BackupJob,
  event: PgProtectEvent,
  at: string,
): AlarmRecord {
  return { id: event.id, kind, jobId: job.id, at, event, published: false };
}

async function tagsOf(
  deps: JobHistoryDependencies,
  job: BackupJob,
  known: ReadonlyMap<string, Readonly<Record<string, string>>>,
): Promise<Readonly<Record<string, string>> | undefined> {
  const listed = known.get(job.dataSourceId.toLowerCase());
  if (listed || !deps.directory) return listed;
  try {
    return await deps.directory.getTags(job.dataSourceId);
  } catch (error) {
    // A datasource that is gone has no tags to route by; the alarm still goes to untagged rules.
    if (isAppError(error) && error.httpStatus === 404) return undefined;
    throw error;
  }
}

/** Removes jobs, alarms and drills older than the retention, at most once an hour per process. */
async function pruneNowAndThen(
  history: JobHistoryPort,
  drills: Pick<DrillHistoryPort, "prune"> | undefined,
  config: JobHistorySettings,
  now: number,
): Promise<void> {
  const last = lastPruned.get(history);
  if (last !== undefined && now - last < pruneEveryMs && now >= last) return;
  lastPruned.set(history, now);
  const days = config.HISTORY_RETENTION_DAYS ?? defaultHistoryRetentionDays;
  const before = new Date(now - days * 86_400_000).toISOString();
  await history.prune(before);
  await drills?.prune(before);
}

/**
 * Records a job followed one by one (the ad-hoc backup follow-up publishes each state it sees)
 * and answers, once it has ended, how it was judged stuck if it was: so that whoever publishes a
 * job's end first tells it as the end of a stuck job.
 */
export async function recordFollowedJob(
  history: JobHistoryPort,
  job: BackupJob,
): Promise<StuckMark | undefined> {
  await history.recordJobs([job]);
  return job.status === "InProgress" ? undefined : stuckMarkOf(history, job);
}

/** How a job was judged when it was reported stuck, if it was. */
async function stuckMarkOf(
  history: JobHistoryPort,
  job: BackupJob,
): Promise<StuckMark | undefined> {
  const stuck = (await history.alarmsOfJob(job.id)).find((alarm) => alarm.kind === "stuck");
  return stuck?.event.type === "PgProtect.Job.Stuck"
    ? { reportedAt: stuck.at, expectedWithinMinutes: stuck.event.data.expectedWithinMinutes }
    : undefined;
}
