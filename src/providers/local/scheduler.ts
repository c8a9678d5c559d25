/**
 * The policy scheduler of the local provider: fires the backups a policy's schedule asks for, tags
 * them, and moves recovery points through their retention lifecycle (VaultStore -> ArchiveStore ->
 * deleted), exactly as the policy simulator predicts.
 *
 * @remarks It has no timer of its own: each {@link LocalScheduler.tick} call handles what fell due
 * up to the instant it is given. The function app's timer trigger calls
 * {@link runLocalScheduleTick}; tests call `tick(now)` with a fake clock.
 *
 * Rules:
 * - Every backup instance in `ProtectionConfigured` is scheduled by its policy's backup rule.
 *   Stopped instances keep their recovery points as they are (stop protection retains data).
 * - Per instance a watermark (`handledUntil`) is persisted: occurrences before it were handled.
 *   A tick handles the occurrences in `[handledUntil, now]` and moves the watermark past the newest
 *   of them before its backup starts, so a restart neither repeats nor loses a backup. The
 *   watermark starts at the instance's `createdAt`: the first backup is the first occurrence at
 *   or after protection was configured.
 * - Crashes: the occurrence is claimed in the state file before its job starts and the job id is
 *   noted as soon as it exists. A restarted scheduler waits for (or finds) that job and records
 *   how it ended (a job cut off by a stop or a crash runs again as its next attempt, see the
 *   backup service); when no job was started at all, the occurrence is due again.
 * - One backup at a time per instance: a backup that falls due while another backup of the
 *   instance runs (an ad-hoc one, say) is deferred, with a log line: the occurrence stays due and
 *   runs at the first tick after the running backup ended.
 * - Failed scheduled backups do not count as "first of period": the next backup that succeeds in
 *   the month is the month's first.
 * - Catch-up: when several occurrences fell due in one tick (the scheduler was not running), only
 *   the most recent one is backed up; the older ones are recorded as missed in the instance's
 *   schedule state and reported in a log line and in the tick's report. Dumping the same database
 *   several times in a row would give identical recovery points at a cost.
 * - The tag of a scheduled backup, and the retention of every recovery point, come from the
 *   simulator (`simulatePolicy`, i.e. `tagSelection.ts` and `retention.ts`): "first of
 *   day/week/month/year" is judged against the instance's scheduled backups that really produced a
 *   recovery point (the simulator's `history`). Weeks for `FirstOfWeek` run Sunday to Saturday in
 *   the schedule's time zone, as the simulator reads them; the Flexible Server one-backup-a-week
 *   limit counts ISO weeks (Monday 00:00 UTC), as the backup service enforces it.
 * - A scheduled recovery point's lifecycle counts from the occurrence it was taken for (not from
 *   when the tick happened to run it), so the copy and deletion instants are the simulator's to
 *   the millisecond. An ad-hoc recovery point's lifecycle counts from its `recoveryPointTime`
 *   under its retention tag.
 * - Lifecycle steps happen at the first tick at or after their instant: the archive copy is made
 *   while `archiveFrom <= now < archiveTo`, before the vault copy is deleted at `vaultTo` (so
 *   `CopyOnExpiryOption` always has a source); each copy is deleted once its end has come. An
 *   archive copy the rule does not make (one copied by hand) lives as long as the vault copy.
 * - Lifecycle steps are taken per recovery point: one point's failure holds up neither its
 *   instance's other points nor the instance's next backup. A point whose copy to ArchiveStore is
 *   refused as `RecoveryPointCorrupt` is reported once (a `LocalSchedule.RecoveryPointCorrupt`
 *   log line and the tick's `corruptRecoveryPoints`), is not copied again, and is deleted when the
 *   policy says. No event is published for it: the event types speak of jobs, protections and
 *   overdue backups, and a retention step is none of them.
 * - A failed scheduled backup is not retried; its job shows the failure and the next occurrence
 *   runs as usual.
 */
