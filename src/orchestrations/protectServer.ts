/**
 * `protectServer`: protect every database of a server, a bounded number at a time, each through
 * its own `protectDatasource` instance, and summarise.
 *
 * @remarks Every wait is bounded: each batch waits for its protections at most
 * {@link ProtectServerInput.childTimeoutMinutes}; a protection still running then is reported in
 * `stuck` (its own operation goes on and reports its outcome) and the next batch starts. Two
 * databases whose ids map to one instance id are never started twice in one run: the first is
 * protected, the other reported in `failed`. Each batch is first checked against the service's
 * limits: a database that breaks one (owned by the service's roles, a BYTEA value too large to
 * dump, over a Single Server's 400 GB) is left out, reported in `skipped` with the documented
 * reason, as protecting it alone would be refused.
 */
import type { OrchestrationContext, Task } from "durable-functions";
import { z } from "zod";
import {
  activityNames,
  type ActivityResult,
  type ResolvedDatasource,
} from "../activities/names.js";
import {
  DEFAULT_PROTECTIONS_AT_ONCE,
  MAX_DATABASES_AT_ONCE,
  windowsOf,
} from "../domain/protection/concurrency.js";
import { protectionInstanceId } from "../domain/protection/operationIds.js";
import type { ErrorCode } from "../domain/errorCodes.js";
import { failureMessage, OrchestrationErrorCodes } from "../domain/protection/outcomeCodes.js";
import { logEvents } from "../observability/logEvents.js";
import { replaySafeLogger } from "../observability/orchestrationLogger.js";
import { callActivity } from "./callActivity.js";
import { orchestrationNames } from "./names.js";
import { orchestrationInput, requestCorrelationSchema } from "./orchestrationInput.js";
import {
  protectDatasourceContract,
  type ProtectDatasourceInput,
  type ProtectDatasourceOutput,
} from "./protectDatasource.js";
import { serverProtectionWaiting } from "./retryPolicies.js";
import { subOrchestration, type SubOrchestration } from "./subOrchestration.js";

/** What a caller asks for. */
export interface ProtectServerInput extends Omit<ProtectDatasourceInput, "datasource"> {
  readonly serverName: string;
  /**
   * How many databases are protected at once (default {@link DEFAULT_PROTECTIONS_AT_ONCE}, at
   * most {@link MAX_DATABASES_AT_ONCE}).
   */
  readonly maxConcurrency?: number;
  /**
   * How long a batch waits for its protections before reporting those still running as stuck
   * (default {@link serverProtectionWaiting}.defaultChildTimeoutMinutes).
   */
  readonly childTimeoutMinutes?: number;
}

/** The input's schema: what `orchestrationInput` checks. */
export const protectServerInputSchema = z.object({
  serverName: z.string(),
  vaultId: z.string(),
  policyName: z.string(),
  secretUri: z.string().optional(),
  requestedBy: z.string().optional(),
  maxConcurrency: z.number().optional(),
  childTimeoutMinutes: z.number().optional(),
  correlation: requestCorrelationSchema.optional(),
}) satisfies z.ZodType<ProtectServerInput>;

/** A database that was not protected, and why. */
export interface DatabaseNotProtected {
  readonly databaseName: string;
  readonly code: ErrorCode;
  readonly message: string;
}

/** A database whose protection was still running when the bound on waiting was reached. */
export interface DatabaseStuck extends DatabaseNotProtected {
  /** The protection's own operation: `GET /api/protections/{operationId}` follows it. */
  readonly operationId: string;
}

/** A database left out because it breaks one of the service's limits. */
export interface DatabaseSkipped extends DatabaseNotProtected {
  /** What makes it protectable. */
  readonly recommendedAction: string;
}

/** The summary it returns. */
export interface ProtectServerOutput {
  readonly serverName: string;
  readonly protected: readonly string[];
  readonly alreadyProtected: readonly string[];
  readonly failed: readonly DatabaseNotProtected[];
  /** Absent in summaries written before protections were bounded. */
  readonly stuck?: readonly DatabaseStuck[];
  /**
   * Databases left out because they break the service's limits, each with the documented
   * reason. Absent in summaries written before the limits were checked.
   */
  readonly skipped?: readonly DatabaseSkipped[];
}

