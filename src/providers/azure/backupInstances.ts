/**
 * Backup instances of a vault: validation, creation followed for a short bound, reads, and
 * stopping protection once however its answer is lost.
 */
import type { Client } from "@azure-rest/core-client";
import { AppError } from "../../domain/errors.js";
import { sameResourceId } from "../../domain/protection/ids.js";
import type {
  BackupInstance,
  BackupInstanceSpec,
  ProtectionStatus,
} from "../../domain/protection/types.js";
import type {
  BackupInstancePort,
  BackupValidation,
  CreateBackupInstanceOptions,
} from "../ports.js";
import { armErrorFromOperation, armErrorFromThrown } from "./armErrors.js";
import { lastSegment, toBackupInstance } from "./armMapping.js";
import { toArmBackupInstance, toArmBackupInstanceResource } from "./backupInstanceBuilder.js";
import {
  isUnexpected,
  listAll,
  operationStillRunning,
  pollLongRunningOperation,
  runLongRunningOperation,
  type BackupInstanceResourceOutput,
  type BackupInstancesGet,
  type LongRunningOutcome,
  type OperationJobExtendedInfoOutput,
} from "./dataProtection/index.js";
import {
  INSTANCE_ROUTE,
  VAULT_ROUTE,
  type DataProtectionRequests,
} from "./dataProtectionRequests.js";
import type { LostAnswerSettler } from "./lostAnswers.js";

/** The backup instance port over a vault's `backupInstances`. */
export class AzureBackupInstances implements BackupInstancePort {
  constructor(
    private readonly requests: DataProtectionRequests,
    private readonly lostAnswers: LostAnswerSettler,
  ) {}

  async validateForBackup(vaultId: string, spec: BackupInstanceSpec): Promise<BackupValidation> {
    const v = this.requests.vault(vaultId);
    const operation = "Validating the backup instance";
    const initial = await this.requests.call(operation, () =>
      this.requests.client
        .path(`${VAULT_ROUTE}/validateForBackup`, v.subscriptionId, v.resourceGroup, v.vaultName)
        .post({ body: { backupInstance: toArmBackupInstance(spec) } }),
    );
    if (isUnexpected(initial)) this.requests.fail(initial, operation);
    // Only the outcome matters, which the status monitor reports: no read of the result after it.
    if (initial.status === "202") {
      await runLongRunningOperation<OperationJobExtendedInfoOutput>(
        this.requests.client as Client,
        initial,
        operation,
        { ...this.requests.polling, resourceLocationConfig: "azure-async-operation" },
      );
    }
    return {
      checks: [
        `${spec.friendlyName} is not protected by another backup instance`,
        `the policy ${lastSegment(spec.policyId)} exists in vault ${v.vaultName}`,
        `the vault's identity can reach ${spec.dataSourceInfo.resourceName}`,
      ],
    };
  }

  /**
   * Creates the instance and answers it as it stands once its operation ends or the short
   * polling bound passes: possibly still `ConfiguringProtection`, which the caller follows.
   *
   * @remarks Without `options.validated`, the instance is read first (a retried call finds its
   * own instance, which validation would now call protected) and the spec validated, then
   * written. With it, the PUT goes out at once: a PUT of an instance that exists is an update
   * that answers it, so a retried create under the same name still answers the existing
   * instance, with one write and no extra read.
   */
  async createBackupInstance(
    vaultId: string,
    instanceName: string,
    spec: BackupInstanceSpec,
    options: CreateBackupInstanceOptions = {},
  ): Promise<BackupInstance> {
    const v = this.requests.vault(vaultId);
    const route = this.route(vaultId, instanceName);
    let instance: BackupInstance;
    // Whether the instance existed before this call (a retry), and may belong to another datasource.
    let existed: boolean;
    if (options.validated) {
      ({ instance, existed } = await this.putBackupInstance(route, vaultId, instanceName, spec));
    } else {
      const existing = await this.requests.call("Reading the backup instance", () => route.get());
      existed = !isUnexpected(existing);
      if (!isUnexpected(existing)) {
        instance = toBackupInstance(
          existing.body,
          v.vaultName,
          this.requests.reading(vaultId, instanceName),
        );
      } else {
        if (existing.status !== "404") this.requests.fail(existing, "Reading the backup instance");
        await this.validateForBackup(vaultId, spec);
        ({ instance } = await this.putBackupInstance(route, vaultId, instanceName, spec));
      }
    }
    if (
      existed &&
      !sameResourceId(instance.dataSourceInfo.resourceId, spec.dataSourceInfo.resourceId)
    ) {
      throw new AppError(
        "BACKUP_INSTANCE_NAME_IN_USE",
        `Backup instance '${instanceName}' already protects ${instance.dataSourceInfo.resourceId}`,
        {
          httpStatus: 409,
          retryable: false,
          recommendedAction: "Choose another backup instance name",
        },
      );
    }
    // An instance still ConfiguringProtection is answered as it is: waiting for it is the
    // orchestration's (durable timers), not this call's, which runs inside an activity.
    if (instance.protectionStatus === "ConfiguringProtectionFailed") {
      const detail = instance.protectionErrorDetails;
      // A service code the catalogue does not know says no more than that configuring failed.
      const code =
        detail === undefined || detail.code === "AZURE_REQUEST_FAILED"
          ? "CONFIGURING_PROTECTION_FAILED"
          : detail.code;
      throw new AppError(code, detail?.message ?? "Configuring protection failed", {
        httpStatus: 502,
        retryable: detail?.isRetryable ?? false,
        ...(detail?.serviceCode ? { serviceCode: detail.serviceCode } : {}),
        ...(detail?.recommendedAction
          ? { recommendedAction: detail.recommendedAction.join(" ") }
          : {}),
      });
    }
    return instance;
  }

