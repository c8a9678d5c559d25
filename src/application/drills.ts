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
import { drillSelects, type DrillSchedule } from "../domain/drills/schedules.js";
import { dueOccurrence, type BackupPlan } from "../domain/plans/plans.js";
import { parseVaultChildId, parseVaultId } from "../domain/protection/ids.js";
import type { BackupInstance } from "../domain/protection/types.js";
import type { RestoreDrillInput } from "../orchestrations/restoreDrill.js";
import { orchestrationNames } from "../orchestrations/names.js";
import { findBackupInstance } from "./backupInstances.js";
import { datasourceTags } from "./datasourceTags.js";
import type { ApplicationDependencies } from "./dependencies.js";
import { beginDrill, drillTargets, sweepScratchTargets } from "./drillsSteps.js";
import { startOnce, type OrchestrationPort } from "./orchestrationPort.js";

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

/** What one tick of the drill timer did. */
export interface DrillTick {
  readonly runs: readonly DrillScheduleRun[];
  /** Scratch targets left by drills a crash or a stop cut off, dropped now. */
  readonly leftoversRemoved: readonly string[];
  /** Why the leftovers could not be looked for, when they could not. */
  readonly sweepError?: string;
}

/**
 * One tick of the drill timer: drops scratch targets no running drill holds (leftovers of a drill
 * cut off by a crash), then runs the schedules due (see {@link runDrillSchedules}).
 */
export async function runDrillTick(
  schedules: readonly DrillSchedule[],
  plans: readonly BackupPlan[],
  now: Date,
  deps: Pick<ApplicationDependencies, "provider" | "vaults" | "drills" | "events" | "eventSource">,
  orchestrations: OrchestrationPort,
): Promise<DrillTick> {
  let leftoversRemoved: string[] = [];
  let sweepError: string | undefined;
  try {
    leftoversRemoved = await sweepScratchTargets(deps);
  } catch (error) {
    sweepError = (error as Error).message;
  }
  const runs = await runDrillSchedules(schedules, plans, now, deps, orchestrations);
  return { runs, leftoversRemoved, ...(sweepError ? { sweepError } : {}) };
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
