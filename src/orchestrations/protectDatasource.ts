/**
 * `protectDatasource`: put one datasource under backup, or answer the protection it already has.
 * Deterministic: time from `context.df.currentUtcDateTime`, waits through durable timers, all
 * I/O in activities.
 */
import type { OrchestrationContext, Task } from "durable-functions";
import { z } from "zod";
import {
  activityNames,
  type ActivityResult,
  type DatasourceRef,
  type EventRequest,
  type ResolvedDatasource,
} from "../activities/names.js";
import { ErrorCodes, normalizeCode, type ErrorCode } from "../domain/errorCodes.js";
import { backupInstanceNameOf } from "../domain/protection/naming.js";
import { failureMessage, OrchestrationErrorCodes } from "../domain/protection/outcomeCodes.js";
import type { EventLogger, RequestCorrelation } from "../observability/eventLogger.js";
import { logEvents } from "../observability/logEvents.js";
import { replaySafeLogger } from "../observability/orchestrationLogger.js";
import { callActivity } from "./callActivity.js";
import { orchestrationNames } from "./names.js";
import { orchestrationInput, requestCorrelationSchema } from "./orchestrationInput.js";
import { protectionPolling, validationRetry } from "./retryPolicies.js";
import type { OrchestrationContract } from "./subOrchestration.js";

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
  /** The request that started the protection, named in the logs of its steps and activities. */
  readonly correlation?: RequestCorrelation;
}

const datasourceRefSchema = z.object({
  datasourceId: z.string().optional(),
  serverName: z.string().optional(),
  databaseName: z.string().optional(),
}) satisfies z.ZodType<DatasourceRef>;

/** A datasource as a resolve step or a fan-out found it. */
export const resolvedDatasourceSchema = z.object({
  datasourceId: z.string(),
  kind: z.enum(["database", "server"]),
  datasourceType: z.string(),
  serverName: z.string(),
  databaseName: z.string().optional(),
  friendlyName: z.string(),
  location: z.string(),
  tags: z.record(z.string(), z.string()),
}) satisfies z.ZodType<ResolvedDatasource>;

/** The input's schema: what `orchestrationInput` checks. */
export const protectDatasourceInputSchema = z.object({
  datasource: datasourceRefSchema,
  vaultId: z.string(),
  policyName: z.string(),
  secretUri: z.string().optional(),
  requestedBy: z.string().optional(),
  resolved: resolvedDatasourceSchema.optional(),
  correlation: requestCorrelationSchema.optional(),
}) satisfies z.ZodType<ProtectDatasourceInput>;

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
    readonly code: ErrorCode;
    /** The service's own code, where the failure came from it. */
    readonly serviceCode?: string;
    readonly message: string;
    readonly recommendedAction?: string;
  };
  /** Why the `PgProtect.Protection.Failed` event of a failed protection is missing. */
  readonly eventNotPublished?: string;
}

/** The orchestration's output. */
export interface ProtectDatasourceOutput {
  readonly outcome: "Protected" | "AlreadyProtected" | "Failed";
  readonly datasourceId?: string;
  readonly backupInstanceName?: string;
  readonly backupInstanceId?: string;
  readonly error?: {
    readonly code: ErrorCode;
    /** The service's own code, where the failure came from it. */
    readonly serviceCode?: string;
    readonly message: string;
    readonly recommendedAction?: string;
  };
}

const statedErrorSchema = z.object({
  // An older history may hold a code from before the catalogue.
  code: z.string().transform((code) => normalizeCode(code).code),
  serviceCode: z.string().optional(),
  message: z.string(),
  recommendedAction: z.string().optional(),
});

/** The output's schema: what a parent reads a child's answer with. */
export const protectDatasourceOutputSchema = z.object({
  outcome: z.enum(["Protected", "AlreadyProtected", "Failed"]),
  datasourceId: z.string().optional(),
  backupInstanceName: z.string().optional(),
  backupInstanceId: z.string().optional(),
  error: statedErrorSchema.optional(),
}) satisfies z.ZodType<ProtectDatasourceOutput, unknown>;

