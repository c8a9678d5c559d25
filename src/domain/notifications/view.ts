/**
 * What a notification says, independent of the channel: every renderer (Teams card, email)
 * starts from the same view, so a card and an email about one event never disagree.
 */
import { parseIsoDuration } from "../policy/duration.js";
import type { ServiceErrorDetail } from "../protection/types.js";
import {
  lifecycleEventTypes,
  PgProtectEventTypes,
  type AnomalyMeasure,
  type MonitorAlertEvent,
  type PgProtectEvent,
} from "../events/types.js";

/** How a notification should look: success, failure, something to check, or news. */
export type Tone = "good" | "attention" | "warning" | "accent";

/** One labelled value shown in a card's fact list and an email's table. */
export interface Fact {
  readonly title: string;
  readonly value: string;
}

/** The channel-independent content of one event's notification. */
export interface NotificationView {
  readonly eventId: string;
  readonly eventType: PgProtectEvent["type"];
  /** When the fact happened (RFC 3339). */
  readonly occurredAt: string;
  /** E.g. `Backup failed`. */
  readonly title: string;
  /** E.g. `Failed`, `Completed`, `ProtectionConfigured`, `Overdue`. */
  readonly status: string;
  readonly tone: Tone;
  /** Failures are digested when they repeat; other news never is. */
  readonly isFailure: boolean;
  readonly datasourceId: string;
  readonly datasourceName: string;
  readonly vaultName: string;
  readonly datasourceTags: Readonly<Record<string, string>>;
  /** Job events only. */
  readonly job?: {
    readonly id: string;
    readonly name: string;
    readonly operation: string;
    readonly status: string;
  };
  readonly backupInstanceId?: string;
  /** Ordered facts shown to the reader (status, datasource, vault, rule, duration...). */
  readonly facts: readonly Fact[];
  /** The service's errors, first the one that decided the outcome. */
  readonly errors: readonly ServiceErrorDetail[];
}

const operationLabels: Record<string, string> = {
  OnDemandBackup: "On-demand backup",
  ScheduledBackup: "Scheduled backup",
  Restore: "Restore",
};