import path from "node:path";
import { AppError, toAppError } from "../../domain/errors.js";
import { backupRuleOf, scheduleOccurrences } from "../../domain/policy/schedule.js";
import { simulatePolicy, type SimulatedBackup } from "../../domain/policy/simulation.js";
import type { BackupPolicy, BackupSchedule } from "../../domain/policy/types.js";
import { parseVaultChildId } from "../../domain/protection/ids.js";
import type {
  BackupInstance,
  BackupJob,
  JobStatus,
  RecoveryPointStoreType,
} from "../../domain/protection/types.js";
import { readJsonFile, writeJsonAtomic } from "../atomicFiles.js";
import { ProviderErrorCodes } from "../ports.js";
import type { LocalBackupService } from "./localBackupService.js";
import { assertSafeSegment, VaultFolder } from "./vaultStore.js";

// ---------------------------------------------------------------------------------------------
// Pure rules

/** The occurrences a tick handles: the one to back up, and the older ones it skips. */
export interface DueOccurrences {
  /** The most recent occurrence in the window, epoch ms; `undefined` when none fell due. */
  run: number | undefined;
  /** Older occurrences of the window, ascending: missed while nothing ticked. */
  missed: readonly number[];
}

/**
 * The schedule's occurrences in `[handledUntil, now]`, split by the catch-up rule: the most recent
 * runs, the others are missed.
 */
export function dueOccurrences(
  schedule: BackupSchedule,
  handledUntil: number,
  now: number,
): DueOccurrences {
  if (now < handledUntil) return { run: undefined, missed: [] };
  const due = scheduleOccurrences(schedule, handledUntil, now + 1);
  return { run: due[due.length - 1], missed: due.slice(0, -1) };
}

/** A recovery point's place in its lifecycle: instants as epoch ms (`to` exclusive). */
export interface RetentionPlanEntry {
  /** The instant the lifecycle counts from (the occurrence, or an ad-hoc point's time). */
  readonly anchor: number;
  readonly tag: string;
  /** The retention rule that governs it. */
  readonly rule: string;
  readonly vaultTo: number;
  readonly archiveFrom: number | undefined;
  readonly archiveTo: number | undefined;
}

function planOf(backup: SimulatedBackup): RetentionPlanEntry {
  return {
    anchor: backup.at,
    tag: backup.tag,
    rule: backup.rule,
    vaultTo: backup.vaultTo,
    archiveFrom: backup.archiveFrom,
    archiveTo: backup.archiveTo,
  };
}

/**
 * The tag and lifecycle of the scheduled backup for one occurrence, as the simulator computes it.
 *
 * @param history - occurrences of the instance's earlier scheduled backups that produced a
 * recovery point, for "first of period" criteria.
 * @throws InvalidInputError when the policy cannot be simulated.
 */
export function scheduledBackupPlan(
  policy: BackupPolicy,
  occurrence: number,
  history: readonly number[],
): RetentionPlanEntry {
  const simulation = simulatePolicy(policy, { from: occurrence, to: occurrence + 1, history });
  const backup = simulation.backups.find((b) => !b.adhoc && b.at === occurrence);
  if (!backup) {
    throw new AppError(
      "LOCAL_SCHEDULE_OCCURRENCE_UNKNOWN",
      `${new Date(occurrence).toISOString()} is not an occurrence of the policy's schedule`,
      { httpStatus: 500 },
    );
  }
  return planOf(backup);
}

/**
 * The lifecycle of a recovery point kept under a retention tag from `at` on (an ad-hoc point, or
 * one whose schedule record is gone), as the simulator computes it for ad-hoc backups.
 *
 * @throws InvalidInputError when the policy has no retention rule for the tag.
 */
export function taggedBackupPlan(
  policy: BackupPolicy,
  at: number,
  tag: string,
): RetentionPlanEntry {
  const simulation = simulatePolicy(policy, {
    from: at,
    to: at + 1,
    history: [],
    adhoc: [{ at, retentionTagOverride: tag }],
  });
  const backup = simulation.backups.find((b) => b.adhoc);
  if (!backup) throw new Error("unreachable: the simulation lists the ad-hoc backup in its window");
  return planOf(backup);
}

/** One step of a recovery point's lifecycle. */
export type RetentionAction = "copyToArchive" | "deleteFromVault" | "deleteFromArchive";

/**
 * The lifecycle steps due at `now` for a recovery point with the given copies, in the order to
 * take them (copy before deleting its source).
 */
