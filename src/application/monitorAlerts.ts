/**
 * Receive an Azure Monitor alert: Azure Backup's built-in alerts, posted by an action group's
 * webhook in the common alert schema, routed through the same rules as pgprotect's own events.
 */
import { readBackupAlert, type BackupAlertFact } from "../domain/alerts/backupAlerts.js";
import { parseCommonAlert } from "../domain/alerts/commonAlertSchema.js";
import { monitorAlertEvent } from "../domain/events/alertEvents.js";
import { jobStateChangedEvent } from "../domain/events/builders.js";
import type { PgProtectEvent } from "../domain/events/types.js";
import { isAppError } from "../domain/errors.js";
import { parseVaultId, sameResourceId } from "../domain/protection/ids.js";
import type { EventLogger } from "../observability/eventLogger.js";
import { logEvents } from "../observability/logEvents.js";
import type { JobPort } from "../providers/ports.js";
import type { VaultDirectory } from "./dependencies.js";
import type { DeliveryOutcome, NotificationRouter } from "./routeNotification.js";

/** What receiving an alert needs. */
export interface MonitorAlertDependencies {
  /** The failed job is read from its vault, so that its message is the job's own. */
  readonly provider: { readonly backup: Pick<JobPort, "getJob"> };
  readonly vaults: Pick<VaultDirectory, "resolve">;
  readonly eventSource: string;
}

/** What became of one alert notification. */
export interface MonitorAlertResult {
  /**
   * `routed`: delivered to the channels its rules name (or recognised there as delivered);
   * `ignored`: not an alert pgprotect routes (another service's, another vault's); `resolved`:
   * a job failure's alert resolved, which the job's own events tell already.
   */
  readonly status: "routed" | "ignored" | "resolved";
  readonly reason?: string;
  readonly eventId?: string;
  readonly eventType?: string;
  readonly deliveries: readonly { readonly channelId: string; readonly result: string }[];
}

/**
 * Reads one alert notification and routes it.
 *
 * @remarks Azure retries a webhook that did not answer in time, and Azure Backup raises a job
 * failure alert for a job whose failure pgprotect's job watcher also publishes. Both are one fact
 * to the dispatcher, which records each event and channel it delivered: an alert delivered again
 * is the same event; a job failure's alert is given the job's own `Failed` event (read from the
 * vault) or, when the job cannot be read, a `PgProtect.Alert.JobFailed` with that event's id, so
 * that whichever arrives first is sent and the other is not.
 *
 * @throws InvalidInputError `ALERT_INVALID` for a body outside the common alert schema;
 * NotificationDeliveryError when a channel failed and a later attempt may succeed (answered 503,
 * so Azure retries the webhook; the channels that got it are recorded and not sent to again).
 */
export async function receiveMonitorAlert(
  body: unknown,
  deps: MonitorAlertDependencies,
  notifications: () => Promise<{ readonly dispatcher: NotificationRouter }>,
  log: EventLogger,
  now: Date,
): Promise<MonitorAlertResult> {
  const alert = parseCommonAlert(body);
  const fact = readBackupAlert(alert, (vaultId) => coveredVault(deps.vaults, vaultId));
  const alertId = alert.data.essentials.alertId;
  if (fact.kind === "ignored") {
    log.emit(logEvents.monitorAlertIgnored, {
      alertId,
      alertRule: alert.data.essentials.alertRule,
      reason: fact.reason,
    });
    return { status: "ignored", reason: fact.reason, deliveries: [] };
  }
  if (fact.kind === "jobFailure" && fact.alert.monitorCondition === "Resolved") {
    const reason = "a job failure's alert resolved; the job's own events tell how it ended";
    log.emit(logEvents.monitorAlertIgnored, { alertId, alertRule: fact.alert.alertRule, reason });
    return { status: "resolved", reason, deliveries: [] };
  }
  const event = await eventOf(fact, deps, log, now);
  const { dispatcher } = await notifications();
  let outcomes: readonly DeliveryOutcome[];
  try {
    outcomes = await dispatcher.dispatch(event);
  } catch (error) {
    log.emit(logEvents.monitorAlertNotDelivered, {
      alertId,
      cloudEventId: event.id,
      eventType: event.type,
      errorCode: isAppError(error) ? error.code : undefined,
      errorMessage: (error as Error).message,
    });
    // Azure retries a webhook that fails; a refusal that retrying cannot fix is acknowledged.
    if (isAppError(error) && !error.retryable) {
      return {
        status: "routed",
        reason: `not delivered everywhere: ${error.message}`,
        eventId: event.id,
        eventType: event.type,
        deliveries: [],
      };
    }
    throw error;
  }
  const deliveries = outcomes.map((outcome) => ({
    channelId: outcome.channelId,
    result: outcome.result,
  }));
  log.emit(logEvents.monitorAlertRouted, {
    alertId,
    alertRule: fact.alert.alertRule,
    monitorCondition: fact.alert.monitorCondition,
    cloudEventId: event.id,
    eventType: event.type,
    deliveries: deliveries.map((d) => `${d.channelId} ${d.result}`),
  });
  return { status: "routed", eventId: event.id, eventType: event.type, deliveries };
}

/** The vault as the app names it, when the app covers it (the local provider covers its own). */
function coveredVault(
  vaults: Pick<VaultDirectory, "resolve">,
  vaultId: string,
): string | undefined {
  try {
    // An alert names any resource; only a Backup vault the app covers is routed.
    const resolved = vaults.resolve(parseVaultId(vaultId).vaultName);
    return sameResourceId(resolved, vaultId) ? resolved : undefined;
  } catch {
    return undefined;
  }
}

async function eventOf(
  fact: Exclude<BackupAlertFact, { kind: "ignored" }>,
  deps: MonitorAlertDependencies,
  log: EventLogger,
  now: Date,
): Promise<PgProtectEvent> {
  const options = { source: deps.eventSource, now };
  if (fact.kind !== "jobFailure" || !fact.job) return monitorAlertEvent(fact, options);
  try {
    const job = await deps.provider.backup.getJob(fact.alert.vaultId, fact.job.name);
    // The job's own event, the one the job watcher publishes: one fact, one id, one message.
    if (job.status === "Failed") return jobStateChangedEvent(job, { source: deps.eventSource });
  } catch (error) {
    log.emit(logEvents.monitorAlertJobUnread, {
      alertId: fact.alert.alertId,
      jobId: fact.job.id,
      errorCode: isAppError(error) ? error.code : undefined,
      errorMessage: (error as Error).message,
    });
  }
  return monitorAlertEvent(fact, options);
}
