/**
 * The user story "restore": the latest or a chosen recovery point of a backup instance, into a
 * new database (on the same or another server) or as files.
 */
import { AppError, NotFoundError } from "../domain/errors.js";
import { formatDatabaseId, parseServerId } from "../domain/protection/ids.js";
import { datasourceTargetOf } from "../domain/protection/naming.js";
import type { RestoreRequest as ProviderRestoreRequest } from "../providers/ports.js";
import { findBackupInstance, isServerKind } from "./backupInstances.js";
import type { ApplicationDependencies } from "./dependencies.js";

/** A restore request: exactly one target (a new database, a folder or a blob container). */
export interface RestoreRequest {
  readonly backupInstanceName: string;
  /** The vault of the instance; every vault the app covers when absent. */
  readonly vaultName?: string | undefined;
  /** The recovery point to restore; the latest when absent. */
  readonly recoveryPointId?: string | undefined;
  readonly targetDatabaseName?: string | undefined;
  /** The server of the new database; the protected database's server when absent. */
  readonly targetServerName?: string | undefined;
  readonly secretUri?: string | undefined;
  readonly targetFolder?: string | undefined;
  readonly targetContainerUrl?: string | undefined;
  readonly filePrefix?: string | undefined;
}

/** A restore started: its job, what is restored and where to. */
export interface RestoreStarted {
  readonly jobId: string;
  readonly jobName: string;
  readonly vaultId: string;
  readonly backupInstanceName: string;
  readonly recoveryPointId: string;
  readonly recoveryPointTime: string;
  readonly target:
    | { readonly kind: "database"; readonly databaseId: string }
    | { readonly kind: "files"; readonly url: string };
}

/**
 * Starts a restore; the job reports, for a database, whether the restored data matched the
 * recovery point.
 *
 * @throws NotFoundError `BACKUP_INSTANCE_NOT_FOUND`, `RECOVERY_POINT_NOT_FOUND`; AppError
 * `NO_RECOVERY_POINT`, `RESTORE_TARGET_NOT_SUPPORTED`, `RESTORE_TARGET_EXISTS`.
 */
export async function startRestore(
  deps: Pick<ApplicationDependencies, "provider" | "vaults">,
  request: RestoreRequest,
): Promise<RestoreStarted> {
  const { vaultId, instance } = await findBackupInstance(
    deps,
    request.backupInstanceName,
    request.vaultName,
  );

  const points = await deps.provider.backup.listRecoveryPoints(vaultId, instance.name);
  const wanted = request.recoveryPointId?.split("/").pop();
  const point = wanted
    ? points.find((p) => p.recoveryPointId === wanted)
    : points[points.length - 1];
  if (!point) {
    throw wanted
      ? new NotFoundError(
          "RECOVERY_POINT_NOT_FOUND",
          `The backup instance '${instance.name}' has no recovery point '${wanted}'`,
          {
            recommendedAction:
              "Use a recoveryPointId of the instance's recovery points, or leave it out to restore the latest",
          },
        )
      : new AppError(
          "NO_RECOVERY_POINT",
          `The backup instance '${instance.name}' has no recovery point yet`,
          {
            httpStatus: 409,
            recommendedAction: `Run a backup first: POST /api/backup-instances/${instance.name}/backups`,
          },
        );
  }

  let target: ProviderRestoreRequest["target"];
  if (request.targetDatabaseName !== undefined) {
    if (isServerKind(instance)) {
      throw new AppError(
        "RESTORE_TARGET_NOT_SUPPORTED",
        "A Flexible Server recovery point can only be restored as files",
        {
          httpStatus: 400,
          recommendedAction:
            "Send targetFolder (locally) or targetContainerUrl (Azure), then load the files with pg_restore",
        },
      );
    }
    const source = datasourceTargetOf(instance.dataSourceInfo.resourceId);
    const serverName =
      request.targetServerName ??
      ("database" in source ? source.database.serverName : source.server.serverName);
    const server = await deps.provider.directory.resolveServer(serverName);
    const databases = await deps.provider.directory.listDatabases(server.id);
    if (databases.some((d) => d.name === request.targetDatabaseName)) {
      throw new AppError(
        "RESTORE_TARGET_EXISTS",
        `The server '${serverName}' has a database '${request.targetDatabaseName}' already; a restore never overwrites one`,
        {
          httpStatus: 409,
          recommendedAction: "Restore under a new database name",
        },
      );
    }
    target = {
      kind: "database",
      targetDatabaseId: formatDatabaseId({
        ...parseServerId(server.id),
        databaseName: request.targetDatabaseName,
      }),
      ...(request.secretUri ? { secretUri: request.secretUri } : {}),
    };
  } else {
    target = {
      kind: "files",
      url: request.targetFolder ?? request.targetContainerUrl ?? "",
      ...(request.filePrefix ? { filePrefix: request.filePrefix } : {}),
    };
  }

  const { jobId } = await deps.provider.backup.triggerRestore(vaultId, instance.name, {
    recoveryPointId: point.recoveryPointId,
    target,
  });
  return {
    jobId,
    jobName: jobId.split("/").pop() ?? jobId,
    vaultId,
    backupInstanceName: instance.name,
    recoveryPointId: point.recoveryPointId,
    recoveryPointTime: point.recoveryPointTime,
    target:
      target.kind === "database"
        ? { kind: "database", databaseId: target.targetDatabaseId }
        : { kind: "files", url: target.url },
  };
}
