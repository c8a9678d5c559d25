/**
 * The activities: each one provider call (or a few reads), returning typed values. Expected
 * failures come back as {@link ActivityFailure}s with the service's code; transient ones are
 * thrown so the orchestrations' retry policies retry them.
 */
import { backupAdmission } from "../application/backupAdmission.js";
import {
  checkDatasourceAccess,
  checkPolicyFits,
  checkVaultRoles,
  fromDatabase,
  resolveDatasource,
} from "../application/protectionChecks.js";
import {
  recordFollowedJob,
  recordWatchedJobs,
  type JobHistorySettings,
  type RecordedJobs,
} from "../application/jobHistory.js";
import {
  applyLifecycleStep,
  lifecycleStateNow,
  type LifecycleApplied,
  type LifecycleStep,
} from "../application/lifecycleActions.js";
import { listJobsOfVaults } from "../application/vaultJobs.js";
import { drillActivities } from "./drillActivities.js";
import { limitActivities } from "./limitActivities.js";
import { defaultMaxConcurrentDrills } from "../application/drillsSteps.js";
import { loadRestoredFiles } from "../application/restoreToServer.js";
import type { LoadedDatabase, LoadRestoredFilesRequest } from "../providers/ports.js";
import type { AppDependencies } from "../composition.js";
import { isAppError } from "../domain/errors.js";
import {
  jobStateChangedEvent,
  protectionConfiguredEvent,
  protectionFailedEvent,
  protectionLifecycleEvent,
} from "../domain/events/builders.js";
import type { PgProtectEvent } from "../domain/events/types.js";
import { parseVaultId } from "../domain/protection/ids.js";
import type { BackupInstance, BackupInstanceSpec, BackupJob } from "../domain/protection/types.js";
import { silentEventLogger, type EventLogger } from "../observability/eventLogger.js";
import { logEvents } from "../observability/logEvents.js";
import {
  activityNames,
  type ActivityFailure,
  type ActivityResult,
  type BackupInstanceKey,
  type CreateBackupInstanceInput,
  type DatasourceRef,
  type EnsurePolicyInput,
  type EventRequest,
  type JobKey,
  type ListJobsSinceInput,
  type ProtectionRequest,
  type ProtectionSummary,
  type RecordJobHistoryInput,
  type ResolvedDatasource,
  type ServerRefInput,
  type TriggerBackupInput,
  type WatchedJob,
  type WeeklyLimitInput,
} from "./names.js";
import { expected } from "./expectedFailures.js";

function summaryOf(instance: BackupInstance, vaultId: string): ProtectionSummary {
  const error = instance.protectionErrorDetails;
  return {
    backupInstanceName: instance.name,
    backupInstanceId: instance.id,
    vaultId,
    protectionStatus: instance.protectionStatus,
    policyId: instance.policyId,
    instance,
    ...(error
      ? {
          error: {
            code: error.code,
            ...(error.serviceCode ? { serviceCode: error.serviceCode } : {}),
            message: error.message,
            ...(error.recommendedAction?.length
              ? { recommendedAction: error.recommendedAction.join(" ") }
              : {}),
          },
        }
      : {}),
  };
}

function specFor(request: ProtectionRequest): BackupInstanceSpec {
  const { datasource } = request;
  const info = {
    resourceId: datasource.datasourceId,
    datasourceType:
      datasource.datasourceType as BackupInstanceSpec["dataSourceInfo"]["datasourceType"],
    resourceName: datasource.databaseName ?? datasource.serverName,
    resourceType: datasource.datasourceType,
    resourceLocation: datasource.location,
  };
  const serverId = datasource.datasourceId.replace(/\/databases\/[^/]+$/i, "");
  return {
    friendlyName: datasource.friendlyName,
    dataSourceInfo: info,
    ...(datasource.kind === "database"
      ? {
          dataSourceSetInfo: {
            ...info,
            resourceId: serverId,
            resourceName: datasource.serverName,
            resourceType: "Microsoft.DBforPostgreSQL/servers",
          },
        }
      : {}),
    policyId: `${request.vaultId}/backupPolicies/${request.policyName}`,
    ...(request.secretUri
      ? { secretStore: { secretStoreType: "AzureKeyVault", uri: request.secretUri } }
      : {}),
  };
}

