/**
 * The user stories of restore drills: run the drill schedules of `DRILL_SCHEDULES` (see
 * `domain/drills/schedules.ts`), start a drill on demand, and read the drills' record.
 *
 * @remarks One tick evaluates every schedule itself, as the backup plans do: an occurrence missed
 * while the app was down still runs within the schedule's catch-up window, and each occurrence
 * starts `restoreDrill` per selected instance once, under an id made of schedule, instance and
 * occurrence time. One drill per instance runs at a time: the drill's first step decides it in the
 * drill history.
 */
import { NotFoundError } from "../domain/errors.js";
import { onDemandDrillId, scheduledDrillId, type DrillRecord } from "../domain/drills/drill.js";
import type { DrillPage, DrillQuery } from "../domain/drills/query.js";
import {
  drillSelects,
  parseDrillSchedules,
  type DrillSchedule,
} from "../domain/drills/schedules.js";
import { dueOccurrence, parseBackupPlans, type BackupPlan } from "../domain/plans/plans.js";
import { parseVaultChildId, parseVaultId } from "../domain/protection/ids.js";
import type { BackupInstance } from "../domain/protection/types.js";
import type { DrillHistoryPort } from "../providers/ports.js";
import type { RestoreDrillInput } from "../orchestrations/restoreDrill.js";
import { orchestrationNames } from "../orchestrations/names.js";
import { findBackupInstance } from "./backupInstances.js";
import { datasourceTags } from "./datasourceTags.js";
import type { ApplicationDependencies } from "./dependencies.js";
import { beginDrill, drillTargets, finishDrill, sweepScratchTargets } from "./drillsSteps.js";
import {
  hasFinished,
  startOnce,
  type OrchestrationPort,
  type OrchestrationStatus,
} from "./orchestrationPort.js";

/** What one drill schedule did in one tick. */
export interface DrillScheduleRun {
  readonly schedule: string;
  /** The occurrence run (ISO 8601), absent when none was due. */
  readonly occurrence?: string;
  /** Drill ids started now. */
  readonly started: readonly string[];
  /** Drill ids an earlier tick started already. */
  readonly alreadyStarted: readonly string[];
  readonly error?: string;
}

function policyNameOf(instance: BackupInstance): string {
  try {
    return parseVaultChildId(instance.policyId, "backupPolicies").childName;
  } catch {
    return instance.policyId.split("/").pop() ?? "";
  }
}

async function runSchedule(
  schedule: DrillSchedule,
  plans: readonly BackupPlan[],
  occurrence: Date,
  deps: Pick<ApplicationDependencies, "provider" | "vaults">,
  orchestrations: OrchestrationPort,
): Promise<DrillScheduleRun> {
  const vaultId = deps.vaults.resolve(schedule.vault);
  const named = new Set((schedule.select.plans ?? []).map((name) => name.toLowerCase()));
  const chosenPlans = plans.filter((plan) => named.has(plan.name.toLowerCase()));
  const needsTags =
    Object.keys(schedule.select.tags ?? {}).length > 0 ||
    chosenPlans.some((plan) => Object.keys(plan.select.tags ?? {}).length > 0);
  const started: string[] = [];
  const alreadyStarted: string[] = [];
  for (const instance of await deps.provider.backup.listBackupInstances(vaultId)) {
    const candidate = {
      name: instance.name,
      friendlyName: instance.friendlyName,
      protectionStatus: instance.protectionStatus,
      policyName: policyNameOf(instance),
      tags: needsTags ? await datasourceTags(deps.provider.directory, instance) : {},
    };
    if (!drillSelects(schedule, candidate, chosenPlans)) continue;
    const input: RestoreDrillInput = {
      vaultId,
      backupInstanceName: instance.name,
      schedule: schedule.name,
      requestedBy: `schedule:${schedule.name}`,
    };
    const outcome = await startOnce(orchestrations, {
      name: orchestrationNames.restoreDrill,
      instanceId: scheduledDrillId(schedule.name, instance.name, occurrence),
      // Whatever became of it: an occurrence drills once, and the next occurrence is the retry.
      stands: () => true,
      input: () => input,
    });
    if (outcome.started) started.push(outcome.instanceId);
    else alreadyStarted.push(outcome.instanceId);
  }
  return { schedule: schedule.name, occurrence: occurrence.toISOString(), started, alreadyStarted };
}

/**
 * Runs every drill schedule with an occurrence due at `now`. A schedule that fails (unknown vault,
 * provider down) is reported and the others still run; the next tick tries it again.
 *
 * @param plans - the backup plans the schedules' `select.plans` may name.
 */