/** Builds the view of a validated event. */
export function describeEvent(event: PgProtectEvent): NotificationView {
  const base = {
    eventId: event.id,
    eventType: event.type,
    occurredAt: event.time,
    datasourceId: event.data.datasourceId,
    datasourceName: event.data.datasourceName,
    vaultName: event.data.vaultName,
    datasourceTags: event.data.datasourceTags ?? {},
  };
  switch (event.type) {
    case PgProtectEventTypes.jobStateChanged: {
      const data = event.data;
      const what = data.operationCategory === "Restore" ? "Restore" : "Backup";
      const tone: Tone =
        data.status === "Completed"
          ? "good"
          : data.status === "Failed"
            ? "attention"
            : data.status === "Cancelled"
              ? "warning"
              : "accent";
      const verb = {
        InProgress: "started",
        Completed: "completed",
        Failed: "failed",
        Cancelled: "cancelled",
      }[data.status];
      const duration = data.duration
        ? formatIsoDuration(data.duration)
        : elapsed(data.startTime, data.endTime);
      // The end of a job reported stuck says so, so that the alarm is seen to close.
      const stuck = data.status === "InProgress" ? undefined : data.stuck;
      return {
        ...base,
        title: stuck ? `Stuck ${what.toLowerCase()} ${verb}` : `${what} ${verb}`,
        status: data.status,
        tone,
        isFailure: data.status === "Failed",
        job: { id: data.jobId, name: data.jobName, operation: data.operation, status: data.status },
        backupInstanceId: data.backupInstanceId,
        facts: compact([
          ["Status", data.status],
          ["Datasource", data.datasourceName],
          ["Backup instance", data.backupInstanceName],
          ["Vault", data.vaultName],
          ["Operation", operationLabels[data.operation] ?? data.operation],
          ["Backup rule", data.ruleName],
          ["Retention tag", data.retentionTag],
          ["Policy", data.policyName],
          ["Started", formatTime(data.startTime)],
          ["Ended", data.endTime ? formatTime(data.endTime) : undefined],
          ["Duration", duration],
          [
            "Reported stuck",
            stuck
              ? `${formatTime(stuck.reportedAt)} (expected within ${formatMinutes(stuck.expectedWithinMinutes)})`
              : undefined,
          ],
          [
            "Data transferred",
            data.dataTransferredInBytes === undefined
              ? undefined
              : formatBytes(data.dataTransferredInBytes),
          ],
          ["Restored to", data.recoveryDestination],
          ["Job", data.jobName],
        ]),
        errors: data.errors,
      };
    }
    case PgProtectEventTypes.protectionConfigured: {
      const data = event.data;
      return {
        ...base,
        title: "Protection configured",
        status: data.protectionStatus,
        tone: "good",
        isFailure: false,
        backupInstanceId: data.backupInstanceId,
        facts: compact([
          ["Status", data.protectionStatus],
          ["Datasource", data.datasourceName],
          ["Backup instance", data.backupInstanceName],
          ["Vault", data.vaultName],
          ["Policy", data.policyName],
          ["Configured", formatTime(data.configuredAt)],
        ]),
        errors: [],
      };
    }
    case PgProtectEventTypes.protectionFailed: {
      const data = event.data;
      return {
        ...base,
        title: "Protection failed",
        status: "ProtectionFailed",
        tone: "attention",
        isFailure: true,
        ...(data.backupInstanceId ? { backupInstanceId: data.backupInstanceId } : {}),
        facts: compact([
          ["Status", "Protection failed"],
          ["Datasource", data.datasourceName],
          ["Vault", data.vaultName],
          ["Policy", data.policyName],
          ["Failed step", data.failedStep],
          ["Failed at", formatTime(event.time)],
          ["Operation", data.operationId],
        ]),
        errors: [data.error],
      };
    }
    case lifecycleEventTypes.stop:
    case lifecycleEventTypes.suspend:
    case lifecycleEventTypes.resume:
    case lifecycleEventTypes.changePolicy:
    case lifecycleEventTypes.delete:
    case lifecycleEventTypes.undelete: {
      const data = event.data;
      const titles: Record<string, string> = {
        [lifecycleEventTypes.stop]: "Protection stopped",
        [lifecycleEventTypes.suspend]: "Backups suspended",
        [lifecycleEventTypes.resume]: "Protection resumed",
        [lifecycleEventTypes.changePolicy]: "Policy changed",
        [lifecycleEventTypes.delete]: "Backup instance deleted",
        [lifecycleEventTypes.undelete]: "Backup instance undeleted",
      };
      const warning =
        event.type === lifecycleEventTypes.stop ||
        event.type === lifecycleEventTypes.suspend ||
        event.type === lifecycleEventTypes.delete;
      return {
        ...base,
        title: titles[event.type] ?? event.type,
        status: data.protectionState,
        tone: warning ? "warning" : "good",
        isFailure: false,
        backupInstanceId: data.backupInstanceId,
        facts: compact([
          ["Status", data.protectionState],
          ["Datasource", data.datasourceName],
          ["Backup instance", data.backupInstanceName],
          ["Vault", data.vaultName],
          ["Policy", data.policyName],
          ["Previous policy", data.previousPolicyName],
          ["Requested by", data.requestedBy],
          ["At", formatTime(event.time)],
          ["Operation", data.operationId],
        ]),
        errors: [],
      };
    }
    case PgProtectEventTypes.backupOverdue: {
      const data = event.data;
      return {
        ...base,
        title: overdueTitle(data.overdueSince, event.time),
        status: "Overdue",
        tone: "warning",
        isFailure: true,
        backupInstanceId: data.backupInstanceId,
        facts: compact([
          ["Status", "Overdue"],
          ["Datasource", data.datasourceName],
          ["Backup instance", data.backupInstanceName],
          ["Vault", data.vaultName],
          ["Policy", data.policyName],
          ["Expected every", formatIsoDuration(data.expectedEvery)],
          ["Due since", formatTime(data.overdueSince)],
          [
            "Last successful backup",
            data.lastSuccessfulBackupTime ? formatTime(data.lastSuccessfulBackupTime) : "never",
          ],
        ]),
        errors: [],
      };
    }
    case PgProtectEventTypes.jobStuck: {
      const data = event.data;
      const what = data.operationCategory === "Restore" ? "Restore" : "Backup";
      return {
        ...base,
        title: `${what} stuck`,
        status: "Stuck",
        tone: "attention",
        // An alarm is raised once per job and must not wait in a digest behind another one.
        isFailure: false,
        job: {
          id: data.jobId,
          name: data.jobName,
          operation: data.operation,
          status: "InProgress",
        },
        backupInstanceId: data.backupInstanceId,
        facts: compact([
          ["Status", "Still running, longer than expected"],
          ["Datasource", data.datasourceName],
          ["Backup instance", data.backupInstanceName],
          ["Vault", data.vaultName],
          ["Operation", operationLabels[data.operation] ?? data.operation],
          ["Started", formatTime(data.startTime)],
          ["Running for", formatMinutes(data.runningMinutes)],
          [
            "Expected within",
            `${formatMinutes(data.expectedWithinMinutes)} (${basisLabels[data.basis]})`,
          ],
          [
            "Usual (95th percentile)",
            data.usualP95Minutes === undefined
              ? undefined
              : `${formatMinutes(data.usualP95Minutes)} over ${data.earlierRuns} earlier runs`,
          ],
          ["Job", data.jobName],
        ]),
        errors: [],
      };
    }
    case PgProtectEventTypes.backupAnomaly: {
      const data = event.data;
      return {
        ...base,
        title: "Backup anomaly",
        status: "Anomaly",
        tone: "warning",
        isFailure: false,
        job: { id: data.jobId, name: data.jobName, operation: data.operation, status: "Completed" },
        backupInstanceId: data.backupInstanceId,
        facts: compact([
          ["Status", data.findings.map((finding) => anomalyHeadline(finding)).join("; ")],
          ["Datasource", data.datasourceName],
          ["Backup instance", data.backupInstanceName],
          ["Vault", data.vaultName],
          ...data.findings.map((finding): readonly [string, string] => [
            finding.measure === "size" ? "Size" : "Duration",
            anomalyNumbers(finding),
          ]),
          ["Compared with", `${data.earlierBackups} earlier backups (median)`],
          ["Started", formatTime(data.startTime)],
          ["Ended", data.endTime ? formatTime(data.endTime) : undefined],
          ["Recovery point", data.recoveryPointId],
          ["Job", data.jobName],
        ]),
        errors: [],
      };
    }
    case PgProtectEventTypes.drillSucceeded:
    case PgProtectEventTypes.drillFailed: {
      const data = event.data;
      const succeeded = data.verdict === "Succeeded";
      const verification = data.verification;
      return {
        ...base,
        title: succeeded ? "Restore drill succeeded" : "Restore drill failed",
        status: data.verdict,
        tone: succeeded ? "good" : "attention",
        // Not a job failure: a failed drill is never held as a repeat of the datasource's failures;
        // it is an alarm, which a burst on the channel digests (see `isAlarm` in digest.ts).
        isFailure: false,
        backupInstanceId: data.backupInstanceId,
        facts: compact([
          [
            "Status",
            succeeded
              ? "Restored and verified"
              : `Not proven restorable: ${data.error?.message ?? "the drill failed"}`,
          ],
          ["Datasource", data.datasourceName],
          ["Backup instance", data.backupInstanceName],
          ["Vault", data.vaultName],
          [
            "Time to restore",
            data.timeToRestoreSeconds === undefined
              ? undefined
              : formatIsoDuration(`PT${data.timeToRestoreSeconds}S`),
          ],
          [
            "Verified",
            verification
              ? `${verification.tables} tables, ${verification.rows} rows${verification.verified ? "" : `; ${verification.mismatches.length} differences`}`
              : undefined,
          ],
          [
            "Recovery point",
            data.recoveryPointTime ? formatTime(data.recoveryPointTime) : data.recoveryPointId,
          ],
          ["Schedule", data.schedule ?? "on demand"],
          ["Started", formatTime(data.startTime)],
          ["Scratch target", data.scratchRemoved ? "removed" : "NOT removed: check for a leftover"],
          ["Drill", data.drillId],
        ]),
        errors: data.error ? [data.error] : [],
      };
    }
    case PgProtectEventTypes.alertJobFailed:
    case PgProtectEventTypes.alertSecurity:
      return describeMonitorAlert(event, base);
  }
}

