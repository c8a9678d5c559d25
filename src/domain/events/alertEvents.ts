/**
 * `PgProtect.Alert.JobFailed` and `PgProtect.Alert.Security`: Azure Backup's built-in alerts, as
 * Azure Monitor delivers them to the app's alert endpoint, in pgprotect's own event shape so that
 * the routing rules, digests and renderers treat them like every other event.
 */
import { z } from "zod";
import type { BackupAlertFact, BackupAlertSummary } from "../alerts/backupAlerts.js";
import { InvalidInputError } from "../errors.js";
import type { EventOptions } from "./builders.js";
import { stableUuid } from "./stableId.js";
import {
  dataSchemaOf,
  EVENT_SCHEMA_VERSION,
  PgProtectEventTypes,
  type MonitorAlertData,
  type MonitorAlertEvent,
} from "./types.js";

const time = z
  .string()
  .refine((value) => !Number.isNaN(Date.parse(value)), { message: "expected an RFC 3339 time" });

/** The zod schema of {@link MonitorAlertData}. */
export const monitorAlertDataSchema = z.object({
  schemaVersion: z.literal(EVENT_SCHEMA_VERSION),
  alertId: z.string().min(1),
  alertRule: z.string().min(1),
  severity: z.string().optional(),
  monitorCondition: z.enum(["Fired", "Resolved"]),
  firedAt: time.optional(),
  resolvedAt: time.optional(),
  vaultName: z.string().min(1),
  vaultId: z.string().min(1),
  datasourceId: z.string().min(1),
  datasourceName: z.string().min(1),
  datasourceType: z.string().optional(),
  jobId: z.string().optional(),
  jobName: z.string().optional(),
  operationCategory: z.enum(["Backup", "Restore"]).optional(),
  description: z.string().optional(),
  recommendedActions: z.array(z.string()),
  investigationLink: z.string().optional(),
  datasourceTags: z.record(z.string(), z.string()).optional(),
});

/**
 * The event of an alert that is routed.
 *
 * @remarks Ids: a job failure that names its job has the id of that job's own
 * `PgProtect.Backup.JobStateChanged` `Failed` event, so whichever of the two reaches a channel
 * first is delivered and the other is recognised as the same fact; any other alert's id derives
 * from the alert instance and its condition, so Azure's retries of one notification are one event
 * and its resolution is another.
 * @param now - the time of an alert that carries none.
 * @throws InvalidInputError `EVENT_INVALID` for an ignored alert.
 */
export function monitorAlertEvent(
  fact: BackupAlertFact,
  options: EventOptions & { readonly now: Date },
): MonitorAlertEvent {
  if (fact.kind === "ignored") {
    throw new InvalidInputError("EVENT_INVALID", `An ignored alert has no event: ${fact.reason}`, [
      { path: "kind", code: "EVENT_INVALID", message: fact.reason },
    ]);
  }
  const { alert } = fact;
  const type =
    fact.kind === "jobFailure"
      ? PgProtectEventTypes.alertJobFailed
      : PgProtectEventTypes.alertSecurity;
  const job = fact.kind === "jobFailure" ? fact.job : undefined;
  const id = job
    ? stableUuid([PgProtectEventTypes.jobStateChanged, job.id.toLowerCase(), "Failed"])
    : stableUuid([type, alert.alertId.toLowerCase(), alert.monitorCondition]);
  const at =
    (alert.monitorCondition === "Resolved" ? alert.resolvedAt : alert.firedAt) ??
    options.now.toISOString();
  const data: MonitorAlertData = {
    ...dataOf(alert),
    ...(job ? { jobId: job.id, jobName: job.name } : {}),
    ...(fact.kind === "jobFailure" ? { operationCategory: fact.operationCategory } : {}),
    ...(options.datasourceTags ? { datasourceTags: options.datasourceTags } : {}),
  };
  return {
    specversion: "1.0",
    id,
    source: options.source,
    type,
    subject: job?.id ?? alert.datasourceId,
    time: new Date(at).toISOString(),
    datacontenttype: "application/json",
    dataschema: dataSchemaOf(type),
    data,
  };
}

function dataOf(alert: BackupAlertSummary): MonitorAlertData {
  return {
    schemaVersion: EVENT_SCHEMA_VERSION,
    alertId: alert.alertId,
    alertRule: alert.alertRule,
    ...(alert.severity ? { severity: alert.severity } : {}),
    monitorCondition: alert.monitorCondition,
    ...(alert.firedAt ? { firedAt: new Date(alert.firedAt).toISOString() } : {}),
    ...(alert.resolvedAt ? { resolvedAt: new Date(alert.resolvedAt).toISOString() } : {}),
    vaultName: alert.vaultName,
    vaultId: alert.vaultId,
    datasourceId: alert.datasourceId,
    datasourceName: alert.datasourceName,
    ...(alert.datasourceType ? { datasourceType: alert.datasourceType } : {}),
    ...(alert.description ? { description: alert.description } : {}),
    recommendedActions: alert.recommendedActions,
    ...(alert.investigationLink ? { investigationLink: alert.investigationLink } : {}),
  };
}