/** `protectDatasource` as a child of `protectServer`. */
export const protectDatasourceContract: OrchestrationContract<
  ProtectDatasourceInput,
  ProtectDatasourceOutput
> = { name: orchestrationNames.protectDatasource, output: protectDatasourceOutputSchema };

/**
 * The service's code (`ProviderErrorCodes.missingRequiredPermissions`) for access that is not
 * there yet; orchestrations do not import providers, so it is named here.
 */
const permissionsStillPropagating = ErrorCodes.MISSING_REQUIRED_PERMISSIONS;

/** An error as `GET /api/protections/{id}` and the Failed event show it. */
type StatedError = NonNullable<ProtectDatasourceOutput["error"]>;

/**
 * The orchestrator function.
 *
 * @remarks The instance id is derived from the datasource id by the starter, so asking twice for
 * the same datasource reaches the same instance and never creates a second backup instance.
 * Whatever ends it, it ends with a stated outcome: an expected failure, an activity that still
 * fails after its retries, or any other exception is caught, shown as the failed step's error
 * and announced once in `PgProtect.Protection.Failed` (the event id is derived from the
 * operation and the code, so a replay publishes the same event).
 */
export function* protectDatasource(
  context: OrchestrationContext,
): Generator<Task, ProtectDatasourceOutput, unknown> {
  const input = orchestrationInput(context, protectDatasourceInputSchema);
  const log = replaySafeLogger(context, input.correlation);
  const orchestration = orchestrationNames.protectDatasource;
  log.emit(logEvents.orchestrationStarted, {
    orchestration,
    target: input.datasource.datasourceId ?? input.resolved?.datasourceId,
    parentOperationId: context.df.parentInstanceId ?? undefined,
  });
  const steps: ProtectionStepState[] = [];
  const now = () => context.df.currentUtcDateTime.toISOString();
  // What is known so far, for the failure of any later step.
  const known: {
    datasourceId?: string;
    backupInstance?: { name: string; id: string };
  } = input.datasource.datasourceId ? { datasourceId: input.datasource.datasourceId } : {};
  const enter = (name: ProtectionStepState["name"]) => {
    steps.push({ name, status: "running", at: now() });
    context.df.setCustomStatus({ steps: [...steps], current: name } satisfies ProtectionProgress);
  };
  const finish = (status: ProtectionStepState["status"], detail?: string) => {
    const last = steps.at(-1);
    if (last?.status === "running") {
      steps[steps.length - 1] = { ...last, status, at: now(), ...(detail ? { detail } : {}) };
      log.emit(logEvents.orchestrationStepCompleted, {
        orchestration,
        step: last.name,
        status,
        detail,
      });
    }
    context.df.setCustomStatus({ steps: [...steps] } satisfies ProtectionProgress);
  };
  const publish = function* (event: EventRequest): Generator<Task, void, unknown> {
    yield* callActivity(context, activityNames.publishEvents, [event]);
  };
  const fail = function* (failure: {
    code: ErrorCode;
    serviceCode?: string;
    message: string;
    recommendedAction?: string;
  }): Generator<Task, ProtectDatasourceOutput, unknown> {
    const error: StatedError = {
      code: failure.code,
      ...(failure.serviceCode ? { serviceCode: failure.serviceCode } : {}),
      message: failure.message,
      ...(failure.recommendedAction ? { recommendedAction: failure.recommendedAction } : {}),
    };
    const failedStep = steps.at(-1)?.name;
    finish("failed", error.message);
    context.df.setCustomStatus({ steps: [...steps], error } satisfies ProtectionProgress);
    const { datasourceId, backupInstance } = known;
    if (datasourceId) {
      try {
        yield* publish({
          kind: "protectionFailed",
          datasourceId,
          vaultId: input.vaultId,
          policyName: input.policyName,
          ...(failedStep ? { failedStep } : {}),
          ...(backupInstance
            ? { backupInstance: { id: backupInstance.id, friendlyName: backupInstance.name } }
            : {}),
          operationId: context.df.instanceId,
          error,
          time: now(),
        });
      } catch (publishError) {
        // The outcome stands without its event; the status says the event is missing.
        context.df.setCustomStatus({
          steps: [...steps],
          error,
          eventNotPublished: failureMessage(publishError),
        } satisfies ProtectionProgress);
      }
    }
    return {
      outcome: "Failed",
      ...(datasourceId ? { datasourceId } : {}),
      ...(backupInstance
        ? { backupInstanceName: backupInstance.name, backupInstanceId: backupInstance.id }
        : {}),
      error,
    };
  };

  let output: ProtectDatasourceOutput;
  try {
    output = yield* runSteps(context, input, { enter, finish, fail, publish, known, log });
  } catch (error) {
    output = yield* fail(unexpectedFailure(steps.at(-1), error, known.backupInstance));
  }
  if (output.error) {
    log.emit(logEvents.orchestrationFailed, {
      orchestration,
      outcome: output.outcome,
      step: steps.find((step) => step.status === "failed")?.name,
      errorCode: output.error.code,
      errorMessage: output.error.message,
    });
  } else {
    log.emit(logEvents.orchestrationCompleted, {
      orchestration,
      outcome: output.outcome,
      detail: output.backupInstanceName,
    });
  }
  return output;
}