/**
 * The view of an Azure Monitor alert: a job failure reads like the job's own failure, a security
 * alert says what Azure Backup saw and, once it clears, that it did.
 */
function describeMonitorAlert(
  event: MonitorAlertEvent,
  base: Omit<NotificationView, "title" | "status" | "tone" | "isFailure" | "facts" | "errors">,
): NotificationView {
  const data = event.data;
  const resolved = data.monitorCondition === "Resolved";
  const jobFailure = event.type === PgProtectEventTypes.alertJobFailed;
  const what = data.operationCategory === "Restore" ? "Restore" : "Backup";
  const title = jobFailure
    ? `${what} failed (Azure Monitor alert)`
    : resolved
      ? `Security alert resolved: ${data.alertRule}`
      : `Security alert: ${data.alertRule}`;
  return {
    ...base,
    title,
    status: jobFailure ? "Failed" : resolved ? "Resolved" : "SecurityAlert",
    tone: resolved ? "good" : "attention",
    // A failed job is digested like the job's own failure; security alerts are alarms.
    isFailure: jobFailure && !resolved,
    ...(data.jobId && data.jobName
      ? {
          job: {
            id: data.jobId,
            name: data.jobName,
            operation: what === "Restore" ? "Restore" : "Backup",
            status: "Failed",
          },
        }
      : {}),
    facts: compact([
      ["Status", jobFailure ? "Failed" : resolved ? "Resolved" : "Fired"],
      ["Alert", data.alertRule],
      ["Severity", data.severity],
      ["Datasource", data.datasourceName],
      ["Vault", data.vaultName],
      ["Fired", data.firedAt ? formatTime(data.firedAt) : undefined],
      ["Resolved", data.resolvedAt ? formatTime(data.resolvedAt) : undefined],
      ["What happened", data.description],
      [
        "Recommended action",
        data.recommendedActions.length > 0 ? data.recommendedActions.join(" ") : undefined,
      ],
      ["Job", data.jobName],
      ["Alert in Azure Monitor", data.investigationLink],
    ]),
    errors: [],
  };
}