export async function runDrillSchedules(
  schedules: readonly DrillSchedule[],
  plans: readonly BackupPlan[],
  now: Date,
  deps: Pick<ApplicationDependencies, "provider" | "vaults">,
  orchestrations: OrchestrationPort,
): Promise<DrillScheduleRun[]> {
  const runs: DrillScheduleRun[] = [];
  for (const schedule of schedules) {
    const occurrence = dueOccurrence(schedule, now);
    if (!occurrence) {
      runs.push({ schedule: schedule.name, started: [], alreadyStarted: [] });
      continue;
    }
    try {
      runs.push(await runSchedule(schedule, plans, occurrence, deps, orchestrations));
    } catch (error) {
      runs.push({
        schedule: schedule.name,
        occurrence: occurrence.toISOString(),
        started: [],
        alreadyStarted: [],
        error: (error as Error).message,
      });
    }
  }
  return runs;
}

/** The drill schedules of `DRILL_SCHEDULES` and the backup plans of `BACKUP_PLANS` they may name. */
export interface DrillScheduleSettings {
  readonly schedules: readonly DrillSchedule[];
  readonly plans: readonly BackupPlan[];
}

const parsedSettings = new WeakMap<object, DrillScheduleSettings>();

/**
 * The drill schedules and plans of a configuration, parsed on first use and kept with it: the
 * settings do not change while a process runs (the configuration was validated at start), and the
 * timer ticks every five minutes.
 */
export function drillScheduleSettings(config: {
  readonly BACKUP_PLANS?: string | undefined;
  readonly DRILL_SCHEDULES?: string | undefined;
}): DrillScheduleSettings {
  const known = parsedSettings.get(config);
  if (known) return known;
  const plans = config.BACKUP_PLANS ? parseBackupPlans(config.BACKUP_PLANS) : [];
  const schedules = config.DRILL_SCHEDULES
    ? parseDrillSchedules(config.DRILL_SCHEDULES, plans)
    : [];
  const settings = { schedules, plans };
  parsedSettings.set(config, settings);
  return settings;
}

/** What one tick of the drill timer did. */
export interface DrillTick {
  readonly runs: readonly DrillScheduleRun[];
  /** Scratch targets left by drills a crash or a stop cut off, dropped now. */
  readonly leftoversRemoved: readonly string[];
  /** Drills recorded as running whose orchestration had ended or was gone, ended now as failed. */
  readonly abandoned: readonly AbandonedDrill[];
  /** Whether the sweep for leftovers ran: not when the drill history showed no drill that could leave one. */
  readonly swept: boolean;
  /** Why the leftovers could not be looked for, when they could not. */
  readonly sweepError?: string;
}

/** When each drill history was last swept by this process, and whether a drill ran then. */
const lastSweeps = new WeakMap<
  DrillHistoryPort,
  { readonly at: number; readonly running: boolean }
>();

/**
 * How far before the last sweep a drill's start is still looked at: a drill's start is its
 * orchestration's time, which may precede its record by a few minutes (and other instances'
 * clocks differ a little).
 */
const sweepOverlapMs = 15 * 60_000;

/**
 * Whether a sweep may find something: on a process's first tick (whatever an earlier process
 * left), while a drill runs (cut off, it leaves its scratch target), on the first tick after the
 * last sweep saw one running, or when a drill began since the last sweep (either way it may have
 * ended and failed to remove its own; a drill longer than the overlap began before it). Otherwise
 * the sweep would only connect to the scratch server to find nothing.
 */
async function sweepDue(
  drills: DrillHistoryPort,
  now: number,
): Promise<{ readonly due: boolean; readonly running: boolean }> {
  const last = lastSweeps.get(drills);
  const running = (await drills.queryDrills({ top: 1, verdict: ["InProgress"] })).value.length > 0;
  if (last === undefined || running || last.running) return { due: true, running };
  const since = new Date(Math.min(last.at, now) - sweepOverlapMs).toISOString();
  return { due: (await drills.queryDrills({ top: 1, from: since })).value.length > 0, running };
}

/**
 * One tick of the drill timer: drops scratch targets no running drill holds (leftovers of a drill
 * cut off by a crash) when the drill history shows a drill that may have left one, then runs the
 * schedules due (see {@link runDrillSchedules}).
 */
export async function runDrillTick(
  schedules: readonly DrillSchedule[],
  plans: readonly BackupPlan[],
  now: Date,
  deps: Pick<ApplicationDependencies, "provider" | "vaults" | "drills" | "events" | "eventSource">,
  orchestrations: OrchestrationPort,
): Promise<DrillTick> {
  let leftoversRemoved: string[] = [];
  let abandoned: AbandonedDrill[] = [];
  let swept = false;
  let sweepError: string | undefined;
  try {
    // Ended first, so that the sweep keeps none of their scratch targets.
    abandoned = await endAbandonedDrills(deps, orchestrations, now);
    const due = deps.drills
      ? await sweepDue(deps.drills, now.getTime())
      : { due: true, running: false };
    if (due.due || abandoned.length > 0) {
      leftoversRemoved = await sweepScratchTargets(deps);
      swept = true;
      // Only a sweep that finished counts: after a failed one, the next tick sweeps again.
      if (deps.drills) lastSweeps.set(deps.drills, { at: now.getTime(), running: due.running });
    }
  } catch (error) {
    sweepError = (error as Error).message;
  }
  const runs = await runDrillSchedules(schedules, plans, now, deps, orchestrations);
  return { runs, leftoversRemoved, abandoned, swept, ...(sweepError ? { sweepError } : {}) };
}

