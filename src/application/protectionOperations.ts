/**
 * Starting the operation that protects a target (a datasource, or every database of a server)
 * once: the one home shared by `POST /api/protections`, auto-protection and the reconciliation.
 *
 * @remarks An operation's id is derived from its target (`domain/protection/operationIds.ts`), but
 * an id alone proves nothing: ids of earlier versions are shared by targets that differ only in
 * case or characters (`Demo`, `demo`). An operation answers for a target only when its recorded
 * input names that very target.
 */
import { AppError } from "../domain/errors.js";
import { sameResourceId } from "../domain/protection/ids.js";
import { sameAzureName } from "../domain/protection/names.js";
import {
  legacyProtectionInstanceId,
  protectionInstanceId,
} from "../domain/protection/operationIds.js";
import { orchestrationNames } from "../orchestrations/names.js";
import {
  hasFinished,
  startOnce,
  type OrchestrationPort,
  type OrchestrationStatus,
  type StartOnceOutcome,
} from "./orchestrationPort.js";

/** The settings of a protection a repeat is compared on. */
export interface ProtectionSettings {
  readonly vaultId: string;
  readonly policyName: string;
  readonly secretUri?: string | undefined;
}

/** What an operation's recorded input says, whichever orchestration it is. */
interface RecordedInput {
  readonly datasource?: { readonly datasourceId?: string };
  readonly resolved?: { readonly datasourceId?: string };
  readonly serverName?: string;
  readonly vaultId?: string;
  readonly policyName?: string;
  readonly secretUri?: string;
}

const recorded = (input: unknown): RecordedInput =>
  typeof input === "object" && input !== null ? (input as RecordedInput) : {};

/** Whether a `protectDatasource` input is for the datasource `datasourceId`, exactly. */
export function isForDatasource(input: unknown, datasourceId: string): boolean {
  const { datasource, resolved } = recorded(input);
  const recordedId = datasource?.datasourceId ?? resolved?.datasourceId;
  return recordedId !== undefined && sameResourceId(recordedId, datasourceId);
}

/** Whether a `protectServer` input is for the server named `serverName` (Azure names ignore case). */
export function isForServer(input: unknown, serverName: string): boolean {
  const recordedName = recorded(input).serverName;
  return recordedName !== undefined && sameAzureName(recordedName, serverName);
}

/**
 * Whether a protection operation is running or ended with its target protected (a server's: with
 * every database protected), so a new request answers it instead of starting again; after a
 * failure it may run again.
 */
export function protectionIsLiveOrSucceeded(
  status: OrchestrationStatus | undefined,
): status is OrchestrationStatus {
  if (!status || status.runtimeStatus === "Failed" || status.runtimeStatus === "Terminated") {
    return false;
  }
  // Expected failures end the orchestration normally, with the failure as its output.
  if (!hasFinished(status)) return true;
  if (status.runtimeStatus !== "Completed") return false;
  const output = status.output as
    | {
        readonly outcome?: string;
        readonly failed?: readonly unknown[];
        readonly stuck?: readonly unknown[];
      }
    | null
    | undefined;
  // A server's run that left databases unprotected runs again: those already protected answer so.
  return (
    output?.outcome !== "Failed" &&
    !(output?.failed && output.failed.length > 0) &&
    !(output?.stuck && output.stuck.length > 0)
  );
}

/** How an existing protection's settings differ from a repeat's, one phrase each; empty when alike. */
export function settingDifferences(input: unknown, asked: ProtectionSettings): string[] {
  const existing = recorded(input);
  const differences: string[] = [];
  if (existing.vaultId !== undefined && !sameResourceId(existing.vaultId, asked.vaultId)) {
    differences.push(`vault ${existing.vaultId} (this request: ${asked.vaultId})`);
  }
  if (existing.policyName !== undefined && !sameAzureName(existing.policyName, asked.policyName)) {
    differences.push(`policy '${existing.policyName}' (this request: '${asked.policyName}')`);
  }
  if ((existing.secretUri ?? "") !== (asked.secretUri ?? "")) {
    differences.push(
      `secret ${existing.secretUri ?? "(none)"} (this request: ${asked.secretUri ?? "(none)"})`,
    );
  }
  return differences;
}

