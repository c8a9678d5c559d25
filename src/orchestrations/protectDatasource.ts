/**
 * `protectDatasource`: put one datasource under backup, or answer the protection it already has.
 * Deterministic: time from `context.df.currentUtcDateTime`, waits through durable timers, all
 * I/O in activities.
 */
import type { OrchestrationContext, Task } from "durable-functions";
import {
  activityNames,
  type ActivityResult,
  type DatasourceRef,
  type EventRequest,
  type ProtectionSummary,
  type ResolvedDatasource,
} from "../activities/names.js";
import { protectionPolling, transientRetry, validationRetry } from "./retryPolicies.js";

/** What a caller asks for. */
export interface ProtectDatasourceInput {
  readonly datasource: DatasourceRef;
  /** ARM id of the Backup vault. */
  readonly vaultId: string;
  readonly policyName: string;
  /** Key Vault style URI of the secret holding the connection string (database datasources). */
  readonly secretUri?: string;
  /** Who asked, for the audit trail in events. */
  readonly requestedBy?: string;
  /**
   * The datasource as a fan-out found it a moment ago (`protectServer`, a fleet): the resolve
   * step trusts it instead of looking it up again, one Resource Graph query less per datasource.
   */
  readonly resolved?: ResolvedDatasource;
}

/** The steps of a protection, in order. */
export const protectionSteps = [
  "resolve",
  "checkExisting",
  "verifyAccess",
  "ensurePolicy",
  "validateForBackup",
  "createBackupInstance",
  "waitForProtection",
  "publish",
] as const;

/** One step's state, as `GET /api/protections/{id}` shows it. */
export interface ProtectionStepState {
  readonly name: (typeof protectionSteps)[number];
  readonly status: "running" | "done" | "failed" | "skipped";
  readonly at: string;
  readonly detail?: string;
}

/** The custom status: steps so far, the current one, and the error when it failed. */
export interface ProtectionProgress {
  readonly steps: readonly ProtectionStepState[];
  readonly current?: string;
  readonly error?: {
    readonly code: string;
    readonly message: string;
    readonly recommendedAction?: string;
  };
}

/** The orchestration's output. */
export interface ProtectDatasourceOutput {
  readonly outcome: "Protected" | "AlreadyProtected" | "Failed";
  readonly datasourceId?: string;
  readonly backupInstanceName?: string;
  readonly backupInstanceId?: string;
  readonly error?: {
    readonly code: string;
    readonly message: string;
    readonly recommendedAction?: string;
  };
}

/**
 * The orchestrator function.
 *
 * @remarks The instance id is derived from the datasource id by the starter, so asking twice for
 * the same datasource reaches the same instance and never creates a second backup instance.
 */
