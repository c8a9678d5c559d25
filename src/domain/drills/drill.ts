/**
 * A restore drill: the latest recovery point of a backup instance restored into a scratch target,
 * verified against what its backup recorded, timed, and the scratch target removed. This module
 * holds the drill's record, the names it reserves and the ids it runs under.
 */
import type { ErrorCode } from "../errorCodes.js";
import { stableUuid } from "../events/stableId.js";
import type { BackupJob, RestoreVerificationSummary } from "../protection/types.js";

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
  readonly error?: DrillFailure;
  /** Whether the scratch target was removed (false only when removing it failed too). */
  readonly scratchRemoved?: boolean;
  /**
   * A whole server's drill: each database restored into its own scratch database and verified
   * on its own; absent for a drill of one database. The drill succeeds only when every one did.
   */
  readonly databases?: readonly DrillDatabaseResult[];
}

/** Why a drill, or one database of it, failed. */
export interface DrillFailure {
  readonly code: ErrorCode;
  readonly message: string;
  readonly recommendedAction?: string;
}

/** One database of a whole server's drill. */
export interface DrillDatabaseResult {
  readonly databaseName: string;
  /** Its scratch database (see {@link databaseScratchName}). */
  readonly scratchTarget: string;
  readonly verdict: "Succeeded" | "Failed";
  /** What its verification compared and found, when it got that far. */
  readonly verification?: RestoreVerificationSummary;
  /** Seconds its restore took until verified (its own job, or its download, load and verification). */
  readonly seconds?: number;
  /** Its own restore job, where each database has one (locally). */
  readonly restoreJobId?: string;
  /** Why it failed. */
  readonly error?: DrillFailure;
}

/** How many databases of a whole server's drill load into the scratch server at once (Azure). */
export const drillLoadsAtOnce = 2;

/** Mismatch lines kept per database in a drill's record: enough to act on, never unbounded. */
const mismatchesKept = 10;

/**
 * Databases a whole server's drill names in one message or list (its failure, its combined
 * verification): the record, the event and the mail carry it, so a server of hundreds of
 * databases says the first few and how many more.
 */
export const databasesNamed = 5;

