/**
 * Azure's scratch targets for restore drills: the recovery point is restored as files into the
 * drill container (`DRILL_CONTAINER_URL`) under the drill's scratch name, then loaded and verified
 * into a scratch database of that name on the scratch server (`DRILL_SERVER_SECRET_URI`) by the
 * restore to a server's own load; removal drops the database and deletes the drill's blobs.
 *
 * @remarks Every name a drill leaves behind (the database, a whole server's databases, the loads'
 * temporary databases, the blobs) starts with the scratch name, itself under the reserved prefix
 * `pgprotect_drill_`: a sweep recognises a crashed drill's leftovers by that prefix alone.
 */
import type { TokenCredential } from "@azure/identity";
import { BlobServiceClient, ContainerClient } from "@azure/storage-blob";
import {
  belongsToScratchTarget,
  drillScratchTargetOf,
  isScratchDatabaseName,
  SCRATCH_DATABASE_PREFIX,
} from "../../domain/drills/drill.js";
import { AppError } from "../../domain/errors.js";
import { parseConnectionString } from "../../domain/protection/connectionString.js";
import { clientConfig, quoteIdent, withClient } from "../postgresTools.js";
import type {
  BackupOperationsPort,
  DrillTargetPort,
  ScratchRestoreStarted,
  SecretPort,
} from "../ports.js";
import { containerNameOf } from "./containerUrl.js";

/** Options of {@link createAzureDrillTargets}. */
export interface AzureDrillTargetOptions {
  /** Starts the restore as files. */
  readonly backup: Pick<BackupOperationsPort, "triggerRestore">;
  /** Reads the scratch server's connection string. */
  readonly secrets: Pick<SecretPort, "getSecret">;
  /** The drill container's URL. */
  readonly containerUrl: string;
  /** ARM id of the container's storage account (or container), sent as the restore's target. */
  readonly storageScope?: string;
  /** The secret of the scratch server's connection string. */
  readonly serverSecretUri: string;
  /** Deletes the drill's blobs (the app's identity needs Storage Blob Data Contributor). */
  readonly credential: TokenCredential;
  /** A connection string of the container's account, used instead of the identity (Azurite). */
  readonly storageConnectionString?: string;
}

/** Creates the port. */
export function createAzureDrillTargets(options: AzureDrillTargetOptions): DrillTargetPort {
  const container = (): ContainerClient =>
    options.storageConnectionString
      ? BlobServiceClient.fromConnectionString(options.storageConnectionString).getContainerClient(
          containerNameOf(options.containerUrl),
        )
      : new ContainerClient(options.containerUrl, options.credential);

  /** Drops the scratch databases and blobs `doomed` picks; answers the scratch names removed. */
  const remove = async (doomed: (name: string) => boolean): Promise<string[]> => {
    const removed = new Set<string>();
    const params = parseConnectionString(await options.secrets.getSecret(options.serverSecretUri));
    await withClient(
      clientConfig(params, params.database ?? "postgres"),
      "Removing drill scratch databases of the scratch server",
      async (client) => {
        const rows = (
          await client.query<{ datname: string }>(
            "SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname",
            [SCRATCH_DATABASE_PREFIX],
          )
        ).rows;
        for (const { datname } of rows) {
          if (!doomed(datname)) continue;
          // FORCE: a pg_restore cut off by a crash may still hold a session.
          await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
          removed.add(datname);
        }
      },
    );
    const blobs = container();
    for await (const blob of blobs.listBlobsFlat({ prefix: SCRATCH_DATABASE_PREFIX })) {
      if (!doomed(blob.name)) continue;
      await blobs.deleteBlob(blob.name, { deleteSnapshots: "include" }).catch((error: unknown) => {
        // Gone already (a second sweep): nothing left to remove.
        if ((error as { statusCode?: number }).statusCode !== 404) throw error;
      });
      removed.add(blob.name);
    }
    return [...removed];
  };

  return {
    filesTarget: {
      containerUrl: options.containerUrl,
      ...(options.storageScope ? { storageScope: options.storageScope } : {}),
    },

    async startScratchRestore(
      vaultId: string,
      backupInstanceName: string,
      recoveryPointId: string,
      scratchName: string,
    ): Promise<ScratchRestoreStarted> {
      if (!isScratchDatabaseName(scratchName)) {
        // Only a reserved name may be dropped by a later sweep: anything else is refused here.
        throw new AppError(
          "RESTORE_TARGET_INVALID",
          `'${scratchName}' is not a drill's scratch name (${SCRATCH_DATABASE_PREFIX}...)`,
          { httpStatus: 400 },
        );
      }
      const { jobId } = await options.backup.triggerRestore(vaultId, backupInstanceName, {
        recoveryPointId,
        target: {
          kind: "files",
          url: options.containerUrl,
          filePrefix: scratchName,
          ...(options.storageScope ? { storageScope: options.storageScope } : {}),
        },
      });
      return {
        jobId,
        load: {
          containerUrl: options.containerUrl,
          filePrefix: scratchName,
          secretUri: options.serverSecretUri,
          databaseName: scratchName,
        },
      };
    },

    async removeScratchTargets(request: {
      readonly scratchName?: string;
      readonly keep?: readonly string[];
    }): Promise<string[]> {
      const { scratchName } = request;
      const keep = request.keep ?? [];
      const removed = await remove((name) =>
        scratchName !== undefined
          ? belongsToScratchTarget(name, scratchName)
          : !keep.some((kept) => belongsToScratchTarget(name, kept)),
      );
      // Answered by scratch name: a drill's databases and blobs are one scratch target.
      return [...new Set(removed.map((name) => drillScratchTargetOf(name) ?? name))];
    },
  };
}
