/**
 * The user story "restore": the latest or a chosen recovery point of a backup instance, into a
 * new database (on the same or another server), as files, or as files then loaded into a server
 * (restore to a server, where the service restores as files only: a Flexible Server).
 *
 * @remarks Before a restore as files is sent, the service is asked whether it would carry it out
 * (validateRestore), and the vault identity's role on the target storage is checked (or granted
 * with `AUTO_GRANT_ROLE_ASSIGNMENTS`), so that a refusal is a 4xx now rather than a failed job.
 */
import { randomUUID } from "node:crypto";
import { ErrorCodes } from "../domain/errorCodes.js";
import { AppError, NotFoundError } from "../domain/errors.js";
import { formatDatabaseId, parseServerId } from "../domain/protection/ids.js";
import { datasourceTargetOf } from "../domain/protection/naming.js";
import { roleAssignmentCommand } from "../domain/protection/roleAssignments.js";
import type {
  LoadRestoredFilesRequest,
  RestoreRequest as ProviderRestoreRequest,
} from "../providers/ports.js";
import { findBackupInstance, isServerKind } from "./backupInstances.js";
import type { ApplicationDependencies } from "./dependencies.js";
import { checkDatasourceAccess } from "./protectionChecks.js";

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
  /** ARM id of the container's storage account (or of the container), for the role check. */
  readonly targetStorageAccountId?: string | undefined;
  /** Restore to a server: the database whose dump to load, when the files hold several. */
  readonly sourceDatabaseName?: string | undefined;
  readonly filePrefix?: string | undefined;
}

/** How a restore is checked before it is sent. */
export interface RestoreOptions {
  /** Grant the vault identity's missing role on the target storage (`AUTO_GRANT_ROLE_ASSIGNMENTS`). */
  readonly autoGrantRoleAssignments?: boolean;
}

/** Restore to a server: where the restored files are loaded once the job wrote them. */
export type LoadTarget = Omit<LoadRestoredFilesRequest, "loadId">;

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
    | { readonly kind: "files"; readonly url: string; readonly filePrefix?: string }
    | {
        readonly kind: "server";
        readonly url: string;
        readonly filePrefix: string;
        readonly databaseName: string;
      };
  /** Restore to a server: what is loaded once the job ends (secret URI included, never its value). */
  readonly load?: LoadTarget;
  /** What was checked before the restore was sent, one phrase each. */
  readonly checks: readonly string[];
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
  options: RestoreOptions = {},
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
  let load: LoadTarget | undefined;
  const checks: string[] = [];
  const storageScope = await restoreStorageScope(deps, vaultId, request, checks);
  if (request.targetDatabaseName !== undefined && request.targetContainerUrl !== undefined) {
    if (!deps.provider.restoreToServer) {
      throw new AppError(
        "RESTORE_TARGET_NOT_SUPPORTED",
        "This provider restores into a new database directly; a restore to a server through a blob container is Azure's",
        {
          httpStatus: 400,
          recommendedAction: "Send targetDatabaseName alone, or targetFolder to restore as files",
        },
      );
    }
    // The secret is read only once the restore job ended, maybe hours later: a wrong URI is
    // refused now, before a restore that could never be loaded is sent.
    checks.push(
      ...(await checkDatasourceAccess(
        deps.provider.secrets,
        { kind: "database", friendlyName: request.targetDatabaseName },
        request.secretUri,
      )),
    );
    const filePrefix = request.filePrefix ?? `${instance.name}-${randomUUID().slice(0, 8)}`;
    load = {
      containerUrl: request.targetContainerUrl,
      filePrefix,
      secretUri: request.secretUri ?? "",
      databaseName: request.targetDatabaseName,
      ...(request.sourceDatabaseName ? { sourceDatabaseName: request.sourceDatabaseName } : {}),
    };
    target = {
      kind: "files",
      url: request.targetContainerUrl,
      filePrefix,
      ...(storageScope ? { storageScope } : {}),
    };
  } else if (request.targetDatabaseName !== undefined) {
    if (isServerKind(instance)) {
      throw new AppError(
        "RESTORE_TARGET_NOT_SUPPORTED",
        "A Flexible Server recovery point can only be restored as files",
        {
          httpStatus: 400,
          recommendedAction: deps.provider.restoreToServer
            ? "Send targetContainerUrl and secretUri with targetDatabaseName: the files are restored into the container, then loaded into the server the secret reaches"
            : "Send targetFolder (locally) or targetContainerUrl (Azure), then load the files with pg_restore",
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
      ...(storageScope ? { storageScope } : {}),
    };
  }

  const restoreRequest: ProviderRestoreRequest = { recoveryPointId: point.recoveryPointId, target };
  if (target.kind === "files" && request.targetContainerUrl !== undefined) {
    checks.push(...(await checkRestoreStorageRole(deps, vaultId, storageScope, options)));
  }
  if (deps.provider.backup.validateRestore) {
    await deps.provider.backup.validateRestore(vaultId, instance.name, restoreRequest);
    checks.push("the service validated the restore");
  }

  const { jobId } = await deps.provider.backup.triggerRestore(
    vaultId,
    instance.name,
    restoreRequest,
  );
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
        : load
          ? {
              kind: "server",
              url: target.url,
              filePrefix: load.filePrefix,
              databaseName: load.databaseName,
            }
          : {
              kind: "files",
              url: target.url,
              ...(target.filePrefix ? { filePrefix: target.filePrefix } : {}),
            },
    ...(load ? { load } : {}),
    checks,
  };
}