/** A drill the timer ended because its orchestration had ended or was gone. */
export interface AbandonedDrill {
  readonly drill: DrillRecord;
  /** The orchestration's runtime status, or `Missing` when it had none. */
  readonly runtimeStatus: string;
}

/**
 * How long a drill's record may stand without its orchestration: a drill on demand is recorded
 * just before its orchestration starts, and another app instance may start it a little later.
 */
const orchestrationGraceMs = 15 * 60_000;

/**
 * Ends, as failed (`DRILL_ABANDONED`), each drill recorded as running whose orchestration ended
 * without recording its end (terminated, failed, or skipped after its record was written) or is
 * gone (lost, purged): otherwise it stays running for ever, its scratch target kept by every sweep.
 * Each publishes `PgProtect.Restore.DrillFailed` once. A drill whose orchestration runs is left
 * alone, however long it runs.
 */
export async function endAbandonedDrills(
  deps: Pick<ApplicationDependencies, "provider" | "drills" | "events" | "eventSource">,
  orchestrations: OrchestrationPort,
  now: Date,
): Promise<AbandonedDrill[]> {
  if (!deps.drills) return [];
  const ended: AbandonedDrill[] = [];
  for (const drill of await deps.drills.runningDrills()) {
    const ageMs = now.getTime() - Date.parse(drill.startTime);
    if (!(ageMs >= orchestrationGraceMs)) continue;
    const status = await orchestrations.status(drill.id);
    if (status && !hasFinished(status)) continue;
    // Its orchestration may have recorded its end since the list was read.
    if ((await deps.drills.getDrill(drill.id))?.verdict !== "InProgress") continue;
    const record = await finishDrill(deps, {
      drill,
      error: abandonment(status, ageMs),
      // Not known: the sweep that follows removes it.
      scratchRemoved: false,
      at: now.toISOString(),
    });
    ended.push({ drill: record, runtimeStatus: status?.runtimeStatus ?? "Missing" });
  }
  return ended;
}

/** Why an abandoned drill failed, in words a reader of the mail can act on. */
function abandonment(status: OrchestrationStatus | undefined, ageMs: number) {
  const tenths = Math.round(ageMs / 360_000) / 10;
  const hours = `${tenths} ${tenths === 1 ? "hour" : "hours"}`;
  return {
    code: "DRILL_ABANDONED" as const,
    message: status
      ? `The drill's orchestration ended ${status.runtimeStatus} without recording how the drill ended; ended as abandoned ${hours} after it began`
      : `The drill's orchestration is gone (lost or purged) and never recorded how the drill ended; ended as abandoned ${hours} after it began`,
    recommendedAction:
      "Start the drill again (POST /api/backup-instances/{name}/drills); the drill timer removes its scratch target",
  };
}

/** A drill asked for on demand. */
export interface DrillRequest {
  readonly backupInstanceName: string;
  /** The vault of the instance; every vault the app covers when absent. */
  readonly vaultName?: string | undefined;
  readonly requestedBy?: string | undefined;
  readonly correlation?: RestoreDrillInput["correlation"];
}

/** A drill started. */
export interface DrillStarted {
  readonly id: string;
  readonly backupInstanceName: string;
  readonly vaultName: string;
  readonly scratchTarget: string;
}

/**
 * Starts a drill of one backup instance now. It is recorded as running before it starts, so the
 * status URL answers at once and a second request is refused while it runs.
 *
 * @throws AppError `DRILL_NOT_SUPPORTED` (501), `DRILL_RUNNING` (409); NotFoundError
 * `BACKUP_INSTANCE_NOT_FOUND`.
 */