  /** The PUT of a backup instance, followed to the end of its operation or for the polling bound. */
  private async putBackupInstance(
    route: BackupInstancesGet,
    vaultId: string,
    instanceName: string,
    spec: BackupInstanceSpec,
  ): Promise<{ instance: BackupInstance; existed: boolean }> {
    const v = this.requests.vault(vaultId);
    const operation = "Creating the backup instance";
    // The create succeeded: an answer that reports no state means the state it was asked for.
    const reading = () => this.requests.reading(vaultId, instanceName, "ProtectionConfigured");
    const initial = await this.requests.call(operation, () =>
      route.put({ body: toArmBackupInstanceResource(spec) }),
    );
    if (isUnexpected(initial)) this.requests.fail(initial, operation);
    // 200 is the update of an instance that was there; a new one is 201 or 202 with an operation.
    if (initial.status === "200") {
      return { instance: toBackupInstance(initial.body, v.vaultName, reading()), existed: true };
    }
    // The service answers 201 with the instance already provisioned (its REST docs show
    // `provisioningState: Succeeded`, `ProtectionConfigured`): the operation behind the status URL
    // has nothing left to tell, and polling it would spend Resource Manager reads for nothing.
    if (
      initial.status === "201" &&
      initial.body.properties?.provisioningState?.toLowerCase() === "succeeded"
    ) {
      return { instance: toBackupInstance(initial.body, v.vaultName, reading()), existed: false };
    }
    let outcome: LongRunningOutcome<BackupInstanceResourceOutput>;
    try {
      outcome = await pollLongRunningOperation<BackupInstanceResourceOutput>(
        this.requests.client as Client,
        initial,
        this.requests.polling,
      );
    } catch (thrown) {
      throw armErrorFromThrown(thrown, operation);
    }
    if (outcome.status === "failed" || outcome.status === "canceled") {
      throw armErrorFromOperation(outcome.lastStatus?.error, operation);
    }
    // Still running after the short wait: the instance is answered as it stands
    // (ConfiguringProtection), for the orchestration to follow.
    if (outcome.status === "running") {
      const read = await this.requests.call("Reading the backup instance", () => route.get());
      // Not visible yet: the activity's durable retry sends the same PUT again later.
      if (read.status === "404") throw operationStillRunning(operation, outcome.statusUrl);
      if (isUnexpected(read)) this.requests.fail(read, "Reading the backup instance");
      const stillRunning = this.requests.reading(vaultId, instanceName, "ConfiguringProtection");
      return { instance: toBackupInstance(read.body, v.vaultName, stillRunning), existed: false };
    }
    // The final read may carry no instance (a `Location` answering 200 or 204 with no body).
    if (!outcome.result?.properties?.dataSourceInfo) {
      const read = await this.requests.call("Reading the backup instance", () => route.get());
      if (isUnexpected(read)) this.requests.fail(read, "Reading the backup instance");
      return { instance: toBackupInstance(read.body, v.vaultName, reading()), existed: false };
    }
    return { instance: toBackupInstance(outcome.result, v.vaultName, reading()), existed: false };
  }