export function retentionActions(
  plan: RetentionPlanEntry,
  present: { readonly vault: boolean; readonly archive: boolean },
  now: number,
): RetentionAction[] {
  const actions: RetentionAction[] = [];
  const archiveDue =
    plan.archiveFrom !== undefined &&
    plan.archiveTo !== undefined &&
    plan.archiveFrom <= now &&
    now < plan.archiveTo;
  if (archiveDue && present.vault && !present.archive) actions.push("copyToArchive");
  if (present.vault && now >= plan.vaultTo) actions.push("deleteFromVault");
  // An archive copy the rule does not make (copied by hand) lives as long as the vault copy.
  if (present.archive && now >= (plan.archiveTo ?? plan.vaultTo)) actions.push("deleteFromArchive");
  return actions;
}

// ---------------------------------------------------------------------------------------------
// Persisted state

/** A scheduled backup the scheduler started. */
interface ScheduledRun {
  /** The occurrence it was taken for (ISO 8601). */
  readonly occurrence: string;
  readonly jobId: string | undefined;
  readonly status: JobStatus;
  readonly retentionTag: string;
  readonly recoveryPointId?: string;
  readonly errorCode?: string;
}

/** A retention plan as stored: instants as ISO 8601. */
interface StoredPlan {
  readonly anchor: string;
  readonly tag: string;
  readonly rule: string;
  readonly vaultTo: string;
  readonly archiveFrom?: string;
  readonly archiveTo?: string;
}