/** Whether a value is a time an event may carry. */
function isTime(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== "" && !Number.isNaN(Date.parse(value));
}

/** The activity's own clock, for a fact that came without a time. */
function clockTime(): string {
  return new Date().toISOString();
}

/** The first usable time given, else the activity's clock: a builder is never handed an empty time. */
function firstTime(...candidates: ReadonlyArray<string | undefined>): string {
  return candidates.find(isTime) ?? clockTime();
}

/** Whether an activity's answer is an expected failure. */
function isFailure(value: unknown): value is ActivityFailure {
  return typeof value === "object" && value !== null && "ok" in value && value.ok === false;
}

/** The activities as registered: each takes its input and, optionally, the invocation's logger. */
type LoggedActivities<T> = {
  readonly [K in keyof T]: T[K] extends (input: infer I, log: EventLogger) => Promise<infer O>
    ? (input: I, log?: EventLogger) => Promise<O>
    : never;
};

/**
 * Each activity, logging its start and how it ended: completed, declined with an expected
 * failure's code, or failed by a thrown error (which the orchestration's retry policy retries
 * when transient). The logger is the activity invocation's, naming the orchestration instance.
 */
function withLogs<T extends Record<string, (input: never, log: EventLogger) => Promise<unknown>>>(
  activities: T,
): LoggedActivities<T> {
  const logged = Object.entries(activities).map(([activity, run]) => {
    const call = async (input: never, log: EventLogger = silentEventLogger) => {
      const started = Date.now();
      log.emit(logEvents.activityStarted, { activity });
      try {
        const result = await run(input, log);
        const durationMs = Date.now() - started;
        if (isFailure(result)) {
          log.emit(logEvents.activityDeclined, {
            activity,
            durationMs,
            errorCode: result.code,
            errorMessage: result.message,
          });
        } else {
          log.emit(logEvents.activityCompleted, { activity, durationMs });
        }
        return result;
      } catch (error) {
        log.emit(logEvents.activityFailed, {
          activity,
          durationMs: Date.now() - started,
          errorCode: isAppError(error) ? error.code : undefined,
          errorMessage: error instanceof Error ? error.message : String(error),
          retryable: isAppError(error) ? error.retryable : undefined,
        });
        throw error;
      }
    };
    return [activity, call] as const;
  });
  // The entries are the same activities under the same names, each wrapped alike.
  return Object.fromEntries(logged) as LoggedActivities<T>;
}

/** What the activities need: the provider, the event publisher and a few settings. */
export type ActivityDependencies = Pick<AppDependencies, "provider" | "events" | "eventSource"> & {
  /** Whether `verifyAccess` grants the vault identity's missing roles (`AUTO_GRANT_ROLE_ASSIGNMENTS`); false by default. */
  readonly autoGrantRoleAssignments?: boolean;
  /** How long a policy found to fit a datasource type is trusted without reading it again; 5 minutes by default. */
  readonly policyFitTtlMs?: number;
  /** pgprotect's job history; without it `recordJobHistory` records nothing and raises no alarm. */
  readonly history?: AppDependencies["history"];
  /** The history's retention and the alarms' thresholds, and how many drills run at a time. */
  readonly config?: JobHistorySettings & {
    readonly DRILL_MAX_CONCURRENT?: number | undefined;
  };
  /** The record of restore drills; without it drills are not recorded (nor kept one at a time). */
  readonly drills?: AppDependencies["drills"];
};

/**
 * Builds the activities over the app's dependencies.
 *
 * @param deps - the provider, the event publisher and the settings (tests pass their own).
 */
