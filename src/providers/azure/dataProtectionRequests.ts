/**
 * What every part of the Azure backup service shares: the client and its routes, the clock, and
 * the one step that sends a request and classifies its failure (an `AppError`, or a
 * {@link LostAnswer} when the service may have acted without saying so).
 */
import type { Client, HttpResponse } from "@azure-rest/core-client";
import { isRestError } from "@azure/core-rest-pipeline";
import { formatVaultChildId, parseVaultId, type VaultRef } from "../../domain/protection/ids.js";
import type { ProtectionStatus } from "../../domain/protection/types.js";
import { armErrorFromResponse, armErrorFromThrown } from "./armErrors.js";
import type { BackupInstanceReading } from "./armMapping.js";
import {
  isAmbiguousFailure,
  isUnexpected,
  pollLongRunningOperation,
  type DataProtectionClient,
  type LongRunningOptions,
  type LongRunningOutcome,
} from "./dataProtection/index.js";
import { LostAnswer } from "./lostAnswers.js";
import { systemClock } from "./throttling.js";

const RESOURCE_GROUP_PROVIDER =
  "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DataProtection" as const;
/** Route of a Backup vault. */
export const VAULT_ROUTE = `${RESOURCE_GROUP_PROVIDER}/backupVaults/{vaultName}` as const;
/** Route of a backup policy. */
export const POLICY_ROUTE = `${VAULT_ROUTE}/backupPolicies/{backupPolicyName}` as const;
/** Route of a backup instance. */
export const INSTANCE_ROUTE = `${VAULT_ROUTE}/backupInstances/{backupInstanceName}` as const;

/** An error answer, as the client returns it. */
export interface ErrorAnswer {
  readonly status: string;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

/** The client, its polling, the app's clock, and sending with failures classified. */
export class DataProtectionRequests {
  constructor(
    readonly client: DataProtectionClient,
    readonly polling: LongRunningOptions,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The app's clock. */
  now(): number {
    return this.clock();
  }

  /** Waits as polling does (a virtual clock in tests), until the polling's abort signal. */
  sleep(ms: number): Promise<void> {
    return (this.polling.sleep ?? systemClock.sleep)(ms, this.polling.abortSignal);
  }

  /** The parts of a vault's id. */
  vault(vaultId: string): VaultRef {
    return parseVaultId(vaultId);
  }

  /** How the app read an instance now, for the fallbacks of `toBackupInstance`. */
  reading(
    vaultId: string,
    instanceName: string,
    statusWhenUnreported?: ProtectionStatus,
  ): BackupInstanceReading {
    return {
      observedAt: new Date(this.now()).toISOString(),
      id: formatVaultChildId({
        ...this.vault(vaultId),
        childType: "backupInstances",
        childName: instanceName,
      }),
      name: instanceName,
      ...(statusWhenUnreported ? { statusWhenUnreported } : {}),
    };
  }

  /** Sends a request; a failure to get any answer is thrown as an `AppError`. */
  async call<T>(operation: string, send: () => PromiseLike<T>): Promise<T> {
    try {
      return await send();
    } catch (thrown) {
      throw armErrorFromThrown(thrown, operation);
    }
  }

  /** Throws an error answer as an `AppError`. */
  fail(response: ErrorAnswer, operation: string): never {
    throw armErrorFromResponse(response, operation);
  }

  /**
   * Sends a non-idempotent action's first request and answers its success; a failure after
   * which the service may have acted is a {@link LostAnswer}, any other is thrown as it is.
   */
  async sendAction<T extends HttpResponse>(
    operation: string,
    post: () => PromiseLike<T>,
  ): Promise<T> {
    let initial: T;
    try {
      initial = await post();
    } catch (thrown) {
      const error = armErrorFromThrown(thrown, operation);
      // A thrown error that carries the service's status is an answer, judged by that status.
      const status = isRestError(thrown) ? thrown.statusCode : undefined;
      if (isAmbiguousFailure(status === undefined ? { thrown } : { status })) {
        throw new LostAnswer(error);
      }
      throw error;
    }
    if (isUnexpected(initial)) {
      const error = armErrorFromResponse(initial, operation);
      if (isAmbiguousFailure({ status: Number(initial.status) })) throw new LostAnswer(error);
      throw error;
    }
    return initial;
  }

  /**
   * Follows an accepted action's operation for the polling bound; a status monitor that stops
   * answering is a {@link LostAnswer}, since the service accepted the request and only its
   * outcome went missing.
   */
  async followAction<T>(initial: HttpResponse, operation: string): Promise<LongRunningOutcome<T>> {
    try {
      return await pollLongRunningOperation<T>(this.client as Client, initial, this.polling);
    } catch (thrown) {
      throw new LostAnswer(armErrorFromThrown(thrown, operation));
    }
  }
}