/** The first `kept` lines, then `… and N more` when there were more. */
export function firstFew(lines: readonly string[], kept: number): string[] {
  if (lines.length <= kept) return [...lines];
  return [...lines.slice(0, kept), `… and ${lines.length - kept} more`];
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

/**
 * The scratch database of one database of a whole server's drill: the drill's scratch name, `_`
 * and 10 hex digits of the database's name, so a replay after a crash finds the same name, a
 * sweep knows it for the drill's (see {@link belongsToScratchTarget}), and any database name fits.
 */
export function databaseScratchName(scratchTarget: string, databaseName: string): string {
  const digest = stableUuid(["pgprotect.drill.database", databaseName]).replace(/-/g, "");
  return `${scratchTarget}_${digest.slice(0, 10)}`;
}

/**
 * Whether a name (a database, a load's temporary database, a blob) belongs to the drill whose
 * scratch name is `scratchTarget`: that name itself, or one it starts with `_` (its databases',
 * their loads' and its files').
 */
export function belongsToScratchTarget(name: string, scratchTarget: string): boolean {
  return name === scratchTarget || name.startsWith(`${scratchTarget}_`);
}

/** The drill's scratch name a name belongs to (`pgprotect_drill_` and 24 hex digits), if any. */
export function drillScratchTargetOf(name: string): string | undefined {
  const match = new RegExp(`^${SCRATCH_DATABASE_PREFIX}[0-9a-f]{24}(?=$|_)`).exec(name);
  return match?.[0];
}

/** Whether a database name is a drill's scratch database. */
export function isScratchDatabaseName(name: string): boolean {
  return name.startsWith(SCRATCH_DATABASE_PREFIX);
}

/**
 * The verification of a whole server's drill, from its databases': counts summed, mismatches
 * named by database; verified only when every database was.
 */
export function combinedVerification(
  databases: readonly DrillDatabaseResult[],
): RestoreVerificationSummary | undefined {
  const verified = databases.filter((d) => d.verification !== undefined);
  if (verified.length === 0) return undefined;
  const named = (d: DrillDatabaseResult, lines: readonly string[] | undefined) =>
    (lines ?? []).map((line) => `${d.databaseName}: ${line}`);
  const notChecked = firstFew(
    verified.flatMap((d) => named(d, d.verification?.notChecked)),
    databasesNamed,
  );
  return {
    verified: databases.every((d) => d.verdict === "Succeeded" && d.verification?.verified),
    tables: verified.reduce((sum, d) => sum + (d.verification?.tables ?? 0), 0),
    rows: verified.reduce((sum, d) => sum + (d.verification?.rows ?? 0), 0),
    largeObjects: verified.reduce((sum, d) => sum + (d.verification?.largeObjects ?? 0), 0),
    mismatches: firstFew(
      verified.flatMap((d) => named(d, d.verification?.mismatches)),
      databasesNamed * mismatchesKept,
    ),
    checked: [`${verified.length} of ${databases.length} databases, each on its own`],
    ...(notChecked.length > 0 ? { notChecked } : {}),
  };
}

/**
 * The failure of a whole server's drill from its databases': none when every one succeeded;
 * otherwise the failing databases named, under their common code or `DRILL_FAILED`.
 */
export function databasesFailure(
  databases: readonly DrillDatabaseResult[],
): DrillFailure | undefined {
  const failed = databases.filter((d) => d.verdict === "Failed");
  if (failed.length === 0) return undefined;
  const codes = new Set(failed.map((d) => d.error?.code ?? "DRILL_FAILED"));
  const [only] = codes;
  const single = failed.length === 1 ? failed[0]?.error?.recommendedAction : undefined;
  return {
    code: codes.size === 1 && only !== undefined ? only : "DRILL_FAILED",
    message: `${failed.length} of ${databases.length} databases failed: ${firstFew(
      failed.map((d) =>
        // A missing database's message names it already.
        d.error?.code === "DRILL_DATABASE_MISSING"
          ? d.error.message
          : `${d.databaseName}: ${d.error?.message ?? "not verified"}`,
      ),
      databasesNamed,
    ).join("; ")}`,
    ...(single ? { recommendedAction: single } : {}),
  };
}

/**
 * The databases of a whole server that an earlier drill restored and this one does not have: each
 * a failed result naming the drill that had it, so a database gone from the recovery point (a
 * dropped database, a dump the service did not write) fails the drill rather than shrinking it
 * unnoticed. The earlier drill is the instance's last ended drill that got as far as its
 * databases; a database it already reported missing is not reported again, so a database dropped
 * on purpose fails one drill, not every drill after it.
 */
export function missingDatabases(
  previous: DrillRecord | undefined,
  drill: Pick<DrillRecord, "scratchTarget" | "recoveryPointTime">,
  databases: readonly Pick<DrillDatabaseResult, "databaseName">[],
): DrillDatabaseResult[] {
  if (!previous?.databases) return [];
  const present = new Set(databases.map((d) => d.databaseName));
  const when = previous.startTime.replace(/\.\d{3}Z$/, "Z");
  const point = drill.recoveryPointTime ? ` (${drill.recoveryPointTime})` : "";
  return previous.databases
    .filter((d) => d.error?.code !== "DRILL_DATABASE_MISSING" && !present.has(d.databaseName))
    .map((d) => ({
      databaseName: d.databaseName,
      scratchTarget: databaseScratchName(drill.scratchTarget, d.databaseName),
      verdict: "Failed" as const,
      error: {
        code: "DRILL_DATABASE_MISSING" as const,
        message: `'${d.databaseName}' was in the drill of ${when} and is not in this recovery point${point}`,
        recommendedAction: `Check that '${d.databaseName}' still exists on the server and that its backup includes it; if it was dropped on purpose, the next drill does not report it again`,
      },
    }));
}

/** Milliseconds from a job's start to its end, when it ended. */
export function jobDurationMs(job: Pick<BackupJob, "startTime" | "endTime">): number | undefined {
  if (job.endTime === undefined) return undefined;
  const ms = Date.parse(job.endTime) - Date.parse(job.startTime);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/**
 * A database's result from its own restore job (locally, where the job restores and verifies):
 * succeeded when the job completed with its data verified.
 */
export function databaseResultOfJob(
  database: { readonly databaseName: string; readonly scratchTarget: string },
  job: BackupJob,
): DrillDatabaseResult {
  const verification = job.restoreVerification;
  const detail = job.errorDetails?.[0];
  const ms = jobDurationMs(job);
  const error: DrillFailure | undefined = detail
    ? {
        code: detail.code,
        message: detail.message,
        ...(detail.recommendedAction?.length
          ? { recommendedAction: detail.recommendedAction.join(" ") }
          : {}),
      }
    : job.status === "InProgress"
      ? { code: "DRILL_FAILED", message: `Its restore job ${job.name} was still running` }
      : job.status !== "Completed"
        ? { code: "DRILL_FAILED", message: `Its restore job ended ${job.status}` }
        : verification && !verification.verified
          ? {
              code: "RESTORE_VERIFICATION_FAILED",
              message: `The restored data differ from the recovery point: ${verification.mismatches.join("; ")}`,
            }
          : undefined;
  return {
    databaseName: database.databaseName,
    scratchTarget: database.scratchTarget,
    verdict: error === undefined ? "Succeeded" : "Failed",
    ...(verification ? { verification } : {}),
    ...(ms === undefined ? {} : { seconds: Math.round(ms / 100) / 10 }),
    restoreJobId: job.id,
    ...(error ? { error } : {}),
  };
}

/** A database's result as the record keeps it: its mismatches cut to a readable few. */
export function keptDatabaseResult(result: DrillDatabaseResult): DrillDatabaseResult {
  const mismatches = result.verification?.mismatches ?? [];
  if (!result.verification || mismatches.length <= mismatchesKept) return result;
  return {
    ...result,
    verification: {
      ...result.verification,
      mismatches: [
        ...mismatches.slice(0, mismatchesKept),
        `... and ${mismatches.length - mismatchesKept} more`,
      ],
    },
  };
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
