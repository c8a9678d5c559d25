/**
 * A restore drill: the latest recovery point of a backup instance restored into a scratch target,
 * verified against what its backup recorded, timed, and the scratch target removed. This module
 * holds the drill's record, the names it reserves and the ids it runs under.
 */
import type { ErrorCode } from "../errorCodes.js";
import { stableUuid } from "../events/stableId.js";
import type { RestoreVerificationSummary } from "../protection/types.js";

/** How a drill ended, or that it runs. */
export type DrillVerdict = "InProgress" | "Succeeded" | "Failed";

/** Every verdict, in a stable order. */
export const drillVerdicts: readonly DrillVerdict[] = ["InProgress", "Succeeded", "Failed"];

/** One drill as the history keeps it. */
export interface DrillRecord {
  /** The drill's id: its orchestration instance id. */
  readonly id: string;
  /** ARM id of the backup instance. */
  readonly backupInstanceId: string;
  /** The backup instance's name. */
  readonly backupInstanceName: string;
  /** Its friendly name (`server/db`). */
  readonly friendlyName: string;
  readonly vaultName: string;
  readonly datasourceId: string;
  readonly datasourceName: string;
  /** The drill schedule that ran it; absent for a drill started on demand. */
  readonly schedule?: string;
  /** Who asked: `schedule:<name>` or the caller of the HTTP API. */
  readonly requestedBy?: string;
  readonly verdict: DrillVerdict;
  /** When the drill began (ISO 8601). */
  readonly startTime: string;
  /** When it ended (ISO 8601). */
  readonly endTime?: string;
  /** The recovery point restored (the instance's latest when the drill began). */
  readonly recoveryPointId?: string;
  readonly recoveryPointTime?: string;
  /** The scratch target's name (locally a database on the instance's server). */
  readonly scratchTarget: string;
  /** The restore job of the drill. */
  readonly restoreJobId?: string;
  /**
   * Time to restore in milliseconds: from the restore's start until the restored data were
   * verified, the figure a recovery time objective is held against.
   */
  readonly timeToRestoreMs?: number;
  /** What the verification compared and found. */
  readonly verification?: RestoreVerificationSummary;
  /** Why a failed drill failed. */
  readonly error?: {
    readonly code: ErrorCode;
    readonly message: string;
    readonly recommendedAction?: string;
  };
  /** Whether the scratch target was removed (false only when removing it failed too). */
  readonly scratchRemoved?: boolean;
}

/**
 * The prefix of every scratch database a drill creates. Names under it are the drills' own: the
 * local resource directory does not list them (nothing protects a scratch database), and a drill
 * that starts drops every one no running drill holds (left by a drill cut off by a crash).
 */
export const SCRATCH_DATABASE_PREFIX = "pgprotect_drill_";

/**
 * The scratch database of a drill: the reserved prefix and 24 hex digits of the drill's id, so that
 * two drills never share one and the name stays well under PostgreSQL's 63 bytes.
 */
export function scratchDatabaseName(drillId: string): string {
  const digest = stableUuid(["pgprotect.drill.scratch", drillId]).replace(/-/g, "");
  return `${SCRATCH_DATABASE_PREFIX}${digest.slice(0, 24)}`;
}

/** Whether a database name is a drill's scratch database. */
export function isScratchDatabaseName(name: string): boolean {
  return name.startsWith(SCRATCH_DATABASE_PREFIX);
}

const compactTime = (at: Date) =>
  at
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}Z$/, "Z");

const idSafe = (text: string) => text.toLowerCase().replace(/[^a-z0-9.-]+/g, "-");

/**
 * The orchestration instance id of one drill schedule occurrence for one backup instance: the same
 * schedule, instance and occurrence always give the same id, so a drill fires once per occurrence
 * however often the timer runs, and across restarts.
 */
export function scheduledDrillId(
  scheduleName: string,
  backupInstanceName: string,
  occurrence: Date,
): string {
  return idSafe(`drill-${scheduleName}-${backupInstanceName}-${compactTime(occurrence)}`);
}

/** The orchestration instance id of a drill started on demand at `at`, made unique by `nonce`. */
export function onDemandDrillId(backupInstanceName: string, at: Date, nonce: string): string {
  return idSafe(`drill-ondemand-${backupInstanceName}-${compactTime(at)}-${nonce.slice(0, 8)}`);
}

/** Whether an orchestration instance id is a drill's. */
export function isDrillId(id: string): boolean {
  return /^drill-[a-z0-9.-]+$/.test(id);
}

/**
 * How long a drill recorded as running holds its instance before another may start: a drill whose
 * orchestration was terminated never records its end, and must not block its instance for ever.
 */
export const abandonedDrillAfterMs = 24 * 3_600_000;
