/**
 * Restore to a server: the steps after a restore as files, and the restore's status as the API
 * answers it. The load itself is the provider's (`RestoreToServerPort`); the orchestration
 * (`orchestrations/restoreToServer.ts`) decides when it runs.
 *
 * @remarks A restore drill in Azure is the same two steps into a scratch server: a restore as
 * files into a drill container, then {@link loadRestoredFiles} with the scratch server's secret.
 */
import { ErrorCodes } from "../domain/errorCodes.js";
import { AppError, NotFoundError } from "../domain/errors.js";
import { parseVaultId } from "../domain/protection/ids.js";
import type {
  RestoreToServerInput,
  RestoreToServerOutput,
} from "../orchestrations/restoreToServer.js";
import { orchestrationNames } from "../orchestrations/names.js";
import type { LoadedDatabase, LoadRestoredFilesRequest, Provider } from "../providers/ports.js";
import type { EventLogger, RequestCorrelation } from "../observability/eventLogger.js";
import { logEvents } from "../observability/logEvents.js";
import type { ApplicationDependencies } from "./dependencies.js";
import { notFollowedReason, startJobFollowing } from "./jobFollowing.js";
import { hasFinished, type OrchestrationPort } from "./orchestrationPort.js";
import {
  startRestore,
  type RestoreOptions,
  type RestoreRequest,
  type RestoreStarted,
} from "./restore.js";

/** The id of the orchestration that follows a restore job: one per job. */
export function restoreOperationId(jobName: string): string {
  return `restore-${jobName.toLowerCase()}`;
}

/**
 * Loads the files a restore as files wrote into a new database of the server the secret reaches,
 * and verifies them.
 *
 * @throws AppError `RESTORE_TARGET_NOT_SUPPORTED` where the provider cannot (local: it restores
 * into databases directly); the provider's failures otherwise.
 */
export async function loadRestoredFiles(
  provider: Pick<Provider, "restoreToServer">,
  request: LoadRestoredFilesRequest,
): Promise<LoadedDatabase> {
  if (!provider.restoreToServer) {
    throw new AppError(
      ErrorCodes.RESTORE_TARGET_NOT_SUPPORTED,
      "This provider does not load restored files into a server",
      { httpStatus: 400 },
    );
  }
  return provider.restoreToServer.loadRestoredFiles(request);
}

/**
 * The databases whose dumps a restore as files wrote under a prefix (a whole server writes one
 * per database), sorted by name.
 *
 * @throws AppError `RESTORE_TARGET_NOT_SUPPORTED` where the provider does not load files;
 * NotFoundError `RESTORED_FILES_NOT_FOUND` when the restore wrote no dump there.
 */
export async function listRestoredDatabases(
  provider: Pick<Provider, "restoreToServer">,
  request: { readonly containerUrl: string; readonly filePrefix: string },
): Promise<string[]> {
  if (!provider.restoreToServer) {
    throw new AppError(
      ErrorCodes.RESTORE_TARGET_NOT_SUPPORTED,
      "This provider does not load restored files into a server",
      { httpStatus: 400 },
    );
  }
  const databases = await provider.restoreToServer.listRestoredDatabases(request);
  if (databases.length === 0) {
    throw new NotFoundError(
      ErrorCodes.RESTORED_FILES_NOT_FOUND,
      `The restore wrote no dump under '${request.filePrefix}' into the container ${request.containerUrl}`,
      { recommendedAction: "Check the restore job: it wrote no file into the container" },
    );
  }
  return databases;
}

/** A restore as `GET /api/restores/{id}` answers it. */
export interface RestoreView {
  readonly id: string;
  readonly backupInstanceName: string;
  readonly vaultName: string;
  readonly jobId: string;
  /** `Running` until the job (and a load) ended, then `Completed` or `Failed`. */
  readonly status: "Running" | "Completed" | "Failed";
  /** Where it is: the job's state, `loading`, or how it ended. */
  readonly state: string;
  /** Restore to a server: the new database, its verification and the time each step took. */
  readonly database: LoadedDatabase | null;
  readonly seconds: RestoreToServerOutput["seconds"] | null;
  readonly error: RestoreToServerOutput["error"] | null;
  readonly createdTime: string;
  readonly lastUpdatedTime: string;
}

/**
 * A restore's status.
 *
 * @throws NotFoundError `RESTORE_NOT_FOUND`.
 */