/** The schedule state of one backup instance (`<vault>/schedule/<instance>.json`). */
interface InstanceScheduleState {
  readonly version: 1;
  /** Occurrences before this instant have been handled (run, or recorded as missed). */
  handledUntil: string;
  /** The occurrence being backed up; set before the job starts so a restart does not repeat it. */
  pending?: {
    readonly occurrence: string;
    readonly claimedAt: string;
    readonly plan: StoredPlan;
    jobId?: string;
  };
  /** Scheduled backups, oldest first (those of the last 400 days). */
  runs: ScheduledRun[];
  /** Occurrences skipped by the catch-up rule (ISO 8601), oldest first. */
  missed: string[];
  /** Lifecycles of the instance's recovery points, by recovery point id. */
  retention: Record<string, StoredPlan>;
  /**
   * Recovery points found corrupt by a lifecycle step (their files differ from what the backup
   * recorded), by id: reported once, never copied again; absent in state files of earlier versions.
   */
  corrupt?: Record<string, { readonly detectedAt: string; readonly action: RetentionAction }>;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const optionalIso = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : iso(ms);
const msOf = (text: string): number => Date.parse(text);

function storePlan(plan: RetentionPlanEntry): StoredPlan {
  const archiveFrom = optionalIso(plan.archiveFrom);
  const archiveTo = optionalIso(plan.archiveTo);
  return {
    anchor: iso(plan.anchor),
    tag: plan.tag,
    rule: plan.rule,
    vaultTo: iso(plan.vaultTo),
    ...(archiveFrom === undefined ? {} : { archiveFrom }),
    ...(archiveTo === undefined ? {} : { archiveTo }),
  };
}

function loadPlan(plan: StoredPlan): RetentionPlanEntry {
  return {
    anchor: msOf(plan.anchor),
    tag: plan.tag,
    rule: plan.rule,
    vaultTo: msOf(plan.vaultTo),
    archiveFrom: plan.archiveFrom === undefined ? undefined : msOf(plan.archiveFrom),
    archiveTo: plan.archiveTo === undefined ? undefined : msOf(plan.archiveTo),
  };
}

/**
 * The name a log line about a recovery point found corrupt by a lifecycle step starts with,
 * followed by `vault=`, `instance=`, `recoveryPoint=`, `step=` and `code=`.
 */
export const corruptRecoveryPointEvent = "LocalSchedule.RecoveryPointCorrupt";

/** Scheduled runs older than this no longer matter for "first of year" (plus margin). */
const RUN_HISTORY_MS = 400 * 86_400_000;

// ---------------------------------------------------------------------------------------------
// The scheduler

/** A scheduled backup a tick ran. */
export interface ScheduledBackupReport {
  readonly vaultName: string;
  readonly instanceName: string;
  /** The occurrence it was taken for. */
  readonly occurrence: string;
  readonly jobId: string | undefined;
  readonly status: JobStatus;
  readonly retentionTag: string;
  readonly recoveryPointId?: string;
}

/** A lifecycle step a tick took. */
export interface RetentionStepReport {
  readonly vaultName: string;
  readonly instanceName: string;
  readonly recoveryPointId: string;
  readonly action: RetentionAction;
}

/** A recovery point a lifecycle step found corrupt (reported by the tick that found it). */
export interface CorruptRecoveryPointReport {
  readonly vaultName: string;
  readonly instanceName: string;
  readonly recoveryPointId: string;
  /** The step that found it; the point is not copied again. */
  readonly action: RetentionAction;
  readonly code: string;
  readonly message: string;
}

/** What one tick did. */
export interface ScheduleTickReport {
  /** The tick's instant. */
  readonly at: string;
  readonly backups: ScheduledBackupReport[];
  /** Occurrences skipped by the catch-up rule. */
  readonly missed: { vaultName: string; instanceName: string; occurrences: string[] }[];
  readonly retention: RetentionStepReport[];
  /**
   * Recovery points found corrupt by this tick's lifecycle steps; each is reported by one tick
   * only, and the other recovery points' steps went on.
   */
  readonly corruptRecoveryPoints: CorruptRecoveryPointReport[];
  /** Due backups left for a later tick because a backup of the same instance ran. */
  readonly deferred: {
    vaultName: string;
    instanceName: string;
    occurrence: string;
    /** The running job (its name), or the refusal naming it. */
    runningJob: string;
  }[];
  /** Instances the tick could not handle; the others were handled regardless. */
  readonly errors: { vaultName: string; instanceName: string; code: string; message: string }[];
}

/** Options of {@link LocalScheduler}. */
export interface LocalSchedulerOptions {
  /** The clock `tick()` reads when called without an instant; the system clock by default. */
  readonly now?: () => Date;
  /** Receives one line per noteworthy event (missed occurrences, failures); stderr by default. */
  readonly log?: (line: string) => void;
}

/** Runs the policies' schedules and retention of a local Backup vault service. */
export class LocalScheduler {
  readonly #backup: LocalBackupService;
  readonly #now: () => Date;
  readonly #log: (line: string) => void;
  /** Ticks of one scheduler run one after another. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    provider: { readonly backup: LocalBackupService },
    options: LocalSchedulerOptions = {},
  ) {
    this.#backup = provider.backup;
    this.#now = options.now ?? (() => new Date());
    this.#log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  /**
   * Handles everything due up to `now` in every vault: runs the scheduled backups that fell due
   * (waiting for their jobs), then takes the lifecycle steps due. Overlapping calls queue.
   */
  tick(now: Date = this.#now()): Promise<ScheduleTickReport> {
    const run = this.#queue.then(() => this.#tick(now.getTime()));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #tick(now: number): Promise<ScheduleTickReport> {
    const report: ScheduleTickReport = {
      at: iso(now),
      backups: [],
      missed: [],
      retention: [],
      corruptRecoveryPoints: [],
      deferred: [],
      errors: [],
    };
    for (const vaultName of await this.#backup.listVaultNames()) {
      const vaultId = this.#backup.vaultId(vaultName);
      for (const instance of await this.#backup.listBackupInstances(vaultId)) {
        if (instance.protectionStatus !== "ProtectionConfigured") continue;
        try {
          await this.#tickInstance(vaultId, instance, now, report);
        } catch (error) {
          const appError = toAppError(error);
          report.errors.push({
            vaultName,
            instanceName: instance.name,
            code: appError.code,
            message: appError.message,
          });
          this.#log(
            `schedule: backup instance '${instance.name}' of vault '${vaultName}' was not handled at ${iso(now)}: ${appError.code}: ${appError.message}`,
          );
        }
      }
    }
    return report;
  }

  #stateFile(instance: BackupInstance): string {
    return path.join(
      VaultFolder.of(this.#backup.stateDir, instance.vaultName).root,
      "schedule",
      `${assertSafeSegment(instance.name)}.json`,
    );
  }

