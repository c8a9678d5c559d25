import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { z } from "zod";
import { appDependencies } from "../composition.js";
import { AppError, NotFoundError } from "../domain/errors.js";
import { formatDatabaseId, parseServerId, parseVaultId } from "../domain/protection/ids.js";
import {
  assertName,
  restoreDatabaseNameRule,
  restoreFilePrefixRule,
  restoreFolderRule,
} from "../domain/protection/names.js";
import { datasourceTargetOf } from "../domain/protection/naming.js";
import { findBackupInstance, isServerKind } from "../http/backupLookup.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";
import { readBody } from "../http/requestBody.js";
import type { RestoreRequest } from "../providers/ports.js";

/** The body of `POST /api/backup-instances/{name}/restores`. */
export const startRestoreBody = z
  .object({
    /** The recovery point to restore; the latest when absent. */
    recoveryPointId: z.string().min(1).optional(),
    /** Restore into a new database of this name (see `restoreDatabaseNameRule`). */
    targetDatabaseName: z.string().optional(),
    /** The server of the new database; the protected database's server when absent. */
    targetServerName: z.string().min(1).optional(),
    /** A secret with a connection string for the target server; the instance's secret when absent. */
    secretUri: z.string().url().optional(),
    /** Restore as files into this folder (local provider: an absolute path). */
    targetFolder: z.string().min(1).optional(),
    /** Restore as files into this blob container (Azure). */
    targetContainerUrl: z.string().url().optional(),
    /** Prefix of the restored files' names. */
    filePrefix: z.string().min(1).optional(),
    /** The vault of the instance (or `?vault=`); every vault the app covers when absent. */
    vaultName: z.string().min(1).optional(),
  })
  .strict()
  .refine(
    (body) =>
      [body.targetDatabaseName, body.targetFolder, body.targetContainerUrl].filter(
        (t) => t !== undefined,
      ).length === 1,
    {
      message:
        "name exactly one target: targetDatabaseName (a new database), targetFolder or targetContainerUrl (as files)",
      path: ["targetDatabaseName"],
    },
  );

/**
 * Checks the names and paths of a restore against their rules, before anything is looked up: the
 * new database's name (never a template or a reserved database), the folder and the file prefix.
 *
 * @throws InvalidInputError naming the rule that is broken.
 */
function checkRestoreNames(body: z.infer<typeof startRestoreBody>): void {
  if (body.targetDatabaseName !== undefined)
    assertName(restoreDatabaseNameRule, body.targetDatabaseName, "$.targetDatabaseName");
  if (body.targetFolder !== undefined)
    assertName(restoreFolderRule, body.targetFolder, "$.targetFolder");
  if (body.filePrefix !== undefined)
    assertName(restoreFilePrefixRule, body.filePrefix, "$.filePrefix");
}

/**
 * `POST /api/backup-instances/{name}/restores[?vault=name]`: restores the latest or a chosen
 * recovery point into a new database (on the same or another server) or as files. Answers 202
 * with the restore job's id and status URL; the job reports, for a database, whether the restored
 * data matched the recovery point (`restoreVerification`).
 */
export async function startRestore(
  request: HttpRequest,
  _context: InvocationContext,
): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  authorize(request, "Backup.Operator", deps.config.WEBSITE_AUTH_ENABLED);
  const body = await readBody(request, startRestoreBody);
  checkRestoreNames(body);
  const { vaultId, instance } = await findBackupInstance(
    deps,
    request.params.name ?? "",
    request.query.get("vault") ?? body.vaultName,
  );

  const points = await deps.provider.backup.listRecoveryPoints(vaultId, instance.name);
  const wanted = body.recoveryPointId?.split("/").pop();
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

  let target: RestoreRequest["target"];
  if (body.targetDatabaseName !== undefined) {
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
      body.targetServerName ??
      ("database" in source ? source.database.serverName : source.server.serverName);
    const server = await deps.provider.directory.resolveServer(serverName);
    const databases = await deps.provider.directory.listDatabases(server.id);
    if (databases.some((d) => d.name === body.targetDatabaseName)) {
      throw new AppError(
        "RESTORE_TARGET_EXISTS",
        `The server '${serverName}' has a database '${body.targetDatabaseName}' already; a restore never overwrites one`,
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
        databaseName: body.targetDatabaseName,
      }),
      ...(body.secretUri ? { secretUri: body.secretUri } : {}),
    };
  } else {
    target = {
      kind: "files",
      url: body.targetFolder ?? body.targetContainerUrl ?? "",
      ...(body.filePrefix ? { filePrefix: body.filePrefix } : {}),
    };
  }

  const { jobId } = await deps.provider.backup.triggerRestore(vaultId, instance.name, {
    recoveryPointId: point.recoveryPointId,
    target,
  });
  const jobName = jobId.split("/").pop() ?? jobId;
  const statusUrl = new URL(`/api/jobs/${jobName}`, request.url).toString();
  return json(
    202,
    {
      jobId,
      jobName,
      backupInstanceName: instance.name,
      vaultName: parseVaultId(vaultId).vaultName,
      recoveryPointId: point.recoveryPointId,
      recoveryPointTime: point.recoveryPointTime,
      target:
        target.kind === "database"
          ? { kind: "database", databaseId: target.targetDatabaseId }
          : { kind: "files", url: target.url },
      status: "InProgress",
      statusUrl,
    },
    { location: statusUrl },
  );
}

app.http("startRestore", {
  route: "backup-instances/{name}/restores",
  methods: ["POST"],
  authLevel: "function",
  handler: withProblemDetails(startRestore),
});
