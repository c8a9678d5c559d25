/**
 * Finding the operation that already protects a target (a datasource, or every database of a
 * server) before starting another, and comparing what it was asked with what a repeat asks.
 *
 * @remarks An operation's id is derived from its target, but an id alone proves nothing: ids of
 * earlier versions are shared by targets that differ only in case or characters (`Demo`, `demo`).
 * An operation answers for a target only when its recorded input names that very target.
 */
import type { DurableClient, DurableOrchestrationStatus } from "durable-functions";
import { AppError } from "../domain/errors.js";
import { sameResourceId } from "../domain/protection/ids.js";
import { sameAzureName } from "../domain/protection/names.js";
import { findInstance, protectionIsLiveOrSucceeded } from "./durableStatus.js";

/** An operation that is running or has protected its target. */
export interface ExistingOperation {
  readonly instanceId: string;
  readonly status: DurableOrchestrationStatus;
}

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
 * The operation running for, or having protected, a target: looked for under its id and then under
 * the ids earlier versions gave it, and accepted only when its input is for the target.
 *
 * @param ids - the current id first, then earlier forms.
 * @throws AppError `PROTECTION_ID_IN_USE` (409) when the current id holds a live operation for
 * another target, which a new one would collide with.
 */
export async function findExistingProtection(
  client: Pick<DurableClient, "getStatus">,
  ids: readonly string[],
  isSameTarget: (input: unknown) => boolean,
): Promise<ExistingOperation | undefined> {
  for (const [index, instanceId] of [...new Set(ids)].entries()) {
    const status = await findInstance(client as DurableClient, instanceId);
    if (!protectionIsLiveOrSucceeded(status)) continue;
    if (isSameTarget(status.input)) return { instanceId, status };
    if (index === 0) {
      throw new AppError(
        "PROTECTION_ID_IN_USE",
        `The operation ${instanceId} is for another target than this request's`,
        {
          httpStatus: 409,
          recommendedAction: `Look at GET /api/protections/${instanceId}; send the request again once it has ended`,
        },
      );
    }
  }
  return undefined;
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

/**
 * The refusal of a repeat that asks for other settings than the protection that exists.
 *
 * @param label - what is protected, for the message.
 */
export function protectionConflict(
  existing: ExistingOperation,
  label: string,
  differences: readonly string[],
): AppError {
  return new AppError(
    "PROTECTION_EXISTS_WITH_OTHER_SETTINGS",
    `${label} is already protected by the operation ${existing.instanceId} (${existing.status.runtimeStatus}) with ${differences.join(", ")}`,
    {
      httpStatus: 409,
      recommendedAction: `Send the same vault, policy and secret to follow that protection (GET /api/protections/${existing.instanceId}); to change it, change its backup instance in the vault (az dataprotection backup-instance update-policy), or stop its protection there and send this request again`,
    },
  );
}