/**
 * Where a restore into a blob container writes, for the role check and the service's target: the
 * `targetStorageAccountId` sent, else the storage account the container URL names, looked up by
 * its name where the provider can (a storage account's name is unique in its cloud).
 *
 * @throws AppError `RESTORE_STORAGE_ACCOUNT_REQUIRED` (400) when no account or several carry the
 * URL's account name, saying which.
 */
export async function restoreStorageScope(
  deps: Pick<ApplicationDependencies, "provider">,
  vaultId: string,
  request: RestoreRequest,
  checks: string[],
): Promise<string | undefined> {
  if (request.targetStorageAccountId) return request.targetStorageAccountId;
  const containerUrl = request.targetContainerUrl;
  const find = deps.provider.restoreAccess?.findStorageAccount;
  if (containerUrl === undefined || request.targetFolder !== undefined || !find) return undefined;
  const lookup = await find.call(deps.provider.restoreAccess, vaultId, containerUrl);
  if (lookup.found) {
    checks.push(`found the container's storage account by its name: ${lookup.accountId}`);
    return lookup.containerId;
  }
  const why =
    lookup.accountName === undefined
      ? "its URL names no storage account (https://<account>.blob.<storage suffix>/<container>)"
      : lookup.candidates.length === 0
        ? `no storage account named '${lookup.accountName}' is visible in the vault's or the app's subscription`
        : `${lookup.candidates.length} storage accounts are named '${lookup.accountName}': ${lookup.candidates.join(", ")}`;
  throw new AppError(
    ErrorCodes.RESTORE_STORAGE_ACCOUNT_REQUIRED,
    `The storage account of the container ${containerUrl} cannot be told: ${why}`,
    {
      httpStatus: 400,
      recommendedAction:
        "Send targetStorageAccountId: /subscriptions/{id}/resourceGroups/{group}/providers/Microsoft.Storage/storageAccounts/{account}",
    },
  );
}

/**
 * Checks the vault identity holds Storage Blob Data Contributor where the restore writes, or
 * grants it when allowed; a provider without roles (local) checks nothing.
 *
 * @throws AppError `RESTORE_STORAGE_ACCOUNT_REQUIRED` (400) without the storage account's id;
 * `MISSING_REQUIRED_PERMISSIONS` (403) naming the command that grants the missing role, also when
 * Resource Manager refuses the grant (the deployment lets pgprotect grant it to named vaults only).
 */
export async function checkRestoreStorageRole(
  deps: Pick<ApplicationDependencies, "provider">,
  vaultId: string,
  storageScope: string | undefined,
  options: RestoreOptions,
): Promise<string[]> {
  const access = deps.provider.restoreAccess;
  if (!access) return [];
  if (!storageScope) {
    throw new AppError(
      ErrorCodes.RESTORE_STORAGE_ACCOUNT_REQUIRED,
      "A restore into a blob container needs the ARM id of the container's storage account, where the Backup vault's identity must hold Storage Blob Data Contributor",
      {
        httpStatus: 400,
        recommendedAction:
          "Send targetStorageAccountId: /subscriptions/{id}/resourceGroups/{group}/providers/Microsoft.Storage/storageAccounts/{account}",
      },
    );
  }
  const vaultName = vaultId.split("/").pop() ?? vaultId;
  if (options.autoGrantRoleAssignments) {
    const granted = await access.grantRestoreRoles(vaultId, storageScope);
    return granted.roles.length === 0
      ? [`the vault ${vaultName}'s identity holds its role on the restore's storage`]
      : granted.roles.map(
          (role) => `granted the vault ${vaultName}'s identity '${role.roleName}' on ${role.scope}`,
        );
  }
  const report = await access.missingRestoreRoles(vaultId, storageScope);
  if (report.roles.length === 0) {
    return [`the vault ${vaultName}'s identity holds its role on the restore's storage`];
  }
  const lacks = report.roles.map((role) => `'${role.roleName}' on ${role.scope}`).join("; ");
  const commands = report.roles
    .map((role) => roleAssignmentCommand(report.principalId, role.roleName, role.scope))
    .join(" && ");
  throw new AppError(
    ErrorCodes.MISSING_REQUIRED_PERMISSIONS,
    `The Backup vault ${vaultName}'s identity ${report.principalId} lacks ${lacks}, which a restore as files needs to write into the container`,
    {
      httpStatus: 403,
      recommendedAction: `Run: ${commands} (or set AUTO_GRANT_ROLE_ASSIGNMENTS=true to let pgprotect grant it); role assignments can take a few minutes to apply`,
    },
  );
}
