/**
 * The user story "follow a protection": what `GET /api/protections/{id}` shows of a protection
 * operation, a single datasource's or a server's databases', read through the
 * {@link OrchestrationPort}.
 */
import { NotFoundError } from "../domain/errors.js";
import { OrchestrationErrorCodes } from "../domain/protection/outcomeCodes.js";
import { orchestrationNames } from "../orchestrations/names.js";
import type {
  ProtectDatasourceOutput,
  ProtectionProgress,
} from "../orchestrations/protectDatasource.js";
import type { ProtectServerInput, ProtectServerOutput } from "../orchestrations/protectServer.js";
import {
  finishedStates,
  type OrchestrationPort,
  type OrchestrationStatus,
} from "./orchestrationPort.js";

/** An operation's error, as `GET /api/protections/{id}` shows it. */
interface ShownError {
  readonly code: string;
  /** The service's own code, where the failure came from it. */
  readonly serviceCode?: string;
  readonly message: string;
  readonly recommendedAction?: string;
}

/** How far a server protection got: databases finished and listed. */
export interface ServerProtectionProgress {
  readonly done: number;
  readonly total: number;
}

/** The code of a server protection some of whose databases were not protected. */
export const databasesNotProtectedCode = "DATABASES_NOT_PROTECTED";

/** The code of a server protection whose orchestration itself failed. */
export const serverProtectionFailedCode = "SERVER_PROTECTION_FAILED";

/**
 * What an ended orchestration that stated no outcome of its own came to: it failed in Durable
 * terms (an exception nothing caught), was terminated, or left no output.
 */
function durableEnding(status: OrchestrationStatus, what: string): ShownError {
  const reason = typeof status.output === "string" && status.output.trim() ? status.output : "";
  switch (status.runtimeStatus as string) {
    case "Failed":
      return {
        code: OrchestrationErrorCodes.orchestrationFailed,
        message: `The ${what} failed before it stated an outcome${reason ? `: ${reason}` : ""}`,
        recommendedAction:
          "Send the same request again: a new run starts, and what is already protected is answered as such",
      };
    case "Terminated":
    case "Canceled":
      return {
        code: OrchestrationErrorCodes.orchestrationTerminated,
        message: `The ${what} was ${(status.runtimeStatus as string).toLowerCase()} before it stated an outcome${reason ? `: ${reason}` : ""}`,
        recommendedAction:
          "Send the same request again: a new run starts, and what is already protected is answered as such",
      };
    default:
      return {
        code: OrchestrationErrorCodes.noOutcome,
        message: `The ${what} ended without an outcome`,
        recommendedAction: "Send the same request again to have it checked and stated",
      };
  }
}

/** The answer for a `protectDatasource` instance: its steps, from its custom status. */
function datasourceProtectionBody(id: string, status: OrchestrationStatus) {
  const progress = (status.customStatus ?? { steps: [] }) as ProtectionProgress;
  const output =
    status.output && typeof status.output === "object"
      ? (status.output as ProtectDatasourceOutput)
      : undefined;
  // An ended orchestration always states an outcome: one without its own is Failed, with why.
  const unstated = finishedStates.includes(status.runtimeStatus) && !output?.outcome;
  const error =
    output?.error ??
    (unstated ? (progress.error ?? durableEnding(status, "protection")) : progress.error);
  return {
    id,
    status: status.runtimeStatus,
    outcome: output?.outcome ?? (unstated ? "Failed" : null),
    datasourceId:
      output?.datasourceId ??
      (status.input as { datasource?: { datasourceId?: string } } | undefined)?.datasource
        ?.datasourceId ??
      null,
    backupInstanceName: output?.backupInstanceName ?? null,
    steps: progress.steps ?? [],
    currentStep: progress.current ?? null,
    error: error ?? null,
    ...(progress.eventNotPublished ? { eventNotPublished: progress.eventNotPublished } : {}),
    createdAt: status.createdTime,
    lastUpdatedAt: status.lastUpdatedTime,
  };
}

