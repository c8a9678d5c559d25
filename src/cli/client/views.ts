/**
 * How the client commands show the API's answers as tables and labelled values (`--output table`);
 * `--output json` prints the API's own JSON instead.
 */
import type { BackupInstanceView } from "../../application/backupInstances.js";
import type {
  DeletedBackupInstanceView,
  LifecycleAnswer,
  LifecycleOperationView,
} from "../../application/lifecycle.js";
import type { InstanceAlarmMark, InstanceAlarmMarks } from "../../domain/history/alarmMarks.js";
import type { BackupPolicyResource } from "../../domain/policy/types.js";
import type { BackupJob } from "../../domain/protection/types.js";
import type { ProtectionStatus } from "./follow.js";
import { protectionSubject } from "./follow.js";
import { isoDuration, keyValues, shortTime, stateColor, table, type Colors } from "./render.js";

/** A protected item as the list answers it: with its alarms when the app keeps a job history. */
export type ListedInstance = BackupInstanceView & { readonly alarms?: InstanceAlarmMarks };

/** What needs a look about an item, in words: `overdue`, `stuck`, `anomaly`, or `-`. */
export function attentionOf(instance: ListedInstance): string {
  const marks = [
    instance.overdueSince ? "overdue" : undefined,
    instance.alarms?.stuck ? "stuck" : undefined,
    instance.alarms?.anomaly ? "anomaly" : undefined,
  ].filter((mark): mark is string => mark !== undefined);
  return marks.join(",") || "-";
}

/** The protected items as a table. */
export function instancesTable(colors: Colors, instances: readonly ListedInstance[]): string {
  if (instances.length === 0) return colors.dim("No backup instances.");
  return table(
    colors,
    ["NAME", "DATASOURCE", "VAULT", "STATE", "POLICY", "LAST BACKUP", "NEXT BACKUP", "ATTENTION"],
    instances.map((instance) => [
      instance.name,
      instance.friendlyName,
      instance.vaultName,
      instance.protectionState || instance.protectionStatus,
      instance.policy.name,
      shortTime(instance.lastSuccessfulBackup?.time),
      shortTime(instance.nextScheduledBackup),
      attentionOf(instance),
    ]),
    (column, cell, padded) =>
      column === 3
        ? padded.replace(cell, stateColor(colors, cell))
        : column === 7 && cell !== "-"
          ? padded.replace(cell, colors.red(cell))
          : padded,
  );
}

/** One protected item, with its error when protection failed. */
export function instanceDetails(colors: Colors, instance: ListedInstance): string {
  return keyValues(colors, [
    ["name", instance.name],
    ["datasource", instance.friendlyName],
    ["vault", instance.vaultName],
    ["state", stateColor(colors, instance.protectionState || instance.protectionStatus)],
    [
      "error",
      instance.protectionError
        ? `${instance.protectionError.code}: ${instance.protectionError.message}`
        : undefined,
    ],
    ["policy", instance.policy.name],
    [
      "last backup",
      instance.lastSuccessfulBackup ? shortTime(instance.lastSuccessfulBackup.time) : "none yet",
    ],
    ["next backup", shortTime(instance.nextScheduledBackup)],
    [
      "overdue",
      instance.overdueSince ? colors.red(`since ${shortTime(instance.overdueSince)}`) : undefined,
    ],
    ...alarmLines(colors, instance),
    ["recovery points", String(instance.recoveryPointCount)],
  ]);
}

function alarmLines(
  colors: Colors,
  instance: ListedInstance,
): ReadonlyArray<readonly [string, string | undefined]> {
  const line = (mark: InstanceAlarmMark | null | undefined) =>
    mark ? colors.red(`${mark.summary} (job ${mark.jobName})`) : undefined;
  return [
    ["stuck", line(instance.alarms?.stuck)],
    ["anomaly", line(instance.alarms?.anomaly)],
  ];
}

/** A policy's schedule: its backup rules' repeating intervals. */
function scheduleOf(policy: BackupPolicyResource): string {
  const intervals = policy.properties.policyRules.flatMap((rule) =>
    rule.objectType === "AzureBackupRule" ? rule.trigger.schedule.repeatingTimeIntervals : [],
  );
  return intervals.join(" ") || "-";
}

/** A policy's retention rules with how long each keeps its recovery points, per tier. */
function retentionOf(policy: BackupPolicyResource): string {
  return (
    policy.properties.policyRules
      .flatMap((rule) =>
        rule.objectType === "AzureRetentionRule"
          ? [
              `${rule.name} ${rule.lifecycles
                .map(
                  (l) =>
                    `${l.sourceDataStore.dataStoreType === "ArchiveStore" ? "archive " : ""}${l.deleteAfter.duration}`,
                )
                .join(" then ")}`,
            ]
          : [],
      )
      .join(", ") || "-"
  );
}

/** A vault's policies as a table. */
export function policiesTable(colors: Colors, policies: readonly BackupPolicyResource[]): string {
  if (policies.length === 0) return colors.dim("No policies.");
  return table(
    colors,
    ["NAME", "DATASOURCE TYPE", "SCHEDULE", "RETENTION"],
    policies.map((policy) => [
      policy.name ?? "-",
      policy.properties.datasourceTypes.join(", "),
      scheduleOf(policy),
      retentionOf(policy),
    ]),
  );
}