/** The protection of one target to start once. */
export interface ProtectionTarget {
  /** The orchestration: `protectDatasource` or `protectServer`. */
  readonly name: string;
  /** The id derived from the target (`domain/protection/operationIds.ts`). */
  readonly instanceId: string;
  /** The ids earlier versions gave the same target's operation. */
  readonly legacyInstanceIds: readonly string[];
  /** What is protected, for messages. */
  readonly label: string;
  /** Whether an operation's recorded input is for this very target. */
  readonly isSameTarget: (input: unknown) => boolean;
  /**
   * The settings asked for; when given, an existing operation with other settings is refused.
   *
   * @throws NotFoundError `VAULT_NOT_FOUND`: a vault that does not exist is a 404, repeat or not.
   */
  readonly settings?: () => Promise<ProtectionSettings>;
  /**
   * Runs the checks that may refuse the request and builds the orchestration's input; only when a
   * new run is to start, so an operation under way is answered whatever changed since.
   */
  readonly input: () => Promise<unknown>;
}

/** What starting a protection came to: a new run, or the operation that already protects. */
export type ProtectionStart = StartOnceOutcome;

/**
 * The protection of one datasource (a database or a whole Flexible Server) as a target: the
 * `protectDatasource` orchestration under the id derived from the datasource, or under the id an
 * earlier version gave it.
 */
export function datasourceProtection(
  datasourceId: string,
): Omit<ProtectionTarget, "input" | "settings"> {
  return {
    name: orchestrationNames.protectDatasource,
    instanceId: protectionInstanceId(datasourceId),
    legacyInstanceIds: [legacyProtectionInstanceId(datasourceId)],
    label: datasourceId,
    isSameTarget: (input) => isForDatasource(input, datasourceId),
  };
}

/**
 * Starts the protection of a target under its derived id, unless an operation for that very
 * target is running or has protected it, under that id or one an earlier version gave it.
 *
 * @throws AppError `PROTECTION_ID_IN_USE` (409) when the id holds a live operation for another
 * target; `PROTECTION_EXISTS_WITH_OTHER_SETTINGS` (409) for a repeat with other settings;
 * `PROTECTION_START_FAILED` (503, retryable) when the orchestration could not start.
 */
export async function startProtectionOnce(
  orchestrations: OrchestrationPort,
  target: ProtectionTarget,
): Promise<ProtectionStart> {
  const stands = (status: OrchestrationStatus): boolean =>
    protectionIsLiveOrSucceeded(status) && target.isSameTarget(status.input);
  const answer = async (instanceId: string, status: OrchestrationStatus) => {
    // A repeat asking for other settings is not the same request: say what differs.
    const differences = target.settings
      ? settingDifferences(status.input, await target.settings())
      : [];
    if (differences.length > 0) throw protectionConflict(instanceId, status, target, differences);
    return { started: false as const, instanceId, status };
  };

  // The current id first: a live operation there for another target is one a new run would collide with.
  const current = await orchestrations.status(target.instanceId);
  if (protectionIsLiveOrSucceeded(current)) {
    if (!target.isSameTarget(current.input)) throw idInUse(target.instanceId);
    return answer(target.instanceId, current);
  }
  for (const instanceId of new Set(target.legacyInstanceIds)) {
    if (instanceId === target.instanceId) continue;
    const status = await orchestrations.status(instanceId);
    if (status && stands(status)) return answer(instanceId, status);
  }
  const outcome = await startOnce(
    {
      status: (instanceId) => orchestrations.status(instanceId),
      start: async (name, instanceId, input) => {
        try {
          await orchestrations.start(name, instanceId, input);
        } catch (error) {
          throw new AppError(
            "PROTECTION_START_FAILED",
            `The protection of ${target.label} could not start: ${(error as Error).message}`,
            { httpStatus: 503, retryable: true, cause: error },
          );
        }
      },
    },
    {
      name: target.name,
      instanceId: target.instanceId,
      stands: (status) => {
        if (!protectionIsLiveOrSucceeded(status)) return false;
        if (target.isSameTarget(status.input)) return true;
        throw idInUse(target.instanceId);
      },
      input: target.input,
    },
  );
  return outcome.started ? outcome : answer(outcome.instanceId, outcome.status);
}

function idInUse(instanceId: string): AppError {
  return new AppError(
    "PROTECTION_ID_IN_USE",
    `The operation ${instanceId} is for another target than this request's`,
    {
      httpStatus: 409,
      recommendedAction: `Look at GET /api/protections/${instanceId}; send the request again once it has ended`,
    },
  );
}

function protectionConflict(
  instanceId: string,
  status: OrchestrationStatus,
  target: ProtectionTarget,
  differences: readonly string[],
): AppError {
  return new AppError(
    "PROTECTION_EXISTS_WITH_OTHER_SETTINGS",
    `${target.label} is already protected by the operation ${instanceId} (${status.runtimeStatus}) with ${differences.join(", ")}`,
    {
      httpStatus: 409,
      recommendedAction: `Send the same vault, policy and secret to follow that protection (GET /api/protections/${instanceId}); to change it, change its backup instance in the vault (az dataprotection backup-instance update-policy), or stop its protection there and send this request again`,
    },
  );
}