export async function startDrillNow(
  deps: Pick<ApplicationDependencies, "provider" | "vaults" | "drills" | "events" | "eventSource">,
  orchestrations: OrchestrationPort,
  request: DrillRequest,
  now: Date,
): Promise<DrillStarted> {
  drillTargets(deps);
  const { vaultId, instance } = await findBackupInstance(
    deps,
    request.backupInstanceName,
    request.vaultName,
  );
  const id = onDemandDrillId(instance.name, now, crypto.randomUUID());
  const { drill } = await beginDrill(deps, {
    drillId: id,
    vaultId,
    backupInstanceName: instance.name,
    ...(request.requestedBy ? { requestedBy: request.requestedBy } : {}),
    at: now.toISOString(),
  });
  const input: RestoreDrillInput = {
    vaultId,
    backupInstanceName: instance.name,
    ...(request.requestedBy ? { requestedBy: request.requestedBy } : {}),
    ...(request.correlation ? { correlation: request.correlation } : {}),
  };
  try {
    await orchestrations.start(orchestrationNames.restoreDrill, id, input);
  } catch (error) {
    // Not started: the record must not hold the instance.
    await deps.drills?.finishDrill({
      ...drill,
      verdict: "Failed",
      endTime: new Date().toISOString(),
      error: {
        code: "DRILL_FAILED",
        message: `The drill did not start: ${(error as Error).message}`,
      },
      scratchRemoved: true,
    });
    throw error;
  }
  return {
    id,
    backupInstanceName: instance.name,
    vaultName: parseVaultId(vaultId).vaultName,
    scratchTarget: drill.scratchTarget,
  };
}

/** One page of drills, newest first; an empty page where the app keeps no drill history. */
export async function listDrillPage(
  deps: Pick<ApplicationDependencies, "drills">,
  query: DrillQuery,
): Promise<DrillPage> {
  return deps.drills ? deps.drills.queryDrills(query) : { value: [] };
}

/**
 * One drill.
 *
 * @throws NotFoundError `DRILL_NOT_FOUND`.
 */
export async function showDrill(
  deps: Pick<ApplicationDependencies, "drills">,
  id: string,
): Promise<DrillRecord> {
  const drill = await deps.drills?.getDrill(id);
  if (!drill) {
    throw new NotFoundError("DRILL_NOT_FOUND", `There is no restore drill '${id}'`, {
      recommendedAction: "List the drills with GET /api/drills and use the id it shows",
    });
  }
  return drill;
}

/** Where a drill is: waiting its turn under `DRILL_MAX_CONCURRENT`, restoring, or ended. */
export type DrillState = "waitingForTurn" | "running" | "ended";

/**
 * One drill and where it is: a drill recorded as running may still wait its turn, which only its
 * orchestration knows (its custom status).
 *
 * @throws NotFoundError `DRILL_NOT_FOUND`.
 */
export async function showDrillState(
  deps: Pick<ApplicationDependencies, "drills">,
  orchestrations: Pick<OrchestrationPort, "status">,
  id: string,
): Promise<{ readonly drill: DrillRecord; readonly state: DrillState }> {
  const drill = await showDrill(deps, id);
  if (drill.verdict !== "InProgress") return { drill, state: "ended" };
  const status = await orchestrations.status(id);
  const custom = status?.customStatus as { readonly state?: unknown } | undefined;
  return { drill, state: custom?.state === "waitingForTurn" ? "waitingForTurn" : "running" };
}

/** The last drill of each backup instance (by ARM id, lower-cased); none without a history. */
export async function lastDrillsOf(
  deps: Pick<ApplicationDependencies, "drills">,
  backupInstanceIds: readonly string[],
): Promise<ReadonlyMap<string, DrillRecord>> {
  return deps.drills ? deps.drills.lastDrills(backupInstanceIds) : new Map();
}

/** A backup instance's last drill, as its answer shows it (schema `DrillSummary`). */
export interface LastDrill {
  readonly id: string;
  readonly verdict: DrillRecord["verdict"];
  readonly startTime: string;
  readonly endTime: string | null;
  readonly timeToRestoreSeconds: number | null;
  readonly statusUrl: string;
}

/** The summary of a drill that a backup instance's answer carries. */
export function lastDrillOf(drill: DrillRecord): LastDrill {
  return {
    id: drill.id,
    verdict: drill.verdict,
    startTime: drill.startTime,
    endTime: drill.endTime ?? null,
    timeToRestoreSeconds:
      drill.timeToRestoreMs === undefined ? null : Math.round(drill.timeToRestoreMs / 100) / 10,
    statusUrl: `/api/drills/${encodeURIComponent(drill.id)}`,
  };
}

/**
 * Backup instance views with each one's last drill (`lastDrill`, null when none ran); the views as
 * they are where the app keeps no drill history.
 */
export async function withLastDrills<T extends { readonly id: string }>(
  deps: Pick<ApplicationDependencies, "drills">,
  views: readonly T[],
): Promise<(T & { readonly lastDrill?: LastDrill | null })[]> {
  if (!deps.drills) return [...views];
  const last = await deps.drills.lastDrills(views.map((view) => view.id));
  return views.map((view) => {
    const drill = last.get(view.id.toLowerCase());
    return { ...view, lastDrill: drill ? lastDrillOf(drill) : null };
  });
}
