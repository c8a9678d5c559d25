/**
 * The fake Resource Manager's restores: `BackupInstances_ValidateForRestore` and
 * `BackupInstances_TriggerRestore`, with the service's rules for PostgreSQL. A Flexible Server
 * restores as files only; the vault's identity must hold Storage Blob Data Contributor on the
 * target storage account or container (the service's documented restore permission); and a
 * restore as files writes real dumps into a real container: `pg_dump -Fc` of each database of the
 * source the test registered, uploaded to the container (Azurite on loopback) as
 * `{filePrefix}_{database}.dump`. The job stays InProgress until the files are written.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { BlobServiceClient } from "@azure/storage-blob";

type Json = Record<string, unknown>;

/** Storage Blob Data Contributor's role definition GUID. */
export const STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";

/** A PostgreSQL server whose databases a restore as files dumps. */
export interface FakeRestoreSource {
  /** `pg_dump` connection URL of each database, by database name. */
  readonly databases: Readonly<Record<string, string>>;
  /** Folder of `pg_dump`. */
  readonly binDir: string;
}

/** A storage account the fake's restores can write into. */
export interface FakeStorageAccount {
  /** ARM id of the account. */
  readonly id: string;
  /** Where its blob containers are (`https://{account}.blob.core.windows.net`, or Azurite's `http://127.0.0.1:{port}/{account}`). */
  readonly blobEndpoint: string;
  /** A connection string that reaches the account's blob service. */
  readonly connectionString: string;
}

/** The parts of the fake server a restore uses, handed over by the server. */
export interface RestoreHost<Answer> {
  instanceOf(params: Record<string, string>): FakeInstance | undefined;
  hasRecoveryPoint(instanceId: string, recoveryPointId: string): boolean;
  createRestoreJob(instance: FakeInstance, destination: string): FakeJob;
  startOperation(vault: unknown, outcome: () => { error?: Json; jobId?: string }): Answer;
  roleAssignments(): readonly { scope: string; roleDefinitionId: string; principalId: string }[];
  answer(status: number, body: unknown): Answer;
  userError(status: number, code: string, message: string, action: string[]): Answer;
  userFacingError(code: string, message: string, action: string[], detailed?: string): Json;
  readonly principalId: string;
}

/** A backup instance as the fake holds it. */
export interface FakeInstance {
  readonly id: string;
  readonly name: string;
  readonly vault: unknown;
  properties: Json;
}

/** A job as the fake holds it. */
export interface FakeJob {
  readonly id: string;
  reads: number;
  finalStatus: "Completed" | "Failed";
  errorDetails?: Json[];
}

/** A blob a restore wrote. */
export interface WrittenFile {
  readonly containerUrl: string;
  readonly blobName: string;
  readonly bytes: number;
}

/** Restores of the fake service. */
export class FakeRestores<Answer> {
  private readonly sources = new Map<string, FakeRestoreSource>();
  private readonly accounts: FakeStorageAccount[] = [];
  private readonly refusals = new Map<string, { code: string; message: string }>();
  private readonly pending = new Set<Promise<void>>();
  private readonly leftOut = new Set<string>();
  /** The files restores wrote, in order. */
  readonly written: WrittenFile[] = [];

  constructor(private readonly host: RestoreHost<Answer>) {}

  /** Registers what a restore of a datasource (a server's ARM id) dumps. */
  setSource(datasourceId: string, source: FakeRestoreSource): void {
    this.sources.set(datasourceId.toLowerCase(), source);
  }

  /** Registers a storage account restores can write into. */
  addStorageAccount(account: FakeStorageAccount): void {
    this.accounts.push(account);
  }

  /** The storage accounts registered, as Resource Graph lists them (`storageAccounts.ts`). */
  storageAccounts(): readonly FakeStorageAccount[] {
    return this.accounts;
  }

  /** Makes validateRestore (and the restore) of a backup instance fail with the service's error. */
  refuse(backupInstanceName: string, code: string, message: string): void {
    this.refusals.set(backupInstanceName.toLowerCase(), { code, message });
  }