/** `2026-11-24 05:57 UTC`: readable, unambiguous, the same in every channel. */
export function formatTime(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const text = new Date(ms).toISOString();
  return `${text.slice(0, 10)} ${text.slice(11, 19)} UTC`;
}

/** `PT1H2M3S` as `1 h 2 min 3 s`; text that is not a duration is shown as given. */
export function formatIsoDuration(text: string): string {
  const d = parseIsoDuration(text);
  if (!d) return text;
  const parts = compactParts([
    [d.years, "y"],
    [d.months, "mo"],
    [d.weeks, "w"],
    [d.days, "d"],
    [d.hours, "h"],
    [d.minutes, "min"],
    [Math.round(d.seconds * 10) / 10, "s"],
  ]);
  return parts.length > 0 ? parts.join(" ") : "0 s";
}

function elapsed(start: string, end: string | undefined): string | undefined {
  if (!end) return undefined;
  const ms = Date.parse(end) - Date.parse(start);
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  const total = Math.round(ms / 1000);
  const parts = compactParts([
    [Math.floor(total / 3600), "h"],
    [Math.floor((total % 3600) / 60), "min"],
    [total % 60, "s"],
  ]);
  return parts.length > 0 ? parts.join(" ") : "0 s";
}

/**
 * `Backup overdue by 3 days`: how late the missed backup was when the event was raised, coarsely,
 * because a reader decides on the order of magnitude.
 */
function overdueTitle(since: string, at: string | undefined): string {
  const ms = at === undefined ? Number.NaN : Date.parse(at) - Date.parse(since);
  if (!Number.isFinite(ms) || ms < 0) return "Backup overdue";
  const hours = Math.floor(ms / 3_600_000);
  const days = Math.floor(hours / 24);
  const plural = (count: number, unit: string) => `${count} ${unit}${count === 1 ? "" : "s"}`;
  const late =
    days > 0 ? plural(days, "day") : hours > 0 ? plural(hours, "hour") : "less than an hour";
  return `Backup overdue by ${late}`;
}

function compactParts(parts: ReadonlyArray<readonly [number, string]>): string[] {
  return parts.filter(([value]) => value > 0).map(([value, unit]) => `${value} ${unit}`);
}

/** Bytes in binary units, one decimal: `1.5 GiB`. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function compact(entries: ReadonlyArray<readonly [string, string | undefined]>): Fact[] {
  return entries
    .filter(
      (entry): entry is readonly [string, string] => entry[1] !== undefined && entry[1] !== "",
    )
    .map(([title, value]) => ({ title, value }));
}

const basisLabels: Record<"history" | "floor" | "ceiling", string> = {
  history: "3 times the usual",
  floor: "the configured floor",
  ceiling: "the configured ceiling",
};

/** Whole minutes as `2 h 5 min`; under a minute as `< 1 min`. */
export function formatMinutes(minutes: number): string {
  const total = Math.round(minutes);
  if (total < 1) return "< 1 min";
  const parts = compactParts([
    [Math.floor(total / 1440), "d"],
    [Math.floor((total % 1440) / 60), "h"],
    [total % 60, "min"],
  ]);
  return parts.join(" ");
}

function anomalyHeadline(finding: AnomalyMeasure): string {
  return finding.measure === "size"
    ? `Size down to ${formatPercent(finding.ratio)} of the usual`
    : `Took ${formatRatio(finding.ratio)} the usual time`;
}

/** The numbers side by side: this backup's, the usual, and the limit crossed. */
function anomalyNumbers(finding: AnomalyMeasure): string {
  if (finding.measure === "size") {
    return `${formatBytes(finding.observed)} against a usual ${formatBytes(finding.usual)} (${formatPercent(finding.ratio)}; alarm below ${formatPercent(finding.limit)})`;
  }
  return `${formatSeconds(finding.observed)} against a usual ${formatSeconds(finding.usual)} (${formatRatio(finding.ratio)}; alarm above ${formatRatio(finding.limit)})`;
}

function formatPercent(ratio: number): string {
  return `${Math.round(ratio * 1000) / 10} %`;
}

function formatRatio(ratio: number): string {
  return `${Math.round(ratio * 10) / 10}×`;
}

function formatSeconds(seconds: number): string {
  const total = Math.round(seconds);
  const parts = compactParts([
    [Math.floor(total / 3600), "h"],
    [Math.floor((total % 3600) / 60), "min"],
    [total % 60, "s"],
  ]);
  return parts.length > 0 ? parts.join(" ") : "0 s";
}
