/**
 * The protection lifecycle of backup instances in Azure: stop, suspend and resume (each sent once
 * however its answer is lost), a change of policy validated by the service before it is written,
 * delete, undelete and the soft-deleted instances of a vault.
 */
import type { Client, HttpResponse } from "@azure-rest/core-client";
import { isAppError, NotFoundError } from "../../domain/errors.js";
import {
  lifecycleStateOf,
  lifecycleTargetState,
  resumeOperationFor,
  type DeletedBackupInstance,
  type LifecycleAction,
} from "../../domain/protection/lifecycle.js";
import type { BackupInstance, ProtectionStatus } from "../../domain/protection/types.js";
import type { LifecycleActionOutcome, ProtectionLifecyclePort } from "../ports.js";
import { armErrorFromOperation } from "./armErrors.js";
import { toBackupInstance, type BackupInstanceReading } from "./armMapping.js";
import type { AzureBackupInstances } from "./backupInstances.js";
import {
  isUnexpected,
  listAll,
  runLongRunningOperation,
  type BackupInstance as ArmBackupInstance,
  type BackupInstanceOutput,
  type DeletedBackupInstanceResourceOutput,
} from "./dataProtection/index.js";
import {
  INSTANCE_ROUTE,
  VAULT_ROUTE,
  type DataProtectionRequests,
} from "./dataProtectionRequests.js";
import type { LostAnswerSettler } from "./lostAnswers.js";

/** The service's actions on an instance, by the last segment of their path. */
type InstanceAction = "stopProtection" | "suspendBackups" | "resumeBackups" | "resumeProtection";

/** The protection status an action's state shows as, when an answer reports none. */
const statusOfState: Readonly<Record<string, ProtectionStatus>> = {
  ProtectionConfigured: "ProtectionConfigured",
  ProtectionStopped: "ProtectionStopped",
  BackupSchedulesSuspended: "ProtectionStopped",
  SoftDeleted: "SoftDeleted",
};

/** Properties of a backup instance that the service writes and a PUT must not send back. */
const readOnlyProperties = [
  "protectionStatus",
  "currentProtectionState",
  "protectionErrorDetails",
  "provisioningState",
] as const;

/** The lifecycle port over a vault's `backupInstances` and `deletedBackupInstances`. */
export class AzureProtectionLifecycle implements ProtectionLifecyclePort {
  constructor(
    private readonly requests: DataProtectionRequests,
    private readonly lostAnswers: LostAnswerSettler,
    private readonly instances: AzureBackupInstances,
  ) {}

  stopProtection(vaultId: string, instanceName: string): Promise<LifecycleActionOutcome> {
    return this.act(vaultId, instanceName, "stop", "stopProtection", "Stopping protection");
  }

  suspendBackups(vaultId: string, instanceName: string): Promise<LifecycleActionOutcome> {
    return this.act(vaultId, instanceName, "suspend", "suspendBackups", "Suspending backups");
  }

  /** Resumes with the operation the instance's state needs: backups after a suspend, protection after a stop. */
  async resume(vaultId: string, instanceName: string): Promise<LifecycleActionOutcome> {
    const instance = await this.instances.getBackupInstance(vaultId, instanceName);
    const operation = resumeOperationFor(lifecycleStateOf(instance));
    return this.act(
      vaultId,
      instanceName,
      "resume",
      operation,
      operation === "resumeBackups" ? "Resuming backups" : "Resuming protection",
    );
  }

  /**
   * Moves the instance to another policy: the instance as the service holds it, with the new
   * policy, is validated (`validateForModifyBackup`) and then written (PUT), so that a refusal
   * comes before anything changes.
   *
   * @remarks The body is the service's own answer with its read-only properties left out, so
   * settings the app does not model (identity, validation type) are kept as they are.
   */
  async changePolicy(
    vaultId: string,
    instanceName: string,
    policyId: string,
  ): Promise<LifecycleActionOutcome> {
    const v = this.requests.vault(vaultId);
    const route = this.route(vaultId, instanceName);
    const read = await this.requests.call("Reading the backup instance", () => route.get());
    if (isUnexpected(read)) this.requests.fail(read, "Reading the backup instance");
    const before = toBackupInstance(read.body, v.vaultName, this.reading(vaultId, instanceName));
    const backupInstance = modifiedBackupInstance(read.body.properties, policyId);
    const validating = "Validating the change of policy";
    const validation = await this.requests.call(validating, () =>
      this.requests.client
        .path(
          `${INSTANCE_ROUTE}/validateForModifyBackup`,
          v.subscriptionId,
          v.resourceGroup,
          v.vaultName,
          instanceName,
        )
        .post({ body: { backupInstance } }),
    );
    if (isUnexpected(validation)) this.requests.fail(validation, validating);
    await runLongRunningOperation<unknown>(this.requests.client as Client, validation, validating, {
      ...this.requests.polling,
      resourceLocationConfig: "azure-async-operation",
    });
    const writing = "Changing the backup instance's policy";
    const written = await this.requests.call(writing, () =>
      route.put({ body: { properties: backupInstance } }),
    );
    if (isUnexpected(written)) this.requests.fail(written, writing);
    const state = lifecycleStateOf(before);
    if (written.status !== "200") {
      const outcome = await this.requests.followAction<unknown>(written, writing);
      if (outcome.status === "running") return { running: true };
      if (outcome.status !== "succeeded")
        throw armErrorFromOperation(outcome.lastStatus?.error, writing);
    }
    return { instance: await this.read(vaultId, instanceName, state), running: false };
  }

