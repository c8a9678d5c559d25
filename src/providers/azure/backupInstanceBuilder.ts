/**
 * The backup instance JSON for each kind of PostgreSQL datasource, exactly as the service and
 * its tooling (`az dataprotection backup-instance initialize`) build it.
 *
 * @remarks A Single Server database is a proxy resource: its `dataSourceSetInfo` is the server
 * (with the database's datasource type and the server's resource type), and the vault reads the
 * database through a connection string kept in Key Vault (`secretStoreResource`). A Flexible
 * Server is protected whole with the vault's managed identity, no secret; its
 * `dataSourceSetInfo` repeats `dataSourceInfo`, as PowerShell sends it (the service accepts it
 * with or without).
 */
import { randomUUID } from "node:crypto";
import { InvalidInputError, type ErrorCode } from "../../domain/errors.js";
import { formatServerId } from "../../domain/protection/ids.js";
import {
  DATABASE_DATASOURCE_TYPE,
  FLEXIBLE_SERVER_DATASOURCE_TYPE,
  backupInstanceNameFor,
  datasourceTargetOf,
  friendlyNameFor,
} from "../../domain/protection/naming.js";
import type { BackupInstanceSpec, DatasourceInfo } from "../../domain/protection/types.js";
import type {
  BackupInstance as ArmBackupInstance,
  BackupInstanceResource,
  Datasource,
  DatasourceSet,
} from "./dataProtection/models.js";

/** What it takes to protect one datasource. */
export interface BackupInstanceInput {
  /** ARM id of a Single Server database or of a Flexible Server. */
  readonly datasourceId: string;
  /** Region of the datasource (the vault must be in the same region). */
  readonly location: string;
  /** ARM id of the vault's policy. */
  readonly policyId: string;
  /** Key Vault secret holding the connection string; Single Server databases only. */
  readonly secretUri?: string;
}

const SINGLE_SERVER_RESOURCE_TYPE = "Microsoft.DBforPostgreSQL/servers";

function invalid(path: string, code: ErrorCode, message: string): InvalidInputError {
  return new InvalidInputError(code, message, [{ path, code, message }]);
}

/**
 * The domain's description of a backup instance for a datasource.
 *
 * @throws InvalidInputError when the id is neither a Single Server database nor a Flexible
 * Server, when a database has no secret, or when a Flexible Server is given one.
 */
export function backupInstanceSpecFor(input: BackupInstanceInput): BackupInstanceSpec {
  const target = datasourceTargetOf(input.datasourceId);
  if (target.datasourceType === DATABASE_DATASOURCE_TYPE) {
    const { database } = target;
    if (database.kind !== "servers") {
      throw invalid(
        "$.datasourceId",
        "INVALID_RESOURCE_ID",
        "Azure Backup protects a Flexible Server whole, not database by database; give the server's id",
      );
    }
    if (!input.secretUri) {
      throw invalid(
        "$.secretUri",
        "SECRET_REQUIRED",
        "A Single Server database needs a Key Vault secret holding its connection string",
      );
    }
    const serverId = formatServerId(database);
    return {
      friendlyName: friendlyNameFor(target),
      dataSourceInfo: {
        resourceId: input.datasourceId,
        datasourceType: DATABASE_DATASOURCE_TYPE,
        resourceName: database.databaseName,
        resourceType: DATABASE_DATASOURCE_TYPE,
        resourceLocation: input.location,
      },
      dataSourceSetInfo: {
        resourceId: serverId,
        datasourceType: DATABASE_DATASOURCE_TYPE,
        resourceName: database.serverName,
        resourceType: SINGLE_SERVER_RESOURCE_TYPE,
        resourceLocation: input.location,
      },
      policyId: input.policyId,
      secretStore: { secretStoreType: "AzureKeyVault", uri: input.secretUri },
    };
  }
  if (input.secretUri) {
    throw invalid(
      "$.secretUri",
      "SECRET_NOT_SUPPORTED",
      "A Flexible Server is backed up with the vault's managed identity; it takes no secret",
    );
  }
  const server: DatasourceInfo = {
    resourceId: input.datasourceId,
    datasourceType: FLEXIBLE_SERVER_DATASOURCE_TYPE,
    resourceName: target.server.serverName,
    resourceType: FLEXIBLE_SERVER_DATASOURCE_TYPE,
    resourceLocation: input.location,
  };
  return {
    friendlyName: friendlyNameFor(target),
    dataSourceInfo: server,
    dataSourceSetInfo: server,
    policyId: input.policyId,
  };
}

/**
 * A fresh backup instance name: `<server>-<db>-<uuid>` for a database, `<server>-<server>-<uuid>`
 * for a Flexible Server.
 */
export function newBackupInstanceName(datasourceId: string, uuid: string = randomUUID()): string {
  return backupInstanceNameFor(datasourceTargetOf(datasourceId), uuid);
}

function toDatasource(info: DatasourceInfo): Datasource {
  return {
    objectType: "Datasource",
    datasourceType: info.datasourceType,
    resourceID: info.resourceId,
    resourceName: info.resourceName,
    resourceType: info.resourceType,
    resourceLocation: info.resourceLocation,
    // The tooling always sends an empty URI for PostgreSQL.
    resourceUri: "",
  };
}

/** A datasource as the service's `Datasource` object. */
export function toArmDatasource(info: DatasourceInfo): Datasource {
  return toDatasource(info);
}

/** A datasource set as the service's `DatasourceSet` object. */
export function toArmDatasourceSet(info: DatasourceInfo): DatasourceSet {
  return { ...toDatasource(info), objectType: "DatasourceSet" };
}

/** The `BackupInstance` object of a spec, as validateForBackup and the PUT take it. */
export function toArmBackupInstance(spec: BackupInstanceSpec): ArmBackupInstance {
  return {
    objectType: "BackupInstance",
    friendlyName: spec.friendlyName,
    dataSourceInfo: toArmDatasource(spec.dataSourceInfo),
    ...(spec.dataSourceSetInfo
      ? { dataSourceSetInfo: toArmDatasourceSet(spec.dataSourceSetInfo) }
      : {}),
    policyInfo: { policyId: spec.policyId },
    ...(spec.secretStore
      ? {
          datasourceAuthCredentials: {
            objectType: "SecretStoreBasedAuthCredentials",
            secretStoreResource: { secretStoreType: "AzureKeyVault", uri: spec.secretStore.uri },
          },
        }
      : {}),
  };
}

/** The PUT body of `BackupInstances_CreateOrUpdate`. */
export function toArmBackupInstanceResource(spec: BackupInstanceSpec): BackupInstanceResource {
  return { properties: toArmBackupInstance(spec) };
}