/** What the steps share with the orchestrator around them. */
interface StepTools {
  readonly enter: (name: ProtectionStepState["name"]) => void;
  readonly finish: (status: ProtectionStepState["status"], detail?: string) => void;
  readonly fail: (failure: {
    code: ErrorCode;
    message: string;
    recommendedAction?: string;
  }) => Generator<Task, ProtectDatasourceOutput, unknown>;
  readonly publish: (event: EventRequest) => Generator<Task, void, unknown>;
  readonly known: { datasourceId?: string; backupInstance?: { name: string; id: string } };
  readonly log: EventLogger;
}

/** The error stated for a step that threw: an activity out of retries, or anything unforeseen. */
function unexpectedFailure(
  step: ProtectionStepState | undefined,
  error: unknown,
  backupInstance: { name: string } | undefined,
): StatedError {
  const cause = failureMessage(error);
  if (step?.name === "publish" && backupInstance) {
    return {
      code: OrchestrationErrorCodes.configuredEventNotPublished,
      message: `The backup instance ${backupInstance.name} is configured, but its PgProtect.Protection.Configured event could not be published: ${cause}`,
      recommendedAction:
        "The datasource is protected (GET /api/backup-instances lists it); check the event publisher's settings (EVENTGRID_TOPIC_ENDPOINT) so that later events reach their subscribers",
    };
  }
  return {
    code: OrchestrationErrorCodes.stepFailed,
    message: `The step ${step?.name ?? "start"} failed${backupInstance ? ` after the backup instance ${backupInstance.name} was created` : ""}: ${cause}`,
    recommendedAction: backupInstance
      ? "Check the backup instance in the vault, then send the same request again: a protected datasource is answered as AlreadyProtected"
      : "Send the same request again once the cause is fixed: nothing was created",
  };
}

