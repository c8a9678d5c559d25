/**
 * The user story "reconcile": what events miss. It protects resources that carry the auto-protect
 * tag but have no protection (an event lost, the app down when it came), and publishes
 * `PgProtect.Backup.Overdue` for backup instances whose last successful backup is older than
 * their policy promises.
 */
import { backupOverdueEvent } from "../domain/events/builders.js";
import type { PgProtectEvent } from "../domain/events/types.js";
import {
  autoProtectDecision,
  autoProtectTargetOf,
  type AutoProtectSettings,
} from "../domain/plans/autoProtect.js";
import { expectedBackupPeriod, overdueSince } from "../domain/plans/staleness.js";
import { resourceIdKey } from "../domain/protection/ids.js";
import type { BackupInstance } from "../domain/protection/types.js";
import type { EventLogger } from "../observability/eventLogger.js";
import { logEvents } from "../observability/logEvents.js";
import {
  autoProtectRequester,
  autoProtectSettingsOf,
  protectTagged,
  type AutoProtectOutcome,
} from "./autoProtect.js";
import { protectionConfiguredAt } from "./backupInstances.js";
import type { ApplicationDependencies } from "./dependencies.js";
import type { OrchestrationPort } from "./orchestrationPort.js";
import { fromDatabase, fromServer } from "./protectionChecks.js";
import { coveredVaultIds } from "./vaults.js";

/** What a reconciliation reads and publishes with. */
export type ReconcileDependencies = Pick<
  ApplicationDependencies,
  "config" | "provider" | "vaults" | "events" | "eventSource"
>;

/** What a reconciliation did. */
export interface ReconcileReport {
  /** Tagged resources found unprotected, and what was done for each. */
  readonly protections: readonly {
    readonly datasourceId: string;
    readonly outcome: AutoProtectOutcome;
  }[];
  /** The overdue events published. */
  readonly overdue: readonly PgProtectEvent[];
}

/** Logs what a reconciliation did: each protection started or found, each overdue backup. */
export function logReconcileReport(log: EventLogger, report: ReconcileReport): void {
  for (const { datasourceId, outcome } of report.protections) {
    const operation = outcome.action === "ignored" ? {} : { operationId: outcome.instanceId };
    log
      .with(operation)
      .emit(logEvents.reconcileProtection, { datasourceId, action: outcome.action });
  }
  for (const event of report.overdue)
    log.emit(logEvents.reconcileOverdue, { subject: event.subject, cloudEventId: event.id });
}

const isActiveProtection = (status: string): boolean =>
  status !== "ProtectionStopped" && status !== "SoftDeleted";

/**
 * The datasources an active backup instance protects, by {@link resourceIdKey}, from the provider's cross-vault index (one
 * Resource Graph query in Azure, over the subscriptions of the vault and of the resources), or
 * `undefined` when it has none and each resource is asked about on its own.
 *
 * @remarks The index lags the service by minutes: a datasource protected a moment ago looks
 * unprotected, and its protection is asked for again, which answers the protection it has.
 */
async function protectedDatasourceIds(
  deps: Pick<ApplicationDependencies, "provider">,
  armIds: readonly string[],
): Promise<ReadonlySet<string> | undefined> {
  const index = deps.provider.protectedItems;
  if (!index) return undefined;
  const subscriptions = [
    ...new Set(
      armIds.flatMap((id) => /^\/subscriptions\/([^/]+)/i.exec(id)?.[1]?.toLowerCase() ?? []),
    ),
  ];
  const items = await index.listProtectedItems(subscriptions);
  return new Set(
    items
      .filter((item) => isActiveProtection(item.protectionStatus))
      .map((item) => resourceIdKey(item.datasourceId)),
  );
}