  /**
   * Deletes the instance, once: after a lost answer, an instance no longer there is the
   * request's doing.
   */
  async deleteBackupInstance(
    vaultId: string,
    instanceName: string,
  ): Promise<LifecycleActionOutcome> {
    const operation = "Deleting the backup instance";
    return this.lostAnswers.sendOnce<LifecycleActionOutcome>({
      operation,
      subject: `backup instance ${instanceName}`,
      send: async () => {
        const initial = await this.requests.sendAction(operation, () =>
          this.route(vaultId, instanceName).delete(),
        );
        if (initial.status === "202") return this.follow(initial, operation, async () => undefined);
        return { running: false };
      },
      find: async () =>
        (await this.findInstance(vaultId, instanceName)) === undefined
          ? { running: false }
          : undefined,
    });
  }

  /** Brings a soft-deleted instance back, once; it returns `ProtectionStopped`. */
  async undeleteBackupInstance(
    vaultId: string,
    instanceName: string,
  ): Promise<LifecycleActionOutcome> {
    const v = this.requests.vault(vaultId);
    const operation = "Undeleting the backup instance";
    const restored = () => this.read(vaultId, instanceName, "ProtectionStopped");
    return this.lostAnswers.sendOnce<LifecycleActionOutcome>({
      operation,
      subject: `backup instance ${instanceName}`,
      send: async () => {
        const initial = await this.requests.sendAction(operation, () =>
          this.requests.client
            .path(
              `${VAULT_ROUTE}/deletedBackupInstances/{backupInstanceName}/undelete`,
              v.subscriptionId,
              v.resourceGroup,
              v.vaultName,
              instanceName,
            )
            .post(),
        );
        if (initial.status === "202") return this.follow(initial, operation, restored);
        return { instance: await restored(), running: false };
      },
      find: async () => {
        const instance = await this.findInstance(vaultId, instanceName);
        return instance ? { instance, running: false } : undefined;
      },
    });
  }

  async listDeletedBackupInstances(vaultId: string): Promise<DeletedBackupInstance[]> {
    const v = this.requests.vault(vaultId);
    const operation = "Listing deleted backup instances";
    const first = await this.requests.call(operation, () =>
      this.requests.client
        .path(
          `${VAULT_ROUTE}/deletedBackupInstances`,
          v.subscriptionId,
          v.resourceGroup,
          v.vaultName,
        )
        .get(),
    );
    const items = await this.requests.call(operation, () =>
      listAll<DeletedBackupInstanceResourceOutput>(this.requests.client, first, operation),
    );
    return items.flatMap((item) => {
      if (!item.properties?.dataSourceInfo) return [];
      const name = item.name ?? item.id?.split("/").pop() ?? "";
      const instance = toBackupInstance(
        { ...item, properties: item.properties },
        v.vaultName,
        this.reading(vaultId, name, "SoftDeleted"),
      );
      const info = item.properties.deletionInfo;
      return [
        {
          ...instance,
          deletionInfo: {
            deletionTime: info?.deletionTime ?? "",
            ...(info?.scheduledPurgeTime ? { scheduledPurgeTime: info.scheduledPurgeTime } : {}),
            ...(info?.deleteActivityID ? { deleteActivityId: info.deleteActivityID } : {}),
          },
        },
      ];
    });
  }