/** The orchestrator function. */
export function* protectServer(
  context: OrchestrationContext,
): Generator<Task, ProtectServerOutput, unknown> {
  const input = orchestrationInput(context, protectServerInputSchema);
  const log = replaySafeLogger(context, input.correlation);
  const orchestration = orchestrationNames.protectServer;
  log.emit(logEvents.orchestrationStarted, { orchestration, target: input.serverName });
  const summary = yield* protectDatabases(context, input);
  log.emit(logEvents.orchestrationCompleted, {
    orchestration,
    outcome: summary.failed.length + summary.stuck.length === 0 ? "Protected" : "Incomplete",
    detail: `${summary.protected.length} protected, ${summary.alreadyProtected.length} already protected, ${summary.failed.length} failed, ${summary.stuck.length} stuck`,
  });
  return summary;
}

/** Lists the server's databases and protects them, a batch at a time. */
function* protectDatabases(
  context: OrchestrationContext,
  input: ProtectServerInput,
): Generator<Task, Required<ProtectServerOutput>, unknown> {
  const log = replaySafeLogger(context, input.correlation);
  const protectedNames: string[] = [];
  const alreadyProtected: string[] = [];
  const failed: DatabaseNotProtected[] = [];
  const stuck: DatabaseStuck[] = [];
  const skipped: DatabaseSkipped[] = [];
  const summary = {
    serverName: input.serverName,
    protected: protectedNames,
    alreadyProtected,
    failed,
    stuck,
    skipped,
  };
  let listed: ActivityResult<ResolvedDatasource[]>;
  try {
    listed = yield* callActivity(context, activityNames.listServerDatabases, {
      serverName: input.serverName,
    });
  } catch (error) {
    listed = {
      ok: false,
      code: OrchestrationErrorCodes.stepFailed,
      message: `The databases of ${input.serverName} could not be listed: ${failureMessage(error)}`,
    };
  }
  if (!listed.ok) {
    summary.failed.push({ databaseName: "*", code: listed.code, message: listed.message });
    return summary;
  }
  const databases = listed.value;
  // The total is known now; GET /api/protections/{id} shows it before the first batch ends.
  context.df.setCustomStatus({ done: 0, total: databases.length });

  const { unique, shared } = byInstanceId(databases);
  summary.failed.push(...shared);
  const width = Math.min(
    input.maxConcurrency ?? DEFAULT_PROTECTIONS_AT_ONCE,
    MAX_DATABASES_AT_ONCE,
  );
  const timeoutMinutes = childTimeoutMinutes(input.childTimeoutMinutes);
  let offset = 0;
  for (const listedBatch of windowsOf(unique, width)) {
    const refused = yield* limitRefusals(context, input, listedBatch);
    summary.skipped.push(...refused);
    for (const database of refused) {
      log.emit(logEvents.protectionDatabaseSkipped, {
        target: input.serverName,
        databaseName: database.databaseName,
        errorCode: database.code,
      });
    }
    const batch = listedBatch.filter(
      (entry) => !refused.some((r) => r.databaseName === nameOf(entry.database)),
    );
    const deadline = new Date(context.df.currentUtcDateTime.getTime() + timeoutMinutes * 60_000);
    // Each protection races its own timer, and the batch is awaited once as a whole: a compound
    // task yielded again would schedule its children again.
    const waits = batch.map(({ database, instanceId }) => {
      const child: ProtectDatasourceInput = {
        datasource: { datasourceId: database.datasourceId },
        resolved: database,
        vaultId: input.vaultId,
        policyName: input.policyName,
        ...(input.secretUri ? { secretUri: input.secretUri } : {}),
        ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
        ...(input.correlation ? { correlation: input.correlation } : {}),
      };
      const protection = subOrchestration(context, protectDatasourceContract, child, instanceId);
      const timer = context.df.createTimer(deadline);
      return { protection, timer, bounded: context.df.Task.any([protection.task, timer]) };
    });
    // A batch whose every database was left out has nothing to wait for.
    if (waits.length > 0) {
      log.emit(logEvents.orchestrationWaiting, {
        orchestration: orchestrationNames.protectServer,
        step: `protect ${batch.length} of ${unique.length} databases`,
        until: deadline.toISOString(),
      });
      yield context.df.Task.all(waits.map((wait) => wait.bounded));
    }

    waits.forEach(({ protection, timer }, i) => {
      const entry = batch[i];
      if (!entry) return;
      const name = nameOf(entry.database);
      if (!timer.isCompleted) timer.cancel();
      if (protection.task.isFaulted) {
        summary.failed.push(notRun(name, protection.task.result));
      } else if (!protection.task.isCompleted) {
        summary.stuck.push({
          databaseName: name,
          operationId: entry.instanceId,
          code: OrchestrationErrorCodes.protectionStuck,
          message: `The protection of ${name} was still running after ${timeoutMinutes} minutes; it was not waited on further, and its own operation reports its outcome`,
        });
      } else {
        const result = outcomeOf(protection);
        if (result.outcome === "Protected") summary.protected.push(name);
        else if (result.outcome === "AlreadyProtected") summary.alreadyProtected.push(name);
        else
          summary.failed.push({
            databaseName: name,
            code: result.error?.code ?? OrchestrationErrorCodes.noOutcome,
            message: result.error?.message ?? "The protection ended without an outcome",
          });
      }
    });
    context.df.setCustomStatus({
      done: shared.length + offset + listedBatch.length,
      total: databases.length,
    });
    log.emit(logEvents.orchestrationStepCompleted, {
      orchestration: orchestrationNames.protectServer,
      step: "batch",
      status: "done",
      detail: `${shared.length + offset + listedBatch.length} of ${databases.length} databases`,
    });
    offset += listedBatch.length;
  }
  return summary;
}