export function* protectDatasource(
  context: OrchestrationContext,
): Generator<Task, ProtectDatasourceOutput, unknown> {
  const input = context.df.getInput() as ProtectDatasourceInput;
  const steps: ProtectionStepState[] = [];
  const now = () => context.df.currentUtcDateTime.toISOString();
  const enter = (name: ProtectionStepState["name"]) => {
    steps.push({ name, status: "running", at: now() });
    context.df.setCustomStatus({ steps: [...steps], current: name } satisfies ProtectionProgress);
  };
  const finish = (status: ProtectionStepState["status"], detail?: string) => {
    const last = steps.pop();
    if (last) steps.push({ ...last, status, at: now(), ...(detail ? { detail } : {}) });
    context.df.setCustomStatus({ steps: [...steps] } satisfies ProtectionProgress);
  };
  const publish = function* (event: EventRequest): Generator<Task, void, unknown> {
    yield context.df.callActivityWithRetry(activityNames.publishEvents, transientRetry(), [event]);
  };
  const fail = function* (
    error: { code: string; message: string; recommendedAction?: string },
    datasourceId?: string,
  ): Generator<Task, ProtectDatasourceOutput, unknown> {
    const failedStep = steps.at(-1)?.name;
    finish("failed", error.message);
    context.df.setCustomStatus({ steps: [...steps], error } satisfies ProtectionProgress);
    if (datasourceId) {
      yield* publish({
        kind: "protectionFailed",
        datasourceId,
        vaultId: input.vaultId,
        policyName: input.policyName,
        ...(failedStep ? { failedStep } : {}),
        operationId: context.df.instanceId,
        error: {
          code: error.code,
          message: error.message,
          ...(error.recommendedAction ? { recommendedAction: error.recommendedAction } : {}),
        },
        time: now(),
      });
    }
    return { outcome: "Failed", ...(datasourceId ? { datasourceId } : {}), error };
  };

  enter("resolve");
  let datasource: ResolvedDatasource;
  if (input.resolved) {
    datasource = input.resolved;
  } else {
    const resolved = (yield context.df.callActivityWithRetry(
      activityNames.resolveDatasource,
      transientRetry(),
      input.datasource,
    )) as ActivityResult<ResolvedDatasource>;
    if (!resolved.ok) return yield* fail(resolved);
    datasource = resolved.value;
  }
  finish("done", datasource.datasourceId);

  enter("checkExisting");
  const existing = (yield context.df.callActivityWithRetry(
    activityNames.findProtection,
    transientRetry(),
    datasource.datasourceId,
  )) as ProtectionSummary | null;
  if (existing) {
    finish("done", `already protected by ${existing.backupInstanceName}`);
    return {
      outcome: "AlreadyProtected",
      datasourceId: datasource.datasourceId,
      backupInstanceName: existing.backupInstanceName,
      backupInstanceId: existing.backupInstanceId,
    };
  }
  finish("done");

  const request = {
    vaultId: input.vaultId,
    policyName: input.policyName,
    datasource,
    ...(input.secretUri ? { secretUri: input.secretUri } : {}),
  };

  enter("verifyAccess");
  const access = (yield context.df.callActivityWithRetry(
    activityNames.verifyAccess,
    transientRetry(),
    request,
  )) as ActivityResult<string[]>;
  if (!access.ok) return yield* fail(access, datasource.datasourceId);
  finish("done", access.value.join("; "));

  enter("ensurePolicy");
  const policy = (yield context.df.callActivityWithRetry(
    activityNames.ensurePolicy,
    transientRetry(),
    {
      vaultId: input.vaultId,
      policyName: input.policyName,
      datasourceType: datasource.datasourceType,
    },
  )) as ActivityResult<string>;
  if (!policy.ok) return yield* fail(policy, datasource.datasourceId);
  finish("done", policy.value);

  // Role assignments take minutes to propagate; a permissions failure right after granting them is expected.
  enter("validateForBackup");
  let validation: ActivityResult<string[]> | undefined;
  for (let attempt = 1; attempt <= validationRetry.attempts; attempt += 1) {
    validation = (yield context.df.callActivityWithRetry(
      activityNames.validateForBackup,
      transientRetry(),
      request,
    )) as ActivityResult<string[]>;
    if (validation.ok || validation.code !== "UserErrorMissingRequiredPermissions") break;
    if (attempt === validationRetry.attempts) break;
    const delayMs = validationRetry.firstDelaySeconds * 1000 * 2 ** (attempt - 1);
    yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + delayMs));
  }
  if (!validation?.ok) {
    return yield* fail(
      validation ?? { code: "ValidationNotRun", message: "validateForBackup did not run" },
      datasource.datasourceId,
    );
  }
  finish("done");

  enter("createBackupInstance");
  const backupInstanceName = instanceNameFor(
    datasource,
    context.df.newGuid(`${context.df.instanceId}:bi`),
  );
  const created = (yield context.df.callActivityWithRetry(
    activityNames.createBackupInstance,
    transientRetry(),
    {
      ...request,
      backupInstanceName,
    },
  )) as ActivityResult<ProtectionSummary>;
  if (!created.ok) return yield* fail(created, datasource.datasourceId);
  finish("done", created.value.backupInstanceName);

  enter("waitForProtection");
  let protection = created.value;
  for (
    let poll = 0;
    protection.protectionStatus === "ConfiguringProtection" && poll < protectionPolling.maxPolls;
    poll += 1
  ) {
    yield context.df.createTimer(
      new Date(context.df.currentUtcDateTime.getTime() + protectionPolling.intervalSeconds * 1000),
    );
    protection = (yield context.df.callActivityWithRetry(
      activityNames.getBackupInstance,
      transientRetry(),
      {
        vaultId: input.vaultId,
        backupInstanceName: protection.backupInstanceName,
      },
    )) as ProtectionSummary;
  }
  if (protection.protectionStatus !== "ProtectionConfigured") {
    return yield* fail(
      protection.error ?? {
        code:
          protection.protectionStatus === "ConfiguringProtection"
            ? "ProtectionTimedOut"
            : "ConfiguringProtectionFailed",
        message: `Protection of ${datasource.friendlyName} ended as ${protection.protectionStatus}`,
        recommendedAction: "Check the backup instance in the vault and retry the request",
      },
      datasource.datasourceId,
    );
  }
  finish("done");

  enter("publish");
  yield* publish({
    kind: "protectionConfigured",
    vaultId: input.vaultId,
    backupInstanceName: protection.backupInstanceName,
    ...(protection.instance ? { instance: protection.instance } : {}),
    datasourceTags: datasource.tags,
  });
  finish("done");
  return {
    outcome: "Protected",
    datasourceId: datasource.datasourceId,
    backupInstanceName: protection.backupInstanceName,
    backupInstanceId: protection.backupInstanceId,
  };
}

/** `<server>-<db>-<uuid>` or, for a whole Flexible Server, `<server>-<server>-<uuid>`, as the service's tools name them. */
function instanceNameFor(datasource: ResolvedDatasource, guid: string): string {
  return `${datasource.serverName}-${datasource.databaseName ?? datasource.serverName}-${guid.toLowerCase()}`;
}

/**
 * The orchestration instance id for protecting a datasource: the same datasource always maps to
 * the same instance, whatever the id's letter case.
 */
export function protectionInstanceId(datasourceId: string): string {
  return `protect-${datasourceId
    .toLowerCase()
    .replace(/^\/+/, "")
    .replace(/[^a-z0-9.-]+/g, "-")}`;
}
