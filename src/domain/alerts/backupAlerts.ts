/**
 * What an Azure Backup built-in alert says, read from its common-schema notification: a job that
 * failed (category `Jobs`: Backup Failure, Restore Failure) or a security alert (category
 * `Security`: Delete Backup Data, Soft Delete Disabled for Vault, MUA Disabled, ...), about which
 * vault and which datasource.
 *
 * @see https://learn.microsoft.com/azure/backup/backup-azure-monitoring-alerts
 */
import {
  backupAlertContextSchema,
  type BackupAlertContext,
  type CommonAlert,
} from "./commonAlertSchema.js";
import { lastSegment } from "../protection/ids.js";

/** The facts of one alert notification that every routed alert carries. */
export interface BackupAlertSummary {
  /** The alert instance's ARM id (the same for its Fired and Resolved notifications). */
  readonly alertId: string;
  /** E.g. `Backup Failure`, `Delete Backup Data`. */
  readonly alertRule: string;
  readonly severity?: string;
  readonly monitorCondition: "Fired" | "Resolved";
  readonly firedAt?: string;
  readonly resolvedAt?: string;
  readonly description?: string;
  readonly investigationLink?: string;
  /** ARM id of the Backup vault the alert is on. */
  readonly vaultId: string;
  readonly vaultName: string;
  /** The affected datasource; the vault itself for vault-wide alerts. */
  readonly datasourceId: string;
  readonly datasourceName: string;
  readonly datasourceType?: string;
  readonly recommendedActions: readonly string[];
}

/** What pgprotect makes of one alert notification. */
export type BackupAlertFact =
  | {
      readonly kind: "jobFailure";
      readonly alert: BackupAlertSummary;
      readonly operationCategory: "Backup" | "Restore";
      /** The failed job, when the alert names it. */
      readonly job?: { readonly id: string; readonly name: string };
    }
  | { readonly kind: "security"; readonly alert: BackupAlertSummary }
  | { readonly kind: "ignored"; readonly reason: string };

const backupVaultIdPattern =
  /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.dataprotection\/backupvaults\/[^/]+$/i;

/**
 * Reads an alert notification.
 *
 * @param coveredVault - the id, as this deployment writes it, of a vault it covers, or
 * undefined for a vault it does not: an alert on another vault is someone else's and is ignored.
 */
export function readBackupAlert(
  alert: CommonAlert,
  coveredVault: (vaultId: string) => string | undefined,
): BackupAlertFact {
  const { essentials } = alert.data;
  if ((essentials.monitoringService ?? "").toLowerCase() !== "azure backup") {
    return {
      kind: "ignored",
      reason: `not an Azure Backup alert (monitoring service '${essentials.monitoringService ?? "none"}')`,
    };
  }
  const vaultId = (essentials.alertTargetIDs ?? [])
    .filter((id) => backupVaultIdPattern.test(id))
    .map((id) => coveredVault(id))
    .find((id): id is string => id !== undefined);
  if (vaultId === undefined) {
    return {
      kind: "ignored",
      reason: `the alert targets no Backup vault this deployment covers (${(essentials.alertTargetIDs ?? []).join(", ") || "no targets"})`,
    };
  }
  const parsed = backupAlertContextSchema.safeParse(alert.data.alertContext ?? {});
  const context: BackupAlertContext = parsed.success ? parsed.data : {};
  const datasourceId = nonEmpty(context.linkedResourceId) ?? nonEmpty(context.sourceId) ?? vaultId;
  const summary: BackupAlertSummary = {
    alertId: essentials.alertId,
    alertRule: essentials.alertRule,
    ...optional("severity", nonEmpty(essentials.severity)),
    monitorCondition: essentials.monitorCondition,
    ...optional("firedAt", nonEmpty(essentials.firedDateTime)),
    ...optional("resolvedAt", nonEmpty(essentials.resolvedDateTime)),
    ...optional("description", nonEmpty(essentials.description)),
    ...optional("investigationLink", nonEmpty(essentials.investigationLink)),
    vaultId,
    vaultName: nameIn(vaultId),
    datasourceId,
    datasourceName:
      nonEmpty(context.linkedResourceName) ??
      (datasourceId === vaultId ? nameIn(vaultId) : datasourceNameOf(datasourceId)),
    ...optional("datasourceType", nonEmpty(context.sourceType)),
    recommendedActions: textList(context.extendedInfo?.recommendedActions),
  };
  const category = (context.category ?? "").toLowerCase();
  const isJob =
    category === "jobs" || (category === "" && /\bfailure\b/i.test(essentials.alertRule));
  if (!isJob) return { kind: "security", alert: summary };
  const jobName = jobNameOf(alert, context);
  return {
    kind: "jobFailure",
    alert: summary,
    operationCategory: /restore/i.test(essentials.alertRule) ? "Restore" : "Backup",
    ...(jobName ? { job: { id: `${vaultId}/backupJobs/${jobName}`, name: jobName } } : {}),
  };
}

/**
 * The failed job's GUID: Azure Backup puts it in the context's `extendedInfo.jobId`; an alert
 * rule of one's own may carry it as a custom property or a dimension named `jobId`.
 */
function jobNameOf(alert: CommonAlert, context: BackupAlertContext): string | undefined {
  const candidates: unknown[] = [context.extendedInfo?.jobId];
  for (const [key, value] of Object.entries(alert.data.customProperties ?? {})) {
    if (/^job[ _-]?id$/i.test(key)) candidates.push(value);
  }
  for (const criterion of context.condition?.allOf ?? []) {
    for (const dimension of criterion.dimensions ?? []) {
      if (/^job[ _-]?id$/i.test(dimension.name)) candidates.push(dimension.value);
    }
  }
  for (const candidate of candidates) {
    if (typeof candidate !== "string") continue;
    // A job's ARM id names the vault too; its last segment is the GUID either way.
    const name = nameIn(candidate.trim());
    if (/^[A-Za-z0-9][A-Za-z0-9-]{0,127}$/.test(name)) return name;
  }
  return undefined;
}

function datasourceNameOf(id: string): string {
  // A Single Server database reads better as server/database, as pgprotect names it elsewhere.
  const match = /\/servers\/([^/]+)\/databases\/([^/]+)$/i.exec(id);
  return match ? `${match[1]}/${match[2]}` : nameIn(id);
}

/** What an id names: its last segment, or the id itself when it has none. */
function nameIn(id: string): string {
  return lastSegment(id) ?? id;
}

function textList(value: string | readonly string[] | null | undefined): string[] {
  if (value === null || value === undefined) return [];
  const list = typeof value === "string" ? [value] : [...value];
  return list.map((text) => text.trim()).filter((text) => text !== "");
}

function nonEmpty(value: string | null | undefined): string | undefined {
  return value === null || value === undefined || value.trim() === "" ? undefined : value;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