  /** Lets restores of a backup instance through again after {@link refuse}. */
  allow(backupInstanceName: string): void {
    this.refusals.delete(backupInstanceName.toLowerCase());
  }

  /**
   * Makes restores as files write no dump of the database (as a service that lost it would), the
   * others as before, until {@link writeEveryDump}.
   */
  leaveOutDump(databaseName: string): void {
    this.leftOut.add(databaseName);
  }

  /** Lets restores as files write every database's dump again after {@link leaveOutDump}. */
  writeEveryDump(): void {
    this.leftOut.clear();
  }

  /** Resolves once every restore started so far has written its files (or failed). */
  async settled(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  /** `BackupInstances_ValidateForRestore`. */
  validate(params: Record<string, string>, body: Json): Answer {
    const request = body["restoreRequestObject"] as Json;
    const checked = this.check(params, request);
    if ("refused" in checked) return checked.refused;
    const { instance, failure } = checked;
    return this.host.startOperation(instance.vault, () =>
      failure ? { error: failure } : { jobId: randomUUID() },
    );
  }

  /** `BackupInstances_TriggerRestore`. */
  trigger(params: Record<string, string>, body: Json): Answer {
    const checked = this.check(params, body);
    if ("refused" in checked) return checked.refused;
    const { instance, failure } = checked;
    const target = body["restoreTargetInfo"] as Json;
    const files = target["objectType"] === "RestoreFilesTargetInfo";
    const details = (target["targetDetails"] ?? {}) as Json;
    const destination = files
      ? String(details["url"])
      : String((target["datasourceInfo"] as Json)["resourceID"]);
    const job = this.host.createRestoreJob(instance, destination);
    if (failure) {
      // A job's error is the plain UserFacingError, not the envelope an operation carries.
      job.finalStatus = "Failed";
      job.errorDetails = [
        {
          code: failure["code"],
          message: failure["message"],
          recommendedAction: ["Fix what the message names, then retry the restore."],
          isRetryable: false,
          isUserError: true,
        },
      ];
    } else if (files) {
      const datasourceId = String((instance.properties["dataSourceInfo"] as Json)["resourceID"]);
      // Held InProgress while the files are written: its reads count from when they are.
      job.reads = Number.NEGATIVE_INFINITY;
      const writing = this.writeFiles(
        datasourceId,
        String(details["url"]),
        String(details["filePrefix"]),
      )
        .catch((error: unknown) => {
          job.finalStatus = "Failed";
          job.errorDetails = [
            {
              code: "UserErrorRestoreFailed",
              message: `Writing the restored files failed: ${(error as Error).message}`,
              recommendedAction: ["Check the target container and retry."],
              isRetryable: false,
              isUserError: true,
            },
          ];
        })
        .finally(() => {
          job.reads = 0;
          this.pending.delete(writing);
        });
      this.pending.add(writing);
    }
    return this.host.startOperation(instance.vault, () => ({ jobId: job.id }));
  }

  /**
   * The checks both requests share: what is refused at once (a 4xx answer), and what the
   * service reports as the operation's (or the job's) failure.
   */
  private check(
    params: Record<string, string>,
    request: Json,
  ): { refused: Answer } | { instance: FakeInstance; failure?: Json } {
    const instance = this.host.instanceOf(params);
    if (!instance) {
      return {
        refused: this.host.answer(404, {
          error: {
            code: "ResourceNotFound",
            message: `Backup instance '${params["backupInstanceName"]}' was not found.`,
          },
        }),
      };
    }
    const pointId = String(request["recoveryPointId"]);
    if (!this.host.hasRecoveryPoint(instance.id, pointId)) {
      return {
        refused: this.host.answer(404, {
          error: {
            code: "ResourceNotFound",
            message: `Recovery point '${pointId}' was not found.`,
          },
        }),
      };
    }
    const target = request["restoreTargetInfo"] as Json;
    const datasourceType = String(
      (instance.properties["dataSourceInfo"] as Json)["datasourceType"],
    );
    if (
      datasourceType.toLowerCase().endsWith("flexibleservers") &&
      target["objectType"] !== "RestoreFilesTargetInfo"
    ) {
      return {
        refused: this.host.userError(
          400,
          "UserErrorInvalidRestoreTarget",
          "Flexible Servers restore as files only.",
          ["Restore as files into a storage container."],
        ),
      };
    }
    const refusal = this.refusals.get(instance.name.toLowerCase());
    if (refusal) {
      return {
        instance,
        failure: this.host.userFacingError(refusal.code, refusal.message, [
          "Fix what the message names, then retry the restore.",
        ]),
      };
    }
    if (target["objectType"] === "RestoreFilesTargetInfo") {
      const url = String((target["targetDetails"] as Json)["url"]);
      const account = this.accountOf(url);
      const container = url.replace(/\/+$/, "").split("/").at(-1) ?? "";
      const scopes = account
        ? [account.id, `${account.id}/blobServices/default/containers/${container}`]
        : [];
      if (!account || !scopes.some((scope) => this.holdsContributor(scope))) {
        return {
          instance,
          failure: this.host.userFacingError(
            "UserErrorMissingRequiredPermissions",
            "Appropriate permissions to perform the operation is missing.",
            [
              "Grant appropriate permissions to perform this operation as mentioned at https://aka.ms/UserErrorMissingRequiredPermissions and retry the operation.",
            ],
            `The Backup vault's identity ${this.host.principalId} does not have 'Storage Blob Data Contributor' on ${account?.id ?? url}`,
          ),
        };
      }
    }
    return { instance };
  }

  private accountOf(containerUrl: string): FakeStorageAccount | undefined {
    const url = containerUrl.replace(/\/+$/, "").toLowerCase();
    return this.accounts.find((a) =>
      url.startsWith(`${a.blobEndpoint.replace(/\/+$/, "").toLowerCase()}/`),
    );
  }

  /** Whether the vault's identity holds Storage Blob Data Contributor at the scope or above. */
  private holdsContributor(scope: string): boolean {
    const s = scope.toLowerCase();
    return this.host
      .roleAssignments()
      .some(
        (a) =>
          a.principalId === this.host.principalId &&
          a.roleDefinitionId.toLowerCase().endsWith(`/${STORAGE_BLOB_DATA_CONTRIBUTOR}`) &&
          (s === a.scope.toLowerCase() || s.startsWith(`${a.scope.toLowerCase()}/`)),
      );
  }

  /** Dumps each database of the source into the container, one blob per database. */
  private async writeFiles(
    datasourceId: string,
    containerUrl: string,
    filePrefix: string,
  ): Promise<void> {
    const source = this.sources.get(datasourceId.toLowerCase());
    if (!source) throw new Error(`the test gave the fake no source for ${datasourceId}`);
    const account = this.accountOf(containerUrl);
    if (!account) throw new Error(`no storage account serves ${containerUrl}`);
    const containerName = containerUrl.replace(/\/+$/, "").split("/").at(-1) ?? "";
    const container = BlobServiceClient.fromConnectionString(
      account.connectionString,
    ).getContainerClient(containerName);
    for (const [database, url] of Object.entries(source.databases)) {
      if (this.leftOut.has(database)) continue;
      const dump = await pgDump(source.binDir, url);
      const blobName = `${filePrefix}_${database}.dump`;
      // FailIfExists: the service never overwrites a file of an earlier restore.
      await container.getBlockBlobClient(blobName).uploadData(dump, {
        conditions: { ifNoneMatch: "*" },
      });
      this.written.push({ containerUrl, blobName, bytes: dump.length });
    }
  }
}

/** `pg_dump -Fc` of one database, in memory. */
function pgDump(binDir: string, url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(binDir, "pg_dump"), ["-Fc", "--no-password", "-d", url], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0
        ? resolve(Buffer.concat(out))
        : reject(new Error(`pg_dump exited ${code}: ${err}`)),
    );
  });
}