/** The steps of a protection, in order; an expected failure ends them through `fail`. */
function* runSteps(
  context: OrchestrationContext,
  input: ProtectDatasourceInput,
  { enter, finish, fail, publish, known, log }: StepTools,
): Generator<Task, ProtectDatasourceOutput, unknown> {
  enter("resolve");
  let datasource: ResolvedDatasource;
  if (input.resolved) {
    datasource = input.resolved;
  } else {
    const resolved = yield* callActivity(
      context,
      activityNames.resolveDatasource,
      input.datasource,
    );
    if (!resolved.ok) return yield* fail(resolved);
    datasource = resolved.value;
  }
  known.datasourceId = datasource.datasourceId;
  finish("done", datasource.datasourceId);

  enter("checkExisting");
  const existing = yield* callActivity(
    context,
    activityNames.findProtection,
    datasource.datasourceId,
  );
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
  const access = yield* callActivity(context, activityNames.verifyAccess, request);
  if (!access.ok) return yield* fail(access);
  finish("done", access.value.join("; "));

  enter("ensurePolicy");
  const policy = yield* callActivity(context, activityNames.ensurePolicy, {
    vaultId: input.vaultId,
    policyName: input.policyName,
    datasourceType: datasource.datasourceType,
  });
  if (!policy.ok) return yield* fail(policy);
  finish("done", policy.value);

  // Role assignments take minutes to propagate; a permissions failure right after granting them
  // is expected. Bounded by validationRetry: when the attempts run out, the last answer stands.
  enter("validateForBackup");
  let validation: ActivityResult<string[]> | undefined;
  let attempts = 0;
  for (let attempt = 1; attempt <= validationRetry.attempts; attempt += 1) {
    attempts = attempt;
    validation = yield* callActivity(context, activityNames.validateForBackup, request);
    if (validation.ok || validation.code !== permissionsStillPropagating) break;
    if (attempt === validationRetry.attempts) break;
    const delayMs = validationRetry.firstDelaySeconds * 1000 * 2 ** (attempt - 1);
    const until = new Date(context.df.currentUtcDateTime.getTime() + delayMs);
    log.emit(logEvents.orchestrationWaiting, {
      orchestration: orchestrationNames.protectDatasource,
      step: "validateForBackup",
      until: until.toISOString(),
      attempt,
    });
    yield context.df.createTimer(until);
  }
  if (!validation?.ok) {
    const failure = validation ?? {
      code: OrchestrationErrorCodes.stepFailed,
      message: "validateForBackup did not run",
    };
    return yield* fail(
      attempts > 1
        ? { ...failure, message: `${failure.message} (still so after ${attempts} attempts)` }
        : failure,
    );
  }
  finish("done");

  enter("createBackupInstance");
  const backupInstanceName = instanceNameFor(
    datasource,
    context.df.newGuid(`${context.df.instanceId}:bi`),
  );
  const created = yield* callActivity(context, activityNames.createBackupInstance, {
    ...request,
    backupInstanceName,
  });
  if (!created.ok) return yield* fail(created);
  known.backupInstance = {
    name: created.value.backupInstanceName,
    id: created.value.backupInstanceId,
  };
  finish("done", created.value.backupInstanceName);

  // Bounded by protectionPolling: an instance still configuring after the last poll is reported
  // as timed out, not waited on.
  enter("waitForProtection");
  let protection = created.value;
  for (
    let poll = 0;
    protection.protectionStatus === "ConfiguringProtection" && poll < protectionPolling.maxPolls;
    poll += 1
  ) {
    const until = new Date(
      context.df.currentUtcDateTime.getTime() + protectionPolling.intervalSeconds * 1000,
    );
    log.emit(logEvents.orchestrationWaiting, {
      orchestration: orchestrationNames.protectDatasource,
      step: "waitForProtection",
      until: until.toISOString(),
      attempt: poll + 1,
    });
    yield context.df.createTimer(until);
    protection = yield* callActivity(context, activityNames.getBackupInstance, {
      vaultId: input.vaultId,
      backupInstanceName: protection.backupInstanceName,
    });
  }
  if (protection.protectionStatus !== "ProtectionConfigured") {
    const timedOut = protection.protectionStatus === "ConfiguringProtection";
    return yield* fail(
      protection.error ?? {
        code: timedOut
          ? OrchestrationErrorCodes.protectionTimedOut
          : OrchestrationErrorCodes.configuringProtectionFailed,
        message: timedOut
          ? `Protection of ${datasource.friendlyName} was still ConfiguringProtection after ${(protectionPolling.maxPolls * protectionPolling.intervalSeconds) / 60} minutes`
          : `Protection of ${datasource.friendlyName} ended as ${protection.protectionStatus}`,
        recommendedAction: "Check the backup instance in the vault and retry the request",
      },
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
    time: context.df.currentUtcDateTime.toISOString(),
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
  return backupInstanceNameOf(
    datasource.serverName,
    datasource.databaseName ?? datasource.serverName,
    guid,
  );
}

/** The orchestration instance id for protecting a datasource (see `domain/protection/operationIds.ts`). */
export { protectionInstanceId } from "../domain/protection/operationIds.js";
