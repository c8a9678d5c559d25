/**
 * The catalogue of pgprotect's log events: every line the app logs is one of these, with a
 * stable name and id, a level, a fixed set of typed properties and a message template, so that a
 * query keys on names and properties, never on message text.
 *
 * @remarks Modelled on durabletask-js `worker/logs.ts`. Ids are grouped by area and never reused:
 * 100 host, 200 HTTP, 300 orchestrations, 400 activities, 500 events, 600 notifications,
 * 700 timers and Event Grid triggers, 800 the Azure provider, 900 the local provider.
 *
 * Properties are declared here as data (`"string"`, `"number?"`, ...), and their types follow
 * from the declaration. A property named like a secret (a password, connection string, key,
 * token, webhook, credential, signature) does not compile, and values are primitives only, so a
 * settings object or a connection's parameters cannot be logged whole.
 */

/** The levels of the Functions host, as `host.json` and Application Insights name them. */
export type LogLevel = "trace" | "debug" | "information" | "warning" | "error";

/** The kind of one property: a string, number, boolean or list of strings; `?` when optional. */
export type PropertyKind = "string" | "number" | "boolean" | "strings";

/** A property's declaration: its kind, and `?` when it may be absent. */
export type PropertySpec = PropertyKind | `${PropertyKind}?`;

/** The properties an event declares, by name. */
export type PropertySpecs = Readonly<Record<string, PropertySpec>>;

/** A value a property may hold: primitives and lists of strings, never objects. */
export type LogValue = string | number | boolean | readonly string[] | undefined;

/** Words that mark a property name as holding a secret (compared in lower case). */
export const secretNameParts = [
  "password",
  "passwd",
  "pwd",
  "connectionstring",
  "secret",
  "token",
  "apikey",
  "accesskey",
  "accountkey",
  "credential",
  "signature",
  "webhook",
  "authorization",
  "cookie",
] as const;

type SecretNamePart = (typeof secretNameParts)[number];

/**
 * Whether a property name names a secret: it contains one of {@link secretNameParts}, or ends in
 * `key` (`masterKey`, `functionKey`).
 */
export type IsSecretName<K> = K extends string
  ? Lowercase<K> extends `${string}${SecretNamePart}${string}` | `${string}key`
    ? true
    : false
  : false;

/** The same test at run time (the catalogue's tests apply it to every event). */
export function isSecretName(name: string): boolean {
  const lower = name.toLowerCase();
  return secretNameParts.some((part) => lower.includes(part)) || lower.endsWith("key");
}

/**
 * Names every event carries already, which no event declares: its id in the catalogue and the
 * correlation (see `Correlation` in `eventLogger.ts`).
 */
export const reservedPropertyNames = [
  "eventId",
  "operationId",
  "invocationId",
  "traceparent",
  "requestInvocationId",
  "requestTraceparent",
] as const;

type ReservedName = (typeof reservedPropertyNames)[number];

/**
 * Declarations an event may make: a name that names a secret, or one every event carries
 * already, maps to `never`.
 */
export type Declarable<S> = {
  readonly [K in keyof S]: IsSecretName<K> extends true
    ? never
    : K extends ReservedName
      ? never
      : PropertySpec;
};

type ValueOfSpec<T> = T extends "string" | "string?"
  ? string
  : T extends "number" | "number?"
    ? number
    : T extends "boolean" | "boolean?"
      ? boolean
      : readonly string[];

type RequiredNames<S> = {
  [K in keyof S]: S[K] extends `${string}?` ? never : K;
}[keyof S];

/** The properties an event with declarations `S` is emitted with. */
export type PropertiesOf<S> = {
  readonly [K in RequiredNames<S>]: ValueOfSpec<S[K]>;
} & {
  readonly [K in Exclude<keyof S, RequiredNames<S>>]?: ValueOfSpec<S[K]> | undefined;
};