/**
 * The databases of a batch that break the service's limits. When the check itself cannot run,
 * nothing is left out: a limit that could not be checked never keeps a database unprotected.
 */
function* limitRefusals(
  context: OrchestrationContext,
  input: ProtectServerInput,
  batch: ReadonlyArray<{ database: ResolvedDatasource }>,
): Generator<Task, DatabaseSkipped[], unknown> {
  try {
    const checked = yield* callActivity(context, activityNames.checkDatabaseLimits, {
      databases: batch.map((entry) => entry.database),
      ...(input.secretUri ? { secretUri: input.secretUri } : {}),
    });
    return checked.ok ? [...checked.value] : [];
  } catch {
    return [];
  }
}

/** A protection's output; one that answered something else is stated as having no outcome. */
function outcomeOf(protection: SubOrchestration<ProtectDatasourceOutput>): ProtectDatasourceOutput {
  try {
    return protection.output();
  } catch (error) {
    return {
      outcome: "Failed",
      error: { code: OrchestrationErrorCodes.noOutcome, message: failureMessage(error) },
    };
  }
}

/** The bound on waiting for a batch, in minutes, within what a durable timer allows. */
function childTimeoutMinutes(asked: number | undefined): number {
  if (asked === undefined || !Number.isFinite(asked) || asked <= 0) {
    return serverProtectionWaiting.defaultChildTimeoutMinutes;
  }
  return Math.min(asked, serverProtectionWaiting.maxChildTimeoutMinutes);
}

function nameOf(database: ResolvedDatasource): string {
  return database.databaseName ?? database.friendlyName;
}

/**
 * The databases by the protection instance id each maps to: the first of a name maps to it
 * alone, the others are reported, so that no instance id is started twice in one run.
 */
function byInstanceId(databases: readonly ResolvedDatasource[]): {
  unique: Array<{ database: ResolvedDatasource; instanceId: string }>;
  shared: DatabaseNotProtected[];
} {
  const first = new Map<string, ResolvedDatasource>();
  const unique: Array<{ database: ResolvedDatasource; instanceId: string }> = [];
  const shared: DatabaseNotProtected[] = [];
  for (const database of databases) {
    const instanceId = protectionInstanceId(database.datasourceId);
    const owner = first.get(instanceId);
    if (owner) {
      shared.push({
        databaseName: nameOf(database),
        code: OrchestrationErrorCodes.protectionIdShared,
        message: `${nameOf(database)} maps to the same operation id as ${nameOf(owner)} (${instanceId}); only ${nameOf(owner)} was protected in this run`,
      });
      continue;
    }
    first.set(instanceId, database);
    unique.push({ database, instanceId });
  }
  return { unique, shared };
}

/** A database whose protection could not run: already running under its own request, or crashed. */
function notRun(databaseName: string, error: unknown): DatabaseNotProtected {
  const message = failureMessage(error);
  return /already exists/i.test(message)
    ? {
        databaseName,
        code: OrchestrationErrorCodes.protectionInProgress,
        message: `A protection of ${databaseName} is already running; its own operation reports the outcome`,
      }
    : { databaseName, code: OrchestrationErrorCodes.protectionNotRun, message };
}