/** What a finished server protection came to, and the error to show when it fell short. */
function serverOutcome(
  status: OrchestrationStatus,
  summary: ProtectServerOutput | null,
): { outcome: ProtectDatasourceOutput["outcome"] | null; error: ShownError | null } {
  if (status.runtimeStatus === "Failed") {
    // The orchestration threw (e.g. a database's protection was already running under its id).
    return {
      outcome: "Failed",
      error: {
        code: serverProtectionFailedCode,
        message: typeof status.output === "string" ? status.output : "The orchestration failed",
        recommendedAction: "Ask again: databases already protected are answered as such",
      },
    };
  }
  if (!summary) {
    return finishedStates.includes(status.runtimeStatus)
      ? { outcome: "Failed", error: durableEnding(status, "protection of the server's databases") }
      : { outcome: null, error: null };
  }
  const stuck = summary.stuck ?? [];
  const skipped = summary.skipped ?? [];
  // Databases left out for the service's limits do not fail a protection that protected others:
  // the summary names them with the reason. With nothing protected at all, the request failed.
  const nothingProtected =
    skipped.length > 0 && summary.protected.length + summary.alreadyProtected.length === 0;
  if (summary.failed.length > 0 || stuck.length > 0 || nothingProtected) {
    const total =
      summary.protected.length +
      summary.alreadyProtected.length +
      summary.failed.length +
      stuck.length +
      skipped.length;
    const parts = [
      ...summary.failed.map((f) => `${f.databaseName} (${f.code}: ${f.message})`),
      ...stuck.map((s) => `${s.databaseName} (${s.code}: still running as ${s.operationId})`),
      ...skipped.map((s) => `${s.databaseName} (${s.code}: ${s.message})`),
    ];
    return {
      outcome: "Failed",
      error: {
        code: databasesNotProtectedCode,
        message: `${summary.failed.length + stuck.length + skipped.length} of ${total} databases of ${summary.serverName} were not protected: ${parts.join("; ")}`,
        recommendedAction:
          stuck.length > 0
            ? "Follow each database in summary.stuck at GET /api/protections/{operationId}; fix what summary.failed names, then send the same request again: it protects what is missing and answers the rest as already protected"
            : "Fix what summary.failed names, then send the same request again: it protects what is missing and answers the rest as already protected",
      },
    };
  }
  // Every database was protected before: nothing new, as for a single datasource.
  const outcome =
    summary.protected.length === 0 && summary.alreadyProtected.length > 0
      ? "AlreadyProtected"
      : "Protected";
  return { outcome, error: null };
}

/**
 * The answer for a `protectServer` instance: the shape of a single protection (no steps of its
 * own), plus the server, the progress from its custom status and, once finished, the summary.
 */
function serverProtectionBody(id: string, status: OrchestrationStatus) {
  const input = status.input as Partial<ProtectServerInput> | null | undefined;
  const custom = status.customStatus as Partial<ServerProtectionProgress> | null | undefined;
  const summary =
    status.runtimeStatus === "Completed" && status.output && typeof status.output === "object"
      ? (status.output as ProtectServerOutput)
      : null;
  const { outcome, error } = serverOutcome(status, summary);
  return {
    id,
    status: status.runtimeStatus,
    outcome,
    datasourceId: null,
    backupInstanceName: null,
    steps: [],
    currentStep: null,
    error,
    serverName: summary?.serverName ?? input?.serverName ?? null,
    progress:
      typeof custom?.done === "number" && typeof custom.total === "number"
        ? { done: custom.done, total: custom.total }
        : null,
    summary,
    createdAt: status.createdTime,
    lastUpdatedAt: status.lastUpdatedTime,
  };
}

/**
 * The body of `GET /api/protections/{id}` for an instance's status.
 *
 * @remarks A server protection (`protectServer`) keeps the fields of a single one, so a client
 * that follows `status`, `outcome` and `error` reads both alike.
 */
export function protectionStatusBody(
  id: string,
  status: OrchestrationStatus,
): Record<string, unknown> {
  return status.name === orchestrationNames.protectServer
    ? serverProtectionBody(id, status)
    : datasourceProtectionBody(id, status);
}

/**
 * The status of the protection operation `id`: the steps done, the current one, and on failure
 * the service's error code with a recommended action; for a server's databases, the progress and
 * the summary.
 *
 * @throws NotFoundError `PROTECTION_NOT_FOUND` for an id that is not a protection operation's.
 */
export async function protectionStatus(
  orchestrations: OrchestrationPort,
  id: string,
): Promise<Record<string, unknown>> {
  const status = id.startsWith("protect-") ? await orchestrations.status(id) : undefined;
  if (!status)
    throw new NotFoundError("PROTECTION_NOT_FOUND", `There is no protection operation '${id}'`);
  return protectionStatusBody(id, status);
}
