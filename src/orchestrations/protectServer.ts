/**
 * `protectServer`: protect every database of a server, a bounded number at a time, each through
 * its own `protectDatasource` instance, and summarise.
 */
import type { OrchestrationContext, Task } from "durable-functions";
import {
  activityNames,
  type ActivityResult,
  type ResolvedDatasource,
} from "../activities/names.js";
import {
  protectionInstanceId,
  type ProtectDatasourceInput,
  type ProtectDatasourceOutput,
} from "./protectDatasource.js";
import { orchestrationNames } from "./names.js";
import { transientRetry } from "./retryPolicies.js";

/** What a caller asks for. */
export interface ProtectServerInput extends Omit<ProtectDatasourceInput, "datasource"> {
  readonly serverName: string;
  /** How many databases are protected at once (default 4). */
  readonly maxConcurrency?: number;
}

/** The summary it returns. */
export interface ProtectServerOutput {
  readonly serverName: string;
  readonly protected: readonly string[];
  readonly alreadyProtected: readonly string[];
  readonly failed: ReadonlyArray<{
    readonly databaseName: string;
    readonly code: string;
    readonly message: string;
  }>;
}

/** The orchestrator function. */
export function* protectServer(
  context: OrchestrationContext,
): Generator<Task, ProtectServerOutput, unknown> {
  const input = context.df.getInput() as ProtectServerInput;
  const listed = (yield context.df.callActivityWithRetry(
    activityNames.listServerDatabases,
    transientRetry(),
    {
      serverName: input.serverName,
    },
  )) as ActivityResult<ResolvedDatasource[]>;
  const summary = {
    serverName: input.serverName,
    protected: [] as string[],
    alreadyProtected: [] as string[],
    failed: [] as ProtectServerOutput["failed"][number][],
  };
  if (!listed.ok) {
    summary.failed.push({ databaseName: "*", code: listed.code, message: listed.message });
    return summary;
  }
  const databases = listed.value;
  // The total is known now; GET /api/protections/{id} shows it before the first batch ends.
  context.df.setCustomStatus({ done: 0, total: databases.length });
  const width = Math.max(1, Math.min(input.maxConcurrency ?? 4, 32));
  for (let offset = 0; offset < databases.length; offset += width) {
    const batch = databases.slice(offset, offset + width);
    const tasks: Task[] = batch.map((database) =>
      context.df.callSubOrchestrator(
        orchestrationNames.protectDatasource,
        {
          datasource: { datasourceId: database.datasourceId },
          resolved: database,
          vaultId: input.vaultId,
          policyName: input.policyName,
          ...(input.secretUri ? { secretUri: input.secretUri } : {}),
          ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
        } satisfies ProtectDatasourceInput,
        protectionInstanceId(database.datasourceId),
      ),
    );
    try {
      yield context.df.Task.all(tasks);
    } catch {
      // A database whose own protection is running under the same instance id cannot start here
      // (nor can one that crashed); the batch's others run on, each awaited on its own.
      // Waiting again on a task already started starts nothing new, so replay stays deterministic.
      for (const task of tasks) {
        if (task.isCompleted || task.isFaulted) continue;
        try {
          yield task;
        } catch {
          // Read from the task below.
        }
      }
    }
    tasks.forEach((task, i) => {
      const name = batch[i]?.databaseName ?? batch[i]?.friendlyName ?? "?";
      if (task.isFaulted) {
        summary.failed.push(notRun(name, task.result));
        return;
      }
      const result = task.result as ProtectDatasourceOutput;
      if (result.outcome === "Protected") summary.protected.push(name);
      else if (result.outcome === "AlreadyProtected") summary.alreadyProtected.push(name);
      else
        summary.failed.push({
          databaseName: name,
          code: result.error?.code ?? "Unknown",
          message: result.error?.message ?? "",
        });
    });
    context.df.setCustomStatus({ done: offset + batch.length, total: databases.length });
  }
  return summary;
}

/** A database whose protection could not run: already running under its own request, or crashed. */
function notRun(databaseName: string, error: unknown): ProtectServerOutput["failed"][number] {
  const message = error instanceof Error ? error.message : String(error);
  return /already exists/i.test(message)
    ? {
        databaseName,
        code: "PROTECTION_IN_PROGRESS",
        message: `A protection of ${databaseName} is already running; its own operation reports the outcome`,
      }
    : { databaseName, code: "PROTECTION_NOT_RUN", message };
}