  async getBackupInstance(vaultId: string, instanceName: string): Promise<BackupInstance> {
    return this.readInstance(vaultId, instanceName);
  }

  /** The route of one backup instance. */
  private route(vaultId: string, instanceName: string): BackupInstancesGet {
    const v = this.requests.vault(vaultId);
    return this.requests.client.path(
      INSTANCE_ROUTE,
      v.subscriptionId,
      v.resourceGroup,
      v.vaultName,
      instanceName,
    );
  }

  /** Reads an instance; `statusWhenUnreported` is the state a request just brought it to. */
  private async readInstance(
    vaultId: string,
    instanceName: string,
    statusWhenUnreported?: ProtectionStatus,
  ): Promise<BackupInstance> {
    const operation = "Reading the backup instance";
    const response = await this.requests.call(operation, () =>
      this.route(vaultId, instanceName).get(),
    );
    if (isUnexpected(response)) this.requests.fail(response, operation);
    return toBackupInstance(
      response.body,
      this.requests.vault(vaultId).vaultName,
      this.requests.reading(vaultId, instanceName, statusWhenUnreported),
    );
  }

  async listBackupInstances(vaultId: string): Promise<BackupInstance[]> {
    const v = this.requests.vault(vaultId);
    const first = await this.requests.call("Listing backup instances", () =>
      this.requests.client
        .path(`${VAULT_ROUTE}/backupInstances`, v.subscriptionId, v.resourceGroup, v.vaultName)
        .get(),
    );
    const items = await this.requests.call("Listing backup instances", () =>
      listAll<BackupInstanceResourceOutput>(
        this.requests.client,
        first,
        "Listing backup instances",
      ),
    );
    const observedAt = new Date(this.requests.now()).toISOString();
    return items.map((item) => toBackupInstance(item, v.vaultName, { observedAt }));
  }

  async listBackupInstancesForDatasource(datasourceId: string): Promise<BackupInstance[]> {
    const operation = "Listing the backup instances of the datasource";
    const first = await this.requests.call(operation, () =>
      this.requests.client
        .path("/{resourceId}/providers/Microsoft.DataProtection/backupInstances", {
          value: datasourceId.replace(/^\/+/, ""),
          allowReserved: true,
        })
        .get(),
    );
    const items = await this.requests.call(operation, () =>
      listAll<BackupInstanceResourceOutput>(this.requests.client, first, operation),
    );
    const observedAt = new Date(this.requests.now()).toISOString();
    return items.map((item) =>
      toBackupInstance(item, /\/backupVaults\/([^/]+)/i.exec(item.id ?? "")?.[1] ?? "", {
        observedAt,
      }),
    );
  }

  /**
   * Stops protection, once: after a lost answer the instance is read, and one already stopped
   * is the request's doing.
   */
  async stopProtection(vaultId: string, instanceName: string): Promise<BackupInstance> {
    const v = this.requests.vault(vaultId);
    const operation = "Stopping protection";
    return this.lostAnswers.sendOnce({
      operation,
      subject: `backup instance ${instanceName}`,
      send: async () => {
        const initial = await this.requests.sendAction(operation, () =>
          this.requests.client
            .path(
              `${INSTANCE_ROUTE}/stopProtection`,
              v.subscriptionId,
              v.resourceGroup,
              v.vaultName,
              instanceName,
            )
            .post(),
        );
        if (initial.status === "202") {
          const outcome = await this.requests.followAction<unknown>(initial, operation);
          // Sending it again while it runs would be refused: the caller asks again later.
          if (outcome.status === "running")
            throw operationStillRunning(operation, outcome.statusUrl);
          if (outcome.status !== "succeeded")
            throw armErrorFromOperation(outcome.lastStatus?.error, operation);
        }
        // The stop succeeded: an answer that reports no state means the state it was asked for.
        return this.readInstance(vaultId, instanceName, "ProtectionStopped");
      },
      find: async () => {
        const instance = await this.getBackupInstance(vaultId, instanceName);
        return instance.protectionStatus === "ProtectionStopped" ? instance : undefined;
      },
    });
  }
}