  async #loadState(instance: BackupInstance): Promise<InstanceScheduleState> {
    return (
      (await readJsonFile<InstanceScheduleState>(this.#stateFile(instance))) ?? {
        version: 1,
        handledUntil: instance.createdAt,
        runs: [],
        missed: [],
        retention: {},
      }
    );
  }

  async #saveState(instance: BackupInstance, state: InstanceScheduleState): Promise<void> {
    await writeJsonAtomic(this.#stateFile(instance), state);
  }

  async #tickInstance(
    vaultId: string,
    instance: BackupInstance,
    now: number,
    report: ScheduleTickReport,
  ): Promise<void> {
    const policyName = parseVaultChildId(instance.policyId, "backupPolicies").childName;
    const policy = (await this.#backup.getPolicy(vaultId, policyName)).properties;
    const state = await this.#loadState(instance);
    const loaded = JSON.stringify(state);
    const loadedHandledUntil = state.handledUntil;

    if (state.pending && !(await this.#settlePending(vaultId, instance, state, report))) {
      // The pending backup's job still runs in another live process; look again next tick.
      return;
    }

    const rule = backupRuleOf(policy);
    const due = dueOccurrences(rule.trigger.schedule, msOf(state.handledUntil), now);
    // One backup at a time per instance: a due backup waits for a running one (an ad-hoc
    // backup, say) and runs at the first tick after it ended, under the catch-up rule.
    const running =
      due.run === undefined
        ? undefined
        : await this.#backup.runningBackupOf(vaultId, instance.name);
    if (running) {
      this.#deferred(instance, due.run as number, running.name, report);
      due.run = undefined;
      due.missed = [];
    }
    if (due.missed.length > 0) {
      const occurrences = due.missed.map(iso);
      state.missed.push(...occurrences);
      report.missed.push({
        vaultName: instance.vaultName,
        instanceName: instance.name,
        occurrences,
      });
      this.#log(
        `schedule: backup instance '${instance.name}' missed ${due.missed.length} scheduled backup(s) while no tick ran (${occurrences.join(", ")}); one catch-up backup runs for ${iso(due.run as number)}`,
      );
    }
    if (due.run !== undefined) {
      // Past the newest occurrence handled: nothing else is due before `now`.
      state.handledUntil = iso(due.run + 1);
      const history = state.runs
        .filter((r) => r.status === "Completed")
        .map((r) => msOf(r.occurrence));
      const plan = scheduledBackupPlan(policy, due.run, history);
      state.pending = {
        occurrence: iso(due.run),
        claimedAt: iso(now),
        plan: storePlan(plan),
      };
      // Claimed before the job starts: a crash from here on cannot make the backup run twice.
      const handledBefore = loadedHandledUntil;
      await this.#saveState(instance, state);
      try {
        const { jobId } = await this.#backup.runBackup(vaultId, instance.name, {
          ruleName: rule.name,
          retentionTag: plan.tag,
          trigger: "Scheduled",
        });
        state.pending.jobId = jobId;
        await this.#saveState(instance, state);
      } catch (error) {
        const appError = toAppError(error);
        if (appError.code === ProviderErrorCodes.backupInProgress) {
          // A backup started between the check and the claim: the occurrence waits for it.
          delete state.pending;
          state.handledUntil = handledBefore;
          await this.#saveState(instance, state);
          this.#deferred(instance, due.run, appError.message, report);
          return;
        }
        this.#record(instance, state, report, undefined, { errorCode: appError.code });
        this.#log(
          `schedule: the scheduled backup of '${instance.name}' for ${iso(due.run)} could not start: ${appError.code}: ${appError.message}`,
        );
      }
      if (state.pending) await this.#settlePending(vaultId, instance, state, report);
    }
    await this.#applyRetention(vaultId, instance, policy, state, now, report);
    const horizon = now - RUN_HISTORY_MS;
    state.runs = state.runs.filter((r) => msOf(r.occurrence) >= horizon);
    // Most ticks change nothing; skip the synced write then.
    if (JSON.stringify(state) !== loaded) await this.#saveState(instance, state);
  }

  /**
   * Ends the pending backup: waits for its job (or finds the job a crashed tick started) and
   * records how it went.
   *
   * @returns false when the job still runs in another process.
   */
  async #settlePending(
    vaultId: string,
    instance: BackupInstance,
    state: InstanceScheduleState,
    report: ScheduleTickReport,
  ): Promise<boolean> {
    const pending = state.pending;
    if (!pending) return true;
    let jobId = pending.jobId;
    if (jobId === undefined) {
      // The tick stopped between claiming the occurrence and noting its job: find that job.
      const known = new Set(state.runs.map((r) => r.jobId));
      const job = (
        await this.#backup.listJobs(vaultId, {
          backupInstanceName: instance.name,
          operation: ["ScheduledBackup"],
          since: pending.claimedAt,
        })
      ).find((j) => !known.has(j.id) && msOf(j.startTime) >= msOf(pending.claimedAt));
      if (!job) {
        // No job started: the occurrence is due again, under the catch-up rule.
        delete state.pending;
        if (msOf(pending.occurrence) < msOf(state.handledUntil))
          state.handledUntil = pending.occurrence;
        await this.#saveState(instance, state);
        return true;
      }
      jobId = job.id;
    }
    const job: BackupJob = await this.#backup.waitForJob(vaultId, jobId);
    if (job.status === "InProgress") return false;
    this.#record(instance, state, report, job, {});
    if (job.status !== "Completed") {
      this.#log(
        `schedule: the scheduled backup of '${instance.name}' for ${pending.occurrence} ended ${job.status}: ${job.errorDetails?.[0]?.code ?? "no error code"}`,
      );
    }
    await this.#saveState(instance, state);
    return true;
  }

  /** Logs (and reports) a due backup left for a later tick because a backup of the instance runs. */
  #deferred(
    instance: BackupInstance,
    occurrence: number,
    runningJob: string,
    report: ScheduleTickReport,
  ): void {
    report.deferred.push({
      vaultName: instance.vaultName,
      instanceName: instance.name,
      occurrence: iso(occurrence),
      runningJob,
    });
    this.#log(
      `schedule: the scheduled backup of '${instance.name}' for ${iso(occurrence)} is deferred: a backup of the instance runs (${runningJob}); it runs at the first tick after that one ended`,
    );
  }

  #record(
    instance: BackupInstance,
    state: InstanceScheduleState,
    report: ScheduleTickReport,
    job: BackupJob | undefined,
    extra: { errorCode?: string },
  ): void {
    const pending = state.pending;
    if (!pending) return;
    const status: JobStatus = job?.status ?? "Failed";
    const recoveryPointId = status === "Completed" ? job?.recoveryPointId : undefined;
    const errorCode = extra.errorCode ?? job?.errorDetails?.[0]?.code;
    state.runs.push({
      occurrence: pending.occurrence,
      jobId: job?.id,
      status,
      retentionTag: pending.plan.tag,
      ...(recoveryPointId ? { recoveryPointId } : {}),
      ...(errorCode ? { errorCode } : {}),
    });
    if (recoveryPointId) state.retention[recoveryPointId] = pending.plan;
    report.backups.push({
      vaultName: instance.vaultName,
      instanceName: instance.name,
      occurrence: pending.occurrence,
      jobId: job?.id,
      status,
      retentionTag: pending.plan.tag,
      ...(recoveryPointId ? { recoveryPointId } : {}),
    });
    delete state.pending;
  }

  async #applyRetention(
    vaultId: string,
    instance: BackupInstance,
    policy: BackupPolicy,
    state: InstanceScheduleState,
    now: number,
    report: ScheduleTickReport,
  ): Promise<void> {
    const points = await this.#backup.listRecoveryPoints(vaultId, instance.name);
    const listed = new Set<string>();
    for (const point of points) {
      listed.add(point.recoveryPointId);
      let stored = state.retention[point.recoveryPointId];
      if (!stored) {
        // Ad-hoc points (and scheduled ones whose record is gone) count from their own time.
        try {
          stored = storePlan(
            taggedBackupPlan(policy, msOf(point.recoveryPointTime), point.retentionTagName),
          );
        } catch (error) {
          const appError = toAppError(error);
          this.#log(
            `schedule: recovery point '${point.recoveryPointId}' of '${instance.name}' is kept: no lifecycle for tag '${point.retentionTagName}' (${appError.code})`,
          );
          continue;
        }
        state.retention[point.recoveryPointId] = stored;
      }
      const has = (store: RecoveryPointStoreType) => point.dataStores.some((d) => d.type === store);
      const actions = retentionActions(
        loadPlan(stored),
        { vault: has("VaultStore"), archive: has("ArchiveStore") },
        now,
      );
      const corrupt = state.corrupt?.[point.recoveryPointId];
      for (const action of actions) {
        // Copying a corrupt point fails again (after reading it whole); its deletions follow the policy.
        if (corrupt && action === "copyToArchive") continue;
        try {
          await this.#retentionStep(vaultId, instance.name, point.recoveryPointId, action);
        } catch (error) {
          const appError = toAppError(error);
          if (appError.code !== ProviderErrorCodes.recoveryPointCorrupt) {
            // One point's failure does not hold up the others'; it is tried again next tick.
            report.errors.push({
              vaultName: instance.vaultName,
              instanceName: instance.name,
              code: appError.code,
              message: appError.message,
            });
            this.#log(
              `schedule: the ${action} step of recovery point '${point.recoveryPointId}' of '${instance.name}' failed at ${iso(now)}: ${appError.code}: ${appError.message}`,
            );
            break;
          }
          state.corrupt = {
            ...state.corrupt,
            [point.recoveryPointId]: { detectedAt: iso(now), action },
          };
          report.corruptRecoveryPoints.push({
            vaultName: instance.vaultName,
            instanceName: instance.name,
            recoveryPointId: point.recoveryPointId,
            action,
            code: appError.code,
            message: appError.message,
          });
          this.#log(
            `${corruptRecoveryPointEvent} vault='${instance.vaultName}' instance='${instance.name}' recoveryPoint='${point.recoveryPointId}' step=${action} code=${appError.code}: ${appError.message}; it is not copied again, its deletion follows the policy, and the instance's other recovery points go on through their lifecycle`,
          );
          continue;
        }
        report.retention.push({
          vaultName: instance.vaultName,
          instanceName: instance.name,
          recoveryPointId: point.recoveryPointId,
          action,
        });
      }
    }
    // Lifecycles of recovery points gone from every store are done.
    for (const id of Object.keys(state.retention)) {
      if (!listed.has(id)) delete state.retention[id];
    }
    for (const id of Object.keys(state.corrupt ?? {})) {
      if (!listed.has(id)) delete state.corrupt?.[id];
    }
    if (state.corrupt && Object.keys(state.corrupt).length === 0) delete state.corrupt;
  }

  /** Takes one lifecycle step of a recovery point. */
  async #retentionStep(
    vaultId: string,
    instanceName: string,
    recoveryPointId: string,
    action: RetentionAction,
  ): Promise<void> {
    if (action === "copyToArchive") {
      await this.#backup.copyRecoveryPoint(
        vaultId,
        instanceName,
        recoveryPointId,
        "ArchiveStore",
        "VaultStore",
      );
    } else {
      await this.#backup.deleteRecoveryPoint(
        vaultId,
        instanceName,
        recoveryPointId,
        action === "deleteFromVault" ? "VaultStore" : "ArchiveStore",
      );
    }
  }
}

const schedulers = new WeakMap<LocalBackupService, LocalScheduler>();

/**
 * One scheduler tick over a local provider, for the function app's timer trigger: runs the
 * scheduled backups due by `now` and the lifecycle steps due, and answers what it did.
 *
 * @remarks Calls for the same provider share one scheduler, so a tick that starts while the
 * previous one still runs waits for it instead of backing up the same occurrence twice.
 */
export function runLocalScheduleTick(
  provider: { readonly backup: LocalBackupService },
  now: Date = new Date(),
): Promise<ScheduleTickReport> {
  let scheduler = schedulers.get(provider.backup);
  if (!scheduler) {
    scheduler = new LocalScheduler(provider);
    schedulers.set(provider.backup, scheduler);
  }
  return scheduler.tick(now);
}