export function createActivities(deps: ActivityDependencies) {
  const { backup, secrets, directory, access } = deps.provider;
  const autoGrant = deps.autoGrantRoleAssignments ?? false;
  // A fan-out protects many datasources under one policy: its fit is read once in a while, not
  // once per datasource. Policies cannot change in place; one deleted meanwhile fails validation.
  const fittingPolicies = new Map<string, { fits: Promise<string>; at: number }>();
  const policyFitTtlMs = deps.policyFitTtlMs ?? 5 * 60_000;
  // Best effort: the job watcher records every job anyway, and a history that cannot be written
  // must not fail the backup whose state is being announced.
  const followedInHistory = async (job: BackupJob, log: EventLogger) => {
    if (!deps.history) return undefined;
    try {
      return await recordFollowedJob(deps.history, job);
    } catch (error) {
      log.emit(logEvents.jobHistoryUnavailable, {
        jobId: job.id,
        errorMessage: error instanceof Error ? error.message : String(error),
      });
      return undefined;
    }
  };
  /** An instance to describe a lifecycle fact by: listed, or among the deleted. */
  const instanceForEvent = async (
    vaultId: string,
    name: string,
  ): Promise<BackupInstance | undefined> => {
    try {
      return await backup.getBackupInstance(vaultId, name);
    } catch (error) {
      if (!isAppError(error) || error.httpStatus !== 404) throw error;
    }
    const deleted = await deps.provider.lifecycle?.listDeletedBackupInstances(vaultId);
    return deleted?.find((d) => d.name.toLowerCase() === name.toLowerCase());
  };

  return withLogs({
    /** Restore to a server: loads and verifies the files a restore job wrote (see `application/restoreToServer.ts`). */
    [activityNames.loadRestoredFiles]: (
      input: LoadRestoredFilesRequest,
    ): Promise<ActivityResult<LoadedDatabase>> =>
      expected(() => loadRestoredFiles(deps.provider, input)),

    /** Finds the datasource by id or by names. */
    [activityNames.resolveDatasource]: (
      ref: DatasourceRef,
    ): Promise<ActivityResult<ResolvedDatasource>> =>
      expected(() => resolveDatasource(directory, ref)),

    /** The protection a datasource already has, in any vault the provider sees. */
    [activityNames.findProtection]: async (
      datasourceId: string,
    ): Promise<ProtectionSummary | null> => {
      const instances = await backup.listBackupInstancesForDatasource(datasourceId);
      const active = instances.find(
        (i) => i.protectionStatus !== "ProtectionStopped" && i.protectionStatus !== "SoftDeleted",
      );
      return active ? summaryOf(active, active.id.replace(/\/backupInstances\/[^/]+$/i, "")) : null;
    },

    /**
     * Checks the vault can reach the datasource: for a database, that its secret exists and holds a
     * usable connection string (never logged); then, where the provider has roles, that the vault's
     * identity holds them on the datasource and may read the secret's key vault, granting the
     * missing roles when allowed.
     */
    [activityNames.verifyAccess]: (request: ProtectionRequest): Promise<ActivityResult<string[]>> =>
      expected(async () => [
        ...(await checkDatasourceAccess(secrets, request.datasource, request.secretUri)),
        ...(access
          ? await checkVaultRoles(
              access,
              request.vaultId,
              request.datasource,
              autoGrant,
              request.secretUri,
            )
          : []),
      ]),

    /** Checks the policy exists in the vault and protects this kind of datasource. */
    [activityNames.ensurePolicy]: (input: EnsurePolicyInput): Promise<ActivityResult<string>> =>
      expected(() => {
        const key = [input.vaultId, input.policyName, input.datasourceType].join("|").toLowerCase();
        const known = fittingPolicies.get(key);
        if (known && Date.now() - known.at < policyFitTtlMs) return known.fits;
        // Kept while in flight too, so that a batch starting together reads the policy once.
        const fits = checkPolicyFits(backup, input.vaultId, input.policyName, input.datasourceType);
        fittingPolicies.set(key, { fits, at: Date.now() });
        fits.catch(() => fittingPolicies.delete(key));
        return fits;
      }),

    /** The service's own pre-flight check. */
    [activityNames.validateForBackup]: (
      request: ProtectionRequest,
    ): Promise<ActivityResult<string[]>> =>
      expected(async () => [
        ...(await backup.validateForBackup(request.vaultId, specFor(request))).checks,
      ]),

    /**
     * Creates the backup instance. `protectDatasource` runs validateForBackup just before, so the
     * provider writes at once instead of validating again.
     */
    [activityNames.createBackupInstance]: (
      input: CreateBackupInstanceInput,
    ): Promise<ActivityResult<ProtectionSummary>> =>
      expected(async () =>
        summaryOf(
          await backup.createBackupInstance(
            input.vaultId,
            input.backupInstanceName,
            specFor(input),
            { validated: true },
          ),
          input.vaultId,
        ),
      ),

    /** Reads a backup instance's protection state. */
    [activityNames.getBackupInstance]: async (key: BackupInstanceKey): Promise<ProtectionSummary> =>
      summaryOf(await backup.getBackupInstance(key.vaultId, key.backupInstanceName), key.vaultId),

    /** The databases of a server. */
    [activityNames.listServerDatabases]: (
      input: ServerRefInput,
    ): Promise<ActivityResult<ResolvedDatasource[]>> =>
      expected(async () => {
        const server = await directory.resolveServer(input.serverName);
        return (await directory.listDatabases(server.id)).map(fromDatabase);
      }),

    /** Whether one more backup of the instance may run now (Flexible Server: one a week). */
    [activityNames.checkWeeklyLimit]: (input: WeeklyLimitInput): Promise<ActivityResult<true>> =>
      expected(async () => {
        const instance = await backup.getBackupInstance(input.vaultId, input.backupInstanceName);
        const admission = await backupAdmission(
          backup,
          input.vaultId,
          instance,
          new Date(input.at),
        );
        // A running backup is the triggered backup's own refusal to give; here only the week counts.
        if (!admission.admitted && admission.reason === "weeklyLimit") throw admission.error;
        return true as const;
      }),

    /** Starts an on-demand backup. */
    [activityNames.triggerBackup]: (
      input: TriggerBackupInput,
    ): Promise<ActivityResult<{ jobId: string }>> =>
      expected(async () => {
        const reference = await backup.triggerBackup(input.vaultId, input.backupInstanceName, {
          ruleName: input.ruleName,
          ...(input.retentionTagOverride
            ? { retentionTagOverride: input.retentionTagOverride }
            : {}),
        });
        return { jobId: reference.jobId };
      }),

    /** Reads a job. */
    [activityNames.getJob]: async (key: JobKey): Promise<BackupJob> =>
      backup.getJob(key.vaultId, key.jobId),

    /** Builds the CloudEvents for facts and publishes them; logs each one published. */
    [activityNames.publishEvents]: async (
      requests: readonly EventRequest[],
      log: EventLogger,
    ): Promise<number> => {
      const events: PgProtectEvent[] = [];
      for (const request of requests) {
        const options = {
          source: deps.eventSource,
          ...(request.datasourceTags ? { datasourceTags: request.datasourceTags } : {}),
        };
        if (request.kind === "jobStateChanged") {
          const { job } = request;
          const stuck =
            request.stuck ?? (request.recorded ? undefined : await followedInHistory(job, log));
          events.push(
            jobStateChangedEvent(job, {
              ...options,
              ...(isTime(job.endTime ?? job.startTime) ? {} : { time: clockTime() }),
              ...(stuck ? { stuck } : {}),
            }),
          );
        } else if (request.kind === "protectionConfigured") {
          const read =
            request.instance ??
            (await backup.getBackupInstance(request.vaultId, request.backupInstanceName));
          // A service that omits systemData gives no creation time: the orchestration's time stands in.
          const instance = isTime(read.createdAt)
            ? read
            : { ...read, createdAt: firstTime(request.time) };
          events.push(protectionConfiguredEvent(instance, options));
        } else if (request.kind === "protectionLifecycle") {
          const instance =
            request.instance ??
            (await instanceForEvent(request.vaultId, request.backupInstanceName));
          // An instance gone from both lists (purged) leaves nothing to describe the fact by.
          if (!instance) continue;
          events.push(
            protectionLifecycleEvent(
              {
                action: request.action,
                instance,
                state: request.state,
                ...(request.previousPolicyId ? { previousPolicyId: request.previousPolicyId } : {}),
                operationId: request.operationId,
                ...(request.requestedBy ? { requestedBy: request.requestedBy } : {}),
              },
              { ...options, time: firstTime(request.time) },
            ),
          );
        } else {
          events.push(
            protectionFailedEvent(
              {
                datasourceId: request.datasourceId,
                vaultName: parseVaultId(request.vaultId).vaultName,
                ...(request.policyName ? { policyName: request.policyName } : {}),
                ...(request.failedStep ? { failedStep: request.failedStep } : {}),
                ...(request.backupInstance ? { backupInstance: request.backupInstance } : {}),
                operationId: request.operationId,
                error: {
                  code: request.error.code,
                  ...(request.error.serviceCode ? { serviceCode: request.error.serviceCode } : {}),
                  message: request.error.message,
                  ...(request.error.recommendedAction
                    ? { recommendedAction: [request.error.recommendedAction] }
                    : {}),
                },
              },
              { ...options, time: firstTime(request.time) },
            ),
          );
        }
      }
      await deps.events.publish(events);
      for (const event of events) {
        log.emit(logEvents.eventPublished, {
          cloudEventId: event.id,
          eventType: event.type,
          subject: event.subject,
        });
      }
      return events.length;
    },

    /** Applies a lifecycle action unless the instance is already where it leads. */
    [activityNames.applyLifecycleAction]: (
      input: LifecycleStep,
    ): Promise<ActivityResult<LifecycleApplied>> =>
      expected(() => applyLifecycleStep(deps.provider, input)),

    /** The lifecycle state of an instance now (`SoftDeleted` once it is no longer listed). */
    [activityNames.readLifecycleState]: async (
      input: LifecycleStep,
    ): Promise<{ state: string }> => ({
      state: await lifecycleStateNow(deps.provider, input),
    }),

    /**
     * Jobs of the vaults started or ended since an instant, oldest first, each with its
     * datasource's tags (none for a datasource that no longer exists).
     *
     * @remarks One cross-vault query where the provider has one (Azure: Resource Graph), vault by
     * vault otherwise. Resource Graph shows jobs minutes late; the job watcher's `since` reaches
     * back an overlap further than that lag and its remembered states drop what it published.
     */
    [activityNames.listJobsSince]: async (input: ListJobsSinceInput): Promise<WatchedJob[]> => {
      const jobs = await listJobsOfVaults(deps.provider, input.vaultIds, { since: input.since });
      const tags = new Map<string, Readonly<Record<string, string>> | undefined>();
      for (const id of new Set(jobs.map((job) => job.dataSourceId))) {
        tags.set(
          id,
          await directory.getTags(id).catch((error: unknown) => {
            if (isAppError(error) && error.httpStatus === 404) return undefined;
            throw error;
          }),
        );
      }
      return jobs.map((job) => {
        const datasourceTags = tags.get(job.dataSourceId);
        return datasourceTags ? { job, datasourceTags } : { job };
      });
    },

    /**
     * Records the jobs a watcher pass listed in the job history and raises the alarms the history
     * shows (stuck jobs, anomalous backups); answers which of the jobs ending had been reported
     * stuck, so that their end is published as such.
     */
    [activityNames.recordJobHistory]: async (
      input: RecordJobHistoryInput,
      log: EventLogger,
    ): Promise<RecordedJobs> => {
      if (!deps.history) return { alarms: [], stuckEnded: [] };
      const recorded = await recordWatchedJobs(
        {
          history: deps.history,
          events: deps.events,
          eventSource: deps.eventSource,
          config: deps.config ?? {},
          directory,
          ...(deps.drills ? { drills: deps.drills } : {}),
        },
        input.jobs,
        input.at,
      );
      for (const alarm of recorded.alarms) {
        log.emit(logEvents.alarmRaised, {
          cloudEventId: alarm.id,
          eventType: alarm.type,
          subject: alarm.subject,
        });
      }
      return recorded;
    },

    ...limitActivities(deps.provider.limits),

    ...drillActivities({
      ...deps,
      maxConcurrentDrills: deps.config?.DRILL_MAX_CONCURRENT ?? defaultMaxConcurrentDrills,
    }),
  });
}

/** The activities, by name. */
export type Activities = ReturnType<typeof createActivities>;

declare module "./names.js" {
  /** The signatures `names.ts` reads calls from: the activities built here. */
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- only merges Activities in
  interface ActivitySignatures extends Activities {}
}