/** One named log event. */
export interface LogEventDefinition<S extends PropertySpecs = PropertySpecs> {
  /** Stable and unique across the catalogue (see the ranges above). */
  readonly id: number;
  /** Stable, dotted, starting `PgProtect.`: what queries key on. */
  readonly name: `PgProtect.${string}`;
  readonly level: LogLevel;
  /** The message, with `{property}` placeholders for declared properties. */
  readonly message: string;
  /** The fixed set of properties, beside the correlation every event carries. */
  readonly properties: S;
}

/**
 * Declares one event. A property whose name names a secret, or is one of
 * {@link reservedPropertyNames}, fails to compile.
 *
 * @param definition - the event's id, name, level, message template and properties.
 */
export function defineLogEvent<const S extends PropertySpecs & Declarable<S>>(
  definition: LogEventDefinition<S>,
): LogEventDefinition<S> {
  return definition;
}

/** Every event pgprotect logs. */
export const logEvents = {
  // 100: the host and the app's start.
  localProviderReady: defineLogEvent({
    id: 100,
    name: "PgProtect.Host.LocalProviderReady",
    level: "information",
    message: "The local provider is ready (state in {stateDir})",
    properties: { stateDir: "string" },
  }),
  localProviderUnavailable: defineLogEvent({
    id: 101,
    name: "PgProtect.Host.LocalProviderUnavailable",
    level: "error",
    message: "The local provider could not start: {errorMessage}. {recommendedAction}",
    properties: { errorCode: "string?", errorMessage: "string", recommendedAction: "string" },
  }),
  notificationStateLocal: defineLogEvent({
    id: 102,
    name: "PgProtect.Host.NotificationStateLocal",
    level: "warning",
    message:
      "Notification delivery state is kept in {folder}, so de-duplication holds for this instance only: {reason}",
    properties: { folder: "string", reason: "string" },
  }),

  // 200: HTTP requests.
  requestFailed: defineLogEvent({
    id: 200,
    name: "PgProtect.Http.RequestFailed",
    level: "error",
    message: "{functionName} failed: {errorMessage}",
    properties: {
      functionName: "string",
      path: "string",
      status: "number",
      errorCode: "string?",
      errorMessage: "string",
      errorStack: "string?",
    },
  }),
  protectionRequested: defineLogEvent({
    id: 201,
    name: "PgProtect.Protection.Requested",
    level: "information",
    message: "Protection of {target} requested: operation {operationId} is {status}",
    properties: {
      target: "string",
      orchestration: "string",
      status: "string",
      existing: "boolean",
      requestedBy: "string?",
    },
  }),
  backupRequested: defineLogEvent({
    id: 202,
    name: "PgProtect.Backup.Requested",
    level: "information",
    message: "Backup of {backupInstanceName} requested: job {jobName}",
    properties: {
      backupInstanceName: "string",
      vaultId: "string",
      jobName: "string",
      requestedBy: "string?",
    },
  }),
  backupNotFollowed: defineLogEvent({
    id: 203,
    name: "PgProtect.Backup.NotFollowed",
    level: "warning",
    message:
      "The backup job {jobName} runs, but the orchestration following it did not start: {errorMessage}",
    properties: { jobName: "string", backupInstanceName: "string", errorMessage: "string" },
  }),
  protectionLimitsWarned: defineLogEvent({
    id: 212,
    name: "PgProtect.Protection.LimitsWarned",
    level: "warning",
    message:
      "Protection of {target} started with warnings about the service's limits {limits} (not checked: {unchecked})",
    properties: { target: "string", limits: "strings", unchecked: "strings" },
  }),
  protectionDatabaseSkipped: defineLogEvent({
    id: 231,
    name: "PgProtect.Protection.DatabaseSkipped",
    level: "warning",
    message:
      "The database {databaseName} of {target} was left out of the server's protection: it breaks the service's limit {errorCode}",
    properties: { target: "string", databaseName: "string", errorCode: "string" },
  }),
  lifecycleRequested: defineLogEvent({
    id: 204,
    name: "PgProtect.Lifecycle.Requested",
    level: "information",
    message: "{action} of {backupInstanceName} requested while {state}: {outcome}",
    properties: {
      action: "string",
      backupInstanceName: "string",
      vaultName: "string",
      state: "string",
      outcome: "string",
      requestedBy: "string?",
    },
  }),

  restoreRequested: defineLogEvent({
    id: 221,
    name: "PgProtect.Restore.Requested",
    level: "information",
    message:
      "Restore of {backupInstanceName} to {targetKind} requested: job {jobName}, followed by {restoreId}",
    properties: {
      backupInstanceName: "string",
      vaultId: "string",
      jobName: "string",
      restoreId: "string",
      targetKind: "string",
      requestedBy: "string?",
    },
  }),
  restoreNotFollowed: defineLogEvent({
    id: 222,
    name: "PgProtect.Restore.NotFollowed",
    level: "warning",
    message:
      "The restore job {jobName} runs, but the orchestration following it did not start: {errorMessage}",
    properties: { jobName: "string", backupInstanceName: "string", errorMessage: "string" },
  }),
  vaultPostureUnreadable: defineLogEvent({
    id: 240,
    name: "PgProtect.Vault.PostureUnreadable",
    level: "warning",
    message: "The security settings of the vault {vaultName} could not be read: {errorMessage}",
    properties: { vaultName: "string", errorCode: "string", errorMessage: "string" },
  }),

  // 300: orchestrations (logged replay-safely: once, not on every replay).
  orchestrationStarted: defineLogEvent({
    id: 300,
    name: "PgProtect.Orchestration.Started",
    level: "information",
    message: "{orchestration} {operationId} started",
    properties: { orchestration: "string", target: "string?", parentOperationId: "string?" },
  }),
  orchestrationStepCompleted: defineLogEvent({
    id: 301,
    name: "PgProtect.Orchestration.StepCompleted",
    level: "information",
    message: "{orchestration} {operationId}: step {step} {status}",
    properties: {
      orchestration: "string",
      step: "string",
      status: "string",
      detail: "string?",
    },
  }),
  orchestrationWaiting: defineLogEvent({
    id: 302,
    name: "PgProtect.Orchestration.Waiting",
    level: "information",
    message: "{orchestration} {operationId}: {step} waits until {until}",
    properties: { orchestration: "string", step: "string", until: "string", attempt: "number?" },
  }),
  orchestrationCompleted: defineLogEvent({
    id: 303,
    name: "PgProtect.Orchestration.Completed",
    level: "information",
    message: "{orchestration} {operationId} ended: {outcome}",
    properties: { orchestration: "string", outcome: "string", detail: "string?" },
  }),
  orchestrationFailed: defineLogEvent({
    id: 304,
    name: "PgProtect.Orchestration.Failed",
    level: "warning",
    message: "{orchestration} {operationId} ended {outcome}: {errorCode} {errorMessage}",
    properties: {
      orchestration: "string",
      outcome: "string",
      step: "string?",
      errorCode: "string",
      errorMessage: "string",
    },
  }),

  // 400: activities.
  activityStarted: defineLogEvent({
    id: 400,
    name: "PgProtect.Activity.Started",
    level: "information",
    message: "Activity {activity} of {operationId} started",
    properties: { activity: "string" },
  }),
  activityCompleted: defineLogEvent({
    id: 401,
    name: "PgProtect.Activity.Completed",
    level: "information",
    message: "Activity {activity} of {operationId} completed in {durationMs} ms",
    properties: { activity: "string", durationMs: "number" },
  }),
  activityDeclined: defineLogEvent({
    id: 402,
    name: "PgProtect.Activity.Declined",
    level: "warning",
    message: "Activity {activity} of {operationId} answered {errorCode}: {errorMessage}",
    properties: {
      activity: "string",
      durationMs: "number",
      errorCode: "string",
      errorMessage: "string",
    },
  }),
  activityFailed: defineLogEvent({
    id: 403,
    name: "PgProtect.Activity.Failed",
    level: "error",
    message: "Activity {activity} of {operationId} failed (retried when transient): {errorMessage}",
    properties: {
      activity: "string",
      durationMs: "number",
      errorCode: "string?",
      errorMessage: "string",
      retryable: "boolean?",
    },
  }),

  // 500: the CloudEvents the app publishes.
  eventPublished: defineLogEvent({
    id: 500,
    name: "PgProtect.Event.Published",
    level: "information",
    message: "Published {eventType} {cloudEventId} for {subject}",
    properties: { cloudEventId: "string", eventType: "string", subject: "string" },
  }),
  alarmRaised: defineLogEvent({
    id: 510,
    name: "PgProtect.Alarm.Raised",
    level: "warning",
    message: "Raised {eventType} {cloudEventId} for {subject}",
    properties: { cloudEventId: "string", eventType: "string", subject: "string" },
  }),
  jobHistoryUnavailable: defineLogEvent({
    id: 511,
    name: "PgProtect.JobHistory.Unavailable",
    level: "warning",
    message:
      "Job {jobId} was not recorded in the job history ({errorMessage}); the job watcher records it on its next pass",
    properties: { jobId: "string", errorMessage: "string" },
  }),

  // 600: notifications.
  notificationIgnored: defineLogEvent({
    id: 600,
    name: "PgProtect.Notification.Ignored",
    level: "warning",
    message: "Event {cloudEventId} ignored: {errorMessage}",
    properties: { cloudEventId: "string", errorCode: "string?", errorMessage: "string" },
  }),
  notificationRouted: defineLogEvent({
    id: 601,
    name: "PgProtect.Notification.Routed",
    level: "information",
    message: "Event {cloudEventId} ({eventType}): {deliveries}",
    properties: { cloudEventId: "string", eventType: "string", deliveries: "strings" },
  }),
  notificationNotDelivered: defineLogEvent({
    id: 602,
    name: "PgProtect.Notification.NotDelivered",
    level: "error",
    message: "Event {cloudEventId} ({eventType}) was not delivered everywhere: {errorMessage}",
    properties: {
      cloudEventId: "string",
      eventType: "string",
      errorCode: "string?",
      errorMessage: "string",
    },
  }),
  notificationRedelivery: defineLogEvent({
    id: 603,
    name: "PgProtect.Notification.Redelivery",
    level: "warning",
    message: "Event {cloudEventId} ({eventType}) will be delivered again: {errorMessage}",
    properties: {
      cloudEventId: "string",
      eventType: "string",
      errorCode: "string?",
      errorMessage: "string",
    },
  }),
  notificationDigestsFlushed: defineLogEvent({
    id: 604,
    name: "PgProtect.Notification.DigestsFlushed",
    level: "information",
    message: "Digests: {deliveries}",
    properties: { deliveries: "strings" },
  }),
  monitorAlertRouted: defineLogEvent({
    id: 620,
    name: "PgProtect.MonitorAlert.Routed",
    level: "information",
    message:
      "Azure Monitor alert {alertId} ({alertRule}, {monitorCondition}) as {eventType} {cloudEventId}: {deliveries}",
    properties: {
      alertId: "string",
      alertRule: "string",
      monitorCondition: "string",
      cloudEventId: "string",
      eventType: "string",
      deliveries: "strings",
    },
  }),
  monitorAlertIgnored: defineLogEvent({
    id: 621,
    name: "PgProtect.MonitorAlert.Ignored",
    level: "information",
    message: "Azure Monitor alert {alertId} ({alertRule}) not routed: {reason}",
    properties: { alertId: "string", alertRule: "string", reason: "string" },
  }),
  monitorAlertNotDelivered: defineLogEvent({
    id: 622,
    name: "PgProtect.MonitorAlert.NotDelivered",
    level: "warning",
    message:
      "Azure Monitor alert {alertId} as {eventType} {cloudEventId} was not delivered everywhere: {errorMessage}",
    properties: {
      alertId: "string",
      cloudEventId: "string",
      eventType: "string",
      errorCode: "string?",
      errorMessage: "string",
    },
  }),
  monitorAlertJobUnread: defineLogEvent({
    id: 623,
    name: "PgProtect.MonitorAlert.JobUnread",
    level: "warning",
    message:
      "Azure Monitor alert {alertId}: the failed job {jobId} could not be read ({errorMessage}); the alert is routed as it came",
    properties: {
      alertId: "string",
      jobId: "string",
      errorCode: "string?",
      errorMessage: "string",
    },
  }),

  // 700: timers and Event Grid triggers.
  autoProtectIgnored: defineLogEvent({
    id: 700,
    name: "PgProtect.AutoProtect.Ignored",
    level: "information",
    message: "Event {cloudEventId} ignored: {reason}",
    properties: { cloudEventId: "string", reason: "string" },
  }),
  autoProtectExisting: defineLogEvent({
    id: 701,
    name: "PgProtect.AutoProtect.Existing",
    level: "information",
    message: "Event {cloudEventId}: protection {operationId} is already {status}",
    properties: { cloudEventId: "string", status: "string" },
  }),
  autoProtectStarted: defineLogEvent({
    id: 702,
    name: "PgProtect.AutoProtect.Started",
    level: "information",
    message:
      "Event {cloudEventId}: protecting {datasourceId} with policy {policyName} ({operationId})",
    properties: { cloudEventId: "string", datasourceId: "string", policyName: "string" },
  }),
  reconcileProtection: defineLogEvent({
    id: 710,
    name: "PgProtect.Reconcile.Unprotected",
    level: "information",
    message: "Reconciliation: {datasourceId} is tagged and unprotected: {action}",
    properties: { datasourceId: "string", action: "string" },
  }),
  reconcileOverdue: defineLogEvent({
    id: 711,
    name: "PgProtect.Reconcile.BackupOverdue",
    level: "warning",
    message: "Reconciliation: {subject} is overdue ({cloudEventId})",
    properties: { subject: "string", cloudEventId: "string" },
  }),
  planFailed: defineLogEvent({
    id: 720,
    name: "PgProtect.Plan.Failed",
    level: "error",
    message: "Backup plan {plan} ({occurrence}) failed: {errorMessage}",
    properties: { plan: "string", occurrence: "string?", errorMessage: "string" },
  }),
  planStarted: defineLogEvent({
    id: 721,
    name: "PgProtect.Plan.Started",
    level: "information",
    message: "Backup plan {plan} ({occurrence}) started {operationIds}",
    properties: { plan: "string", occurrence: "string?", operationIds: "strings" },
  }),
  planDeferred: defineLogEvent({
    id: 722,
    name: "PgProtect.Plan.Deferred",
    level: "information",
    message:
      "Backup plan {plan} ({occurrence}) deferred {backupInstanceName}: its backup job {runningJob} runs; a later tick within the catch-up window starts it",
    properties: {
      plan: "string",
      occurrence: "string?",
      backupInstanceName: "string",
      runningJob: "string",
    },
  }),
  planInstanceFailed: defineLogEvent({
    id: 723,
    name: "PgProtect.Plan.InstanceFailed",
    level: "error",
    message:
      "Backup plan {plan} ({occurrence}) could not start the backup of {backupInstanceName}: {errorMessage}; the plan's other backups went on",
    properties: {
      plan: "string",
      occurrence: "string?",
      backupInstanceName: "string",
      errorMessage: "string",
    },
  }),
  jobWatcherSkipped: defineLogEvent({
    id: 730,
    name: "PgProtect.JobWatcher.Skipped",
    level: "debug",
    message: "Job watcher: {reason}",
    properties: { reason: "string" },
  }),
  localResourcesPublished: defineLogEvent({
    id: 740,
    name: "PgProtect.LocalResources.Published",
    level: "information",
    message: "Published {count} resource write event(s) to the '{topic}' topic",
    properties: { count: "number", topic: "string" },
  }),
  localScheduleRan: defineLogEvent({
    id: 750,
    name: "PgProtect.LocalSchedule.Ran",
    level: "information",
    message: "{line}",
    properties: { line: "string" },
  }),
  localScheduleWarning: defineLogEvent({
    id: 751,
    name: "PgProtect.LocalSchedule.Warning",
    level: "warning",
    message: "{line}",
    properties: { line: "string" },
  }),
  drillScheduleFailed: defineLogEvent({
    id: 760,
    name: "PgProtect.DrillSchedule.Failed",
    level: "error",
    message: "Drill schedule {schedule} ({occurrence}) failed: {errorMessage}",
    properties: { schedule: "string", occurrence: "string?", errorMessage: "string" },
  }),
  drillScheduleStarted: defineLogEvent({
    id: 761,
    name: "PgProtect.DrillSchedule.Started",
    level: "information",
    message: "Drill schedule {schedule} ({occurrence}) started {drillIds}",
    properties: { schedule: "string", occurrence: "string?", drillIds: "strings" },
  }),
  drillEnded: defineLogEvent({
    id: 762,
    name: "PgProtect.Drill.Ended",
    level: "information",
    message:
      "Restore drill {drillId} of {backupInstanceName} ended {verdict} (time to restore {timeToRestoreMs} ms, {errorCode})",
    properties: {
      drillId: "string",
      backupInstanceName: "string",
      verdict: "string",
      timeToRestoreMs: "number?",
      errorCode: "string?",
    },
  }),
  drillLeftoverRemoved: defineLogEvent({
    id: 763,
    name: "PgProtect.Drill.LeftoverRemoved",
    level: "warning",
    message:
      "Dropped the scratch target {scratchTarget}, left by a restore drill that a crash or a stop cut off",
    properties: { scratchTarget: "string" },
  }),
  drillAbandoned: defineLogEvent({
    id: 765,
    name: "PgProtect.Drill.Abandoned",
    level: "warning",
    message:
      "Ended the restore drill {drillId} of {backupInstanceName} as failed: its orchestration ({runtimeStatus}) never recorded its end",
    properties: { drillId: "string", backupInstanceName: "string", runtimeStatus: "string" },
  }),
  drillSweepFailed: defineLogEvent({
    id: 764,
    name: "PgProtect.Drill.SweepFailed",
    level: "warning",
    message:
      "Could not look for scratch targets left by cut-off drills ({errorMessage}); the next tick tries again",
    properties: { errorMessage: "string" },
  }),

  // 800: the Azure provider.
  azureLostAnswerAdopted: defineLogEvent({
    id: 800,
    name: "PgProtect.Azure.LostAnswerAdopted",
    level: "warning",
    message:
      "{operation} for {subject}: the answer was lost ({reason}); adopted what the request started",
    properties: { operation: "string", subject: "string", reason: "string" },
  }),
  azureLostAnswerResent: defineLogEvent({
    id: 801,
    name: "PgProtect.Azure.LostAnswerResent",
    level: "warning",
    message:
      "{operation} for {subject}: the answer was lost ({reason}) and nothing was started; sending it again (send {send} of {maxSends})",
    properties: {
      operation: "string",
      subject: "string",
      reason: "string",
      send: "number",
      maxSends: "number",
    },
  }),
  azureThrottled: defineLogEvent({
    id: 802,
    name: "PgProtect.Azure.Throttled",
    level: "information",
    message:
      "Resource Manager throttled {method} {path} (HTTP {status}); waiting {waitMs} ms (attempt {attempt})",
    properties: {
      method: "string",
      path: "string",
      status: "number",
      waitMs: "number",
      attempt: "number",
    },
  }),
  azureThrottlingGaveUp: defineLogEvent({
    id: 803,
    name: "PgProtect.Azure.ThrottlingGaveUp",
    level: "warning",
    message:
      "Resource Manager throttled {method} {path} (HTTP {status}) for {waitMs} ms more after {waitedMs} ms of waiting; answering the throttling, the bound being {maxWaitMs} ms",
    properties: {
      method: "string",
      path: "string",
      status: "number",
      waitMs: "number",
      waitedMs: "number",
      maxWaitMs: "number",
    },
  }),

  // 900: the local provider.
  localRecoveryFailed: defineLogEvent({
    id: 900,
    name: "PgProtect.Local.RecoveryFailed",
    level: "error",
    message: "Interrupted jobs could not be recovered: {errorMessage}",
    properties: { errorMessage: "string" },
  }),
} as const;

/** The name of an event in {@link logEvents}. */
export type LogEventKey = keyof typeof logEvents;