  /**
   * Sends an action on an instance once: after a lost answer the instance is read, and one
   * already in the action's state is the request's doing.
   */
  private act(
    vaultId: string,
    instanceName: string,
    action: LifecycleAction,
    segment: InstanceAction,
    operation: string,
  ): Promise<LifecycleActionOutcome> {
    const target = lifecycleTargetState(action, "");
    const done = () => this.read(vaultId, instanceName, target);
    return this.lostAnswers.sendOnce<LifecycleActionOutcome>({
      operation,
      subject: `backup instance ${instanceName}`,
      send: async () => {
        const initial = await this.requests.sendAction(operation, () =>
          this.actionRoute(vaultId, instanceName, segment).post(),
        );
        if (initial.status === "202") return this.follow(initial, operation, done);
        return { instance: await done(), running: false };
      },
      find: async () => {
        const instance = await this.instances.getBackupInstance(vaultId, instanceName);
        // Without the service's state, whether the action was carried out cannot be told: the
        // look fails, and the action is not sent a second time.
        if (instance.currentProtectionState === undefined) {
          throw new Error(`the service reports no protection state for ${instanceName}`);
        }
        return lifecycleStateOf(instance) === target ? { instance, running: false } : undefined;
      },
    });
  }

  /**
   * Follows an accepted action for the polling bound: still running is answered as such (the
   * orchestration follows the state, rather than the action being sent again while it runs).
   */
  private async follow(
    initial: HttpResponse,
    operation: string,
    done: () => Promise<BackupInstance | undefined>,
  ): Promise<LifecycleActionOutcome> {
    const outcome = await this.requests.followAction<unknown>(initial, operation);
    if (outcome.status === "running") return { running: true };
    if (outcome.status !== "succeeded")
      throw armErrorFromOperation(outcome.lastStatus?.error, operation);
    const instance = await done();
    return instance ? { instance, running: false } : { running: false };
  }

  /** The route of one of the service's actions on an instance. */
  private actionRoute(vaultId: string, instanceName: string, segment: InstanceAction) {
    const { subscriptionId: s, resourceGroup: g, vaultName: n } = this.requests.vault(vaultId);
    const client = this.requests.client;
    switch (segment) {
      case "stopProtection":
        return client.path(`${INSTANCE_ROUTE}/stopProtection`, s, g, n, instanceName);
      case "suspendBackups":
        return client.path(`${INSTANCE_ROUTE}/suspendBackups`, s, g, n, instanceName);
      case "resumeBackups":
        return client.path(`${INSTANCE_ROUTE}/resumeBackups`, s, g, n, instanceName);
      case "resumeProtection":
        return client.path(`${INSTANCE_ROUTE}/resumeProtection`, s, g, n, instanceName);
    }
  }

  /** The route of one backup instance. */
  private route(vaultId: string, instanceName: string) {
    const v = this.requests.vault(vaultId);
    return this.requests.client.path(
      INSTANCE_ROUTE,
      v.subscriptionId,
      v.resourceGroup,
      v.vaultName,
      instanceName,
    );
  }

  /** How the app read an instance, with the state a request just brought it to as the fallback. */
  private reading(vaultId: string, instanceName: string, state?: string): BackupInstanceReading {
    const status = state === undefined ? undefined : statusOfState[state];
    return {
      ...this.requests.reading(vaultId, instanceName, status),
      ...(state ? { stateWhenUnreported: state } : {}),
    };
  }

  /** Reads an instance; `state` is what a request just brought it to, for an answer that reports none. */
  private async read(
    vaultId: string,
    instanceName: string,
    state: string,
  ): Promise<BackupInstance> {
    const operation = "Reading the backup instance";
    const response = await this.requests.call(operation, () =>
      this.route(vaultId, instanceName).get(),
    );
    if (isUnexpected(response)) this.requests.fail(response, operation);
    return toBackupInstance(
      response.body,
      this.requests.vault(vaultId).vaultName,
      this.reading(vaultId, instanceName, state),
    );
  }

  /** An instance, or `undefined` when the vault holds none of that name. */
  private async findInstance(
    vaultId: string,
    instanceName: string,
  ): Promise<BackupInstance | undefined> {
    try {
      return await this.instances.getBackupInstance(vaultId, instanceName);
    } catch (error) {
      if (error instanceof NotFoundError || (isAppError(error) && error.httpStatus === 404))
        return undefined;
      throw error;
    }
  }
}

/**
 * The instance as the service holds it, with another policy and without what the service
 * writes itself (its states, and the policy's version).
 */
function modifiedBackupInstance(
  properties: BackupInstanceOutput | undefined,
  policyId: string,
): ArmBackupInstance {
  const writable: Record<string, unknown> = { ...properties };
  for (const key of readOnlyProperties) delete writable[key];
  // The service's own body, kept whole: properties the app does not model (identity details,
  // validation type) go back as they came.
  return { ...writable, policyInfo: { policyId } } as unknown as ArmBackupInstance;
}