/** One policy. */
export function policyDetails(colors: Colors, policy: BackupPolicyResource): string {
  return keyValues(colors, [
    ["name", policy.name],
    ["datasource type", policy.properties.datasourceTypes.join(", ")],
    ["schedule", scheduleOf(policy)],
    ["retention", retentionOf(policy)],
    ["id", policy.id],
  ]);
}

/** A protection operation's state or outcome. */
export function protectionDetails(colors: Colors, status: ProtectionStatus): string {
  const summary = status.summary;
  return keyValues(colors, [
    ["operation", status.id],
    ["datasource", protectionSubject(status)],
    ["status", stateColor(colors, status.status)],
    ["outcome", status.outcome ? stateColor(colors, status.outcome) : undefined],
    ["current step", status.currentStep ?? undefined],
    ["backup instance", status.backupInstanceName ?? undefined],
    [
      "progress",
      status.progress ? `${status.progress.done}/${status.progress.total} databases` : undefined,
    ],
    ["protected", summary ? summary.protected.join(", ") || "none" : undefined],
    [
      "already protected",
      summary?.alreadyProtected.length ? summary.alreadyProtected.join(", ") : undefined,
    ],
    [
      "not protected",
      summary?.failed.length
        ? summary.failed.map((f) => `${f.databaseName} (${f.code})`).join(", ")
        : undefined,
    ],
    [
      "left out (limits)",
      summary?.skipped?.length
        ? summary.skipped.map((s) => `${s.databaseName} (${s.code})`).join(", ")
        : undefined,
    ],
    [
      "still running",
      summary?.stuck?.length
        ? summary.stuck.map((s) => `${s.databaseName} (${s.operationId})`).join(", ")
        : undefined,
    ],
    [
      "error",
      status.error ? colors.red(`${status.error.code}: ${status.error.message}`) : undefined,
    ],
    ["what to do", status.error?.recommendedAction],
  ]);
}

/** A backup or restore job, with what it made or restored and how the restore compared. */
export function jobDetails(colors: Colors, job: BackupJob): string {
  const verification = job.restoreVerification;
  return keyValues(colors, [
    ["job", job.name],
    ["operation", job.operation],
    ["backup instance", job.backupInstanceFriendlyName || job.backupInstanceId],
    ["status", stateColor(colors, job.status)],
    ["attempt", job.attempt && job.attempt > 1 ? String(job.attempt) : undefined],
    ["started", shortTime(job.startTime)],
    ["ended", job.endTime ? shortTime(job.endTime) : undefined],
    ["duration", isoDuration(job.duration)],
    ["rule", job.ruleName],
    ["retention tag", job.retentionTag],
    ["recovery point", job.recoveryPointId],
    ["restored to", job.recoveryDestination],
    [
      "verification",
      verification
        ? verification.verified
          ? colors.green(`verified: ${verification.tables} tables, ${verification.rows} rows`)
          : colors.red(
              `${verification.mismatches.length} differences: ${verification.mismatches.join("; ")}`,
            )
        : undefined,
    ],
    ["not restored", verification?.notRestored?.join("; ")],
    ...(job.errorDetails ?? []).map(
      (error) =>
        [
          "error",
          colors.red(
            `${error.code}: ${error.message}${error.recommendedAction?.length ? ` (${error.recommendedAction.join(" ")})` : ""}`,
          ),
        ] as const,
    ),
  ]);
}

/** The answer to a lifecycle action: the operation started, or that nothing was left to do. */
export function lifecycleAnswerDetails(
  colors: Colors,
  answer: LifecycleAnswer & { readonly statusUrl?: string | null },
): string {
  const started = answer.operationId !== null;
  return keyValues(colors, [
    ["action", answer.action],
    ["backup instance", answer.backupInstanceName],
    ["vault", answer.vaultName],
    ["state", stateColor(colors, answer.state)],
    ["target state", answer.targetState],
    ["outcome", started ? "accepted" : "already done"],
    ["operation", answer.operationId ?? undefined],
    ["follow", started ? `pgprotect status ${answer.operationId} --wait` : undefined],
  ]);
}

/** A lifecycle operation's state or outcome. */
export function lifecycleDetails(colors: Colors, operation: LifecycleOperationView): string {
  return keyValues(colors, [
    ["operation", operation.id],
    ["action", operation.action],
    ["backup instance", operation.backupInstanceName],
    ["vault", operation.vaultName],
    ["status", stateColor(colors, operation.status)],
    ["state", operation.state ? stateColor(colors, operation.state) : undefined],
    ["error", operation.error ? `${operation.error.code}: ${operation.error.message}` : undefined],
    ["what to do", operation.error?.recommendedAction],
    ["updated", shortTime(operation.lastUpdatedTime)],
  ]);
}

/** The soft-deleted instances as a table. */
export function deletedInstancesTable(
  colors: Colors,
  instances: readonly DeletedBackupInstanceView[],
): string {
  if (instances.length === 0) return colors.dim("No deleted backup instances.");
  return table(
    colors,
    ["NAME", "DATASOURCE", "VAULT", "POLICY", "DELETED", "PURGED", "UNDELETABLE"],
    instances.map((instance) => [
      instance.name,
      instance.friendlyName,
      instance.vaultName,
      instance.policy.name,
      shortTime(instance.deletionTime),
      shortTime(instance.scheduledPurgeTime),
      instance.undeletable ? "yes" : "no",
    ]),
  );
}