/** Protects every tagged resource of the directory that no backup instance protects yet. */
export async function protectTaggedResources(
  deps: Pick<ApplicationDependencies, "provider">,
  orchestrations: OrchestrationPort,
  settings: AutoProtectSettings,
  vaultId: string,
): Promise<ReconcileReport["protections"]> {
  const { directory, backup } = deps.provider;
  const servers = await directory.listServers();
  // Each protection is handed its datasource as listed here: one listing, not one look-up each.
  const resources = [
    ...servers
      .filter((s) => s.kind === "flexibleServers")
      .map((s) => ({ id: s.id, tags: s.tags, resolved: fromServer(s) })),
    ...(await directory.listDatabases()).map((d) => ({
      id: d.id,
      tags: d.tags,
      resolved: fromDatabase(d),
    })),
  ];
  const protectedIds = await protectedDatasourceIds(deps, [
    vaultId,
    ...resources.map((resource) => resource.id),
  ]);
  const results: { datasourceId: string; outcome: AutoProtectOutcome }[] = [];
  for (const resource of resources) {
    const decision = autoProtectDecision(autoProtectTargetOf(resource.id), resource.tags, settings);
    if (decision.action === "ignore") continue;
    if (protectedIds) {
      // Exactly this datasource: `Demo` being protected says nothing about `demo`.
      if (protectedIds.has(resourceIdKey(resource.id))) continue;
    } else {
      const instances = await backup.listBackupInstancesForDatasource(resource.id);
      if (instances.some((i) => isActiveProtection(i.protectionStatus))) continue;
    }
    const outcome = await protectTagged(orchestrations, {
      datasource: { datasourceId: decision.request.datasourceId },
      resolved: resource.resolved,
      vaultId,
      policyName: decision.request.policyName,
      ...(decision.request.secretUri ? { secretUri: decision.request.secretUri } : {}),
      requestedBy: autoProtectRequester,
    });
    results.push({ datasourceId: resource.id, outcome });
  }
  return results;
}

async function lastSuccessfulBackup(
  deps: Pick<ApplicationDependencies, "provider">,
  vaultId: string,
  instance: BackupInstance,
): Promise<string | undefined> {
  const jobs = await deps.provider.backup.listJobs(vaultId, {
    backupInstanceName: instance.name,
    operation: ["OnDemandBackup", "ScheduledBackup"],
    status: ["Completed"],
  });
  return jobs
    .map((job) => job.endTime)
    .filter((end): end is string => end !== undefined)
    .sort()
    .at(-1);
}

/**
 * The overdue events of the given vaults at `now`: one per configured backup instance with no
 * successful backup within its policy's period plus a day (or `staleAfter`).
 *
 * @param orchestrations - where the app's protection operations are read: when the service gives
 * no creation time, the clock of an instance never backed up starts at the operation's completion.
 */
export async function overdueEvents(
  deps: Pick<ApplicationDependencies, "provider" | "eventSource">,
  vaultIds: readonly string[],
  now: Date,
  staleAfter?: string,
  orchestrations?: OrchestrationPort,
): Promise<PgProtectEvent[]> {
  const events: PgProtectEvent[] = [];
  for (const vaultId of vaultIds) {
    const policies = new Map<string, string | undefined>();
    for (const instance of await deps.provider.backup.listBackupInstances(vaultId)) {
      if (instance.protectionStatus !== "ProtectionConfigured") continue;
      const policyName = instance.policyId.split("/").at(-1) ?? "";
      if (!policies.has(policyName)) {
        const policy = await deps.provider.backup
          .getPolicy(vaultId, policyName)
          .catch(() => undefined);
        policies.set(policyName, policy ? expectedBackupPeriod(policy.properties) : undefined);
      }
      const expectedEvery = policies.get(policyName) ?? staleAfter;
      if (!expectedEvery) continue;
      const last = await lastSuccessfulBackup(deps, vaultId, instance);
      const configuredAt = last
        ? undefined
        : await protectionConfiguredAt(orchestrations, instance);
      const since = overdueSince(
        {
          protectedSince: instance.createdAt,
          expectedEvery,
          ...(configuredAt ? { configuredAt } : {}),
          ...(last ? { lastSuccessfulBackupTime: last } : {}),
          ...(staleAfter ? { staleAfter } : {}),
        },
        now,
      );
      if (!since) continue;
      const tags = await deps.provider.directory
        .getTags(instance.dataSourceInfo.resourceId)
        .catch(() => undefined);
      events.push(
        backupOverdueEvent(
          {
            instance,
            expectedEvery,
            overdueSince: since,
            ...(last ? { lastSuccessfulBackupTime: last } : {}),
          },
          {
            source: deps.eventSource,
            time: now.toISOString(),
            ...(tags ? { datasourceTags: tags } : {}),
          },
        ),
      );
    }
  }
  return events;
}

/** One reconciliation: protect what is tagged and unprotected, then report stale protection. */
export async function reconcile(
  deps: ReconcileDependencies,
  orchestrations: OrchestrationPort,
  now: Date,
): Promise<ReconcileReport> {
  const protections = await protectTaggedResources(
    deps,
    orchestrations,
    autoProtectSettingsOf(deps),
    deps.vaults.resolve(deps.config.AUTO_PROTECT_VAULT),
  );
  const overdue = await overdueEvents(
    deps,
    await coveredVaultIds(deps),
    now,
    deps.config.STALE_PROTECTION_AFTER,
    orchestrations,
  );
  // Each event's id is derived from the instance and the missed due time, so publishing it again
  // every run is recognised downstream as the same fact.
  await deps.events.publish(overdue);
  return { protections, overdue };
}