export async function restoreStatus(
  orchestrations: OrchestrationPort,
  id: string,
): Promise<RestoreView> {
  const status = id.startsWith("restore-") ? await orchestrations.status(id) : undefined;
  if (!status || status.name !== orchestrationNames.restoreToServer) {
    throw new NotFoundError(ErrorCodes.RESTORE_NOT_FOUND, `There is no restore '${id}'`);
  }
  const input = (status.input ?? {}) as Partial<RestoreToServerInput>;
  const finished = hasFinished(status);
  // An orchestration that failed in Durable terms (an exception nothing caught) has its
  // exception's message as its output, not a RestoreToServerOutput.
  const reason =
    typeof status.output === "string" && status.output.trim() !== "" ? status.output : undefined;
  const output =
    finished && reason === undefined
      ? (status.output as RestoreToServerOutput | undefined)
      : undefined;
  const custom = (status.customStatus ?? {}) as { state?: string };
  const completed = status.runtimeStatus === "Completed" && output?.outcome === "Completed";
  const error =
    output?.error ??
    (finished && !completed
      ? {
          code: "RESTORE_FAILED",
          message: `The restore ended ${output?.outcome ?? status.runtimeStatus} before it stated why${reason ? `: ${reason}` : ""}`,
        }
      : undefined);
  return {
    id,
    backupInstanceName: input.backupInstanceName ?? "",
    vaultName: input.vaultId ? parseVaultId(input.vaultId).vaultName : "",
    jobId: input.jobId ?? "",
    status: !finished ? "Running" : completed ? "Completed" : "Failed",
    state: finished ? (output?.outcome ?? status.runtimeStatus) : (custom.state ?? "InProgress"),
    database: output?.database ?? null,
    seconds: output?.seconds ?? null,
    error: completed ? null : (error ?? null),
    createdTime: new Date(status.createdTime).toISOString(),
    lastUpdatedTime: new Date(status.lastUpdatedTime).toISOString(),
  };
}

/** A restore started, and the orchestration that follows it where there is one. */
export type RestoreFollowed = Omit<RestoreStarted, "load"> & {
  /** The restore's id (`GET /api/restores/{id}`), or `null` where no orchestration follows it. */
  readonly restoreId: string | null;
  /** Why the orchestration did not start, when it did not. */
  readonly notFollowed?: unknown;
};

/**
 * Starts a restore and, where restores are the service's jobs (Azure), the `restoreToServer`
 * orchestration that follows the job to its end, publishes its states and, for a restore to a
 * server, loads the files.
 */
export async function startFollowedRestore(
  deps: Pick<ApplicationDependencies, "provider" | "vaults">,
  orchestrations: OrchestrationPort,
  request: RestoreRequest & {
    readonly requestedBy?: string | undefined;
    readonly correlation?: RequestCorrelation | undefined;
  },
  options: RestoreOptions & { readonly requestedAt: Date },
): Promise<RestoreFollowed> {
  const { load, ...started } = await startRestore(deps, request, options);
  if (!deps.provider.restoreToServer) return { ...started, restoreId: null };
  const input: RestoreToServerInput = {
    vaultId: started.vaultId,
    backupInstanceName: started.backupInstanceName,
    jobId: started.jobId,
    requestedAt: options.requestedAt.toISOString(),
    ...(load ? { load } : {}),
    ...(request.requestedBy ? { requestedBy: request.requestedBy } : {}),
    ...(request.correlation ? { correlation: request.correlation } : {}),
  };
  const { instanceId, ...following } = await startJobFollowing(
    orchestrations,
    orchestrationNames.restoreToServer,
    restoreOperationId(started.jobName),
    input,
  );
  return { ...started, restoreId: instanceId, ...following };
}

/** Logs a restore's start and, when no orchestration follows it, why. */
export function logRestoreStart(
  log: EventLogger,
  started: RestoreFollowed,
  requestedBy?: string,
): void {
  const operation = log.with({ operationId: started.restoreId ?? undefined });
  operation.emit(logEvents.restoreRequested, {
    backupInstanceName: started.backupInstanceName,
    vaultId: started.vaultId,
    jobName: started.jobName,
    restoreId: started.restoreId ?? "",
    targetKind: started.target.kind,
    requestedBy,
  });
  if (started.notFollowed === undefined) return;
  operation.emit(logEvents.restoreNotFollowed, {
    jobName: started.jobName,
    backupInstanceName: started.backupInstanceName,
    errorMessage: notFollowedReason(started.notFollowed),
  });
}
