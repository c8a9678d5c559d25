/**
 * Names the service (and `az dataprotection backup-instance initialize`) gives to backup
 * instances, and the friendly names shown beside them.
 */
import { InvalidInputError } from "../errors.js";
import { assertName, backupInstanceNameRule } from "./names.js";
import { parseDatabaseId, parseServerId, type DatabaseRef, type ServerRef } from "./ids.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The datasource type of one protected database (the Single Server shape; also the local unit). */
export const DATABASE_DATASOURCE_TYPE = "Microsoft.DBforPostgreSQL/servers/databases";
/** The datasource type of a whole protected Flexible Server. */
export const FLEXIBLE_SERVER_DATASOURCE_TYPE = "Microsoft.DBforPostgreSQL/flexibleServers";

/** The two datasource types pgprotect protects. */
export type PostgresDatasourceType =
  typeof DATABASE_DATASOURCE_TYPE | typeof FLEXIBLE_SERVER_DATASOURCE_TYPE;

/** What a datasource id names: one database, or a whole Flexible Server. */
export type DatasourceTarget =
  | { readonly datasourceType: typeof DATABASE_DATASOURCE_TYPE; readonly database: DatabaseRef }
  | { readonly datasourceType: typeof FLEXIBLE_SERVER_DATASOURCE_TYPE; readonly server: ServerRef };

/**
 * Classifies a datasource id: a database id (of either server kind) is protected per database; a
 * Flexible Server id is protected whole.
 *
 * @throws InvalidInputError `INVALID_RESOURCE_ID` for anything else (a Single Server id cannot be
 * protected whole).
 */
export function datasourceTargetOf(datasourceId: string): DatasourceTarget {
  const segmentCount = datasourceId.split("/").length;
  // A database id has two more path parts (`/databases/{db}`) than a server id.
  if (segmentCount > 9)
    return { datasourceType: DATABASE_DATASOURCE_TYPE, database: parseDatabaseId(datasourceId) };
  const server = parseServerId(datasourceId);
  if (server.kind !== "flexibleServers") {
    throw new InvalidInputError(
      "INVALID_RESOURCE_ID",
      `'${datasourceId}' is a Single Server; protect its databases one by one`,
      [
        {
          path: "$.datasourceId",
          code: "INVALID_RESOURCE_ID",
          message: "expected a database id or a Flexible Server id",
        },
      ],
    );
  }
  return { datasourceType: FLEXIBLE_SERVER_DATASOURCE_TYPE, server };
}

/**
 * The backup instance name the service's tooling derives: `<server>-<db>-<uuid>` for a database,
 * `<server>-<server>-<uuid>` for a Flexible Server (the CLI repeats the server name).
 *
 * @param uuid - a fresh UUID from the caller (the domain mints no randomness itself).
 */
export function backupInstanceNameFor(target: DatasourceTarget, uuid: string): string {
  if (!UUID.test(uuid)) {
    throw new InvalidInputError("INVALID_UUID", `'${uuid}' is not a UUID`, [
      { path: "$.uuid", code: "INVALID_UUID", message: "expected a UUID" },
    ]);
  }
  return target.datasourceType === DATABASE_DATASOURCE_TYPE
    ? backupInstanceNameOf(target.database.serverName, target.database.databaseName, uuid)
    : backupInstanceNameOf(target.server.serverName, target.server.serverName, uuid);
}

/** A name part folded to ASCII letters, digits, '_' and '-' (accents dropped, the rest '-'). */
function asciiPart(text: string, max: number): string {
  const folded = text
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .replace(/[^A-Za-z0-9_-]+/g, "-")
    .replace(/^[-_]+/, "")
    .slice(0, max)
    .replace(/[-_]+$/, "");
  return folded || "x";
}

/**
 * `<server>-<db>-<uuid>`, as the service's tools name instances, with the names folded to ASCII
 * letters, digits, '_' and '-' and shortened so that the name always follows
 * {@link backupInstanceNameRule}. Distinct databases never share a name: the UUID is their own
 * (the orchestration derives it from its instance id, which is distinct per database), however
 * alike their folded names are.
 */
export function backupInstanceNameOf(
  serverName: string,
  databaseName: string,
  uuid: string,
): string {
  const name = `${asciiPart(serverName, 63)}-${asciiPart(databaseName, 63)}-${uuid.toLowerCase()}`;
  return assertName(backupInstanceNameRule, name, "$.backupInstanceName");
}

/** The friendly name of a backup instance: `<server>/<db>` for a database, `<server>` for a Flexible Server. */
export function friendlyNameFor(target: DatasourceTarget): string {
  return target.datasourceType === DATABASE_DATASOURCE_TYPE
    ? `${target.database.serverName}/${target.database.databaseName}`
    : target.server.serverName;
}
