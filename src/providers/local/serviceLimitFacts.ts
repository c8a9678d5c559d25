/**
 * The service's limit facts for the local provider: the databases read through the connection
 * the local provider backs them up with (a database's secret, a whole server's configured
 * connection string). The server's own limits are Azure Backup's and are not read here: the
 * local provider's `pg_dump` has no size, replica or owner rule of its own.
 */
import { isAppError } from "../../domain/errors.js";
import {
  parseConnectionString,
  type PostgresConnectionParams,
} from "../../domain/protection/connectionString.js";
import type { ResolvedDatasource } from "../../domain/protection/datasource.js";
import type {
  DatabaseLimitFacts,
  ServiceLimitFacts,
} from "../../domain/protection/serviceLimits.js";
import type { ServiceLimitFactsPort } from "../ports.js";
import { listUserDatabases, readDatabaseLimitFacts } from "../postgresLimitFacts.js";
import type { LocalServerConfig } from "./resourceDirectory.js";
import type { LocalSecretStore } from "./secretStore.js";

/** Databases of one server read at most, so that onboarding a large server stays quick. */
const maxDatabasesRead = 50;

/** The limit facts over the local servers and secrets. */
export function createLocalServiceLimitFacts(
  servers: readonly LocalServerConfig[],
  secrets: Pick<LocalSecretStore, "getConnectionParams">,
  resolveEndpoint: (params: PostgresConnectionParams) => PostgresConnectionParams = (p) => p,
): ServiceLimitFactsPort {
  return {
    async readFacts(datasource: ResolvedDatasource, secretUri?: string, scope?: "serverOnly") {
      const base = {
        provider: "local",
        datasourceKind: datasource.kind,
        serverKind: servers.find((s) => s.name === datasource.serverName)?.kind ?? "servers",
        friendlyName: datasource.friendlyName,
      } as const satisfies Partial<ServiceLimitFacts>;
      // The local server has none of Azure Backup's server-wide limits to read.
      if (scope === "serverOnly") return { ...base, databasesNotRead: "only the server was asked" };
      try {
        if (datasource.kind === "database") {
          if (!secretUri || !datasource.databaseName) {
            return { ...base, databasesNotRead: "no secret names a connection to the database" };
          }
          const params = await secrets.getConnectionParams(secretUri);
          return {
            ...base,
            databases: [await readDatabaseLimitFacts(params, datasource.databaseName)],
          };
        }
        const server = servers.find((s) => s.name === datasource.serverName);
        if (!server)
          return { ...base, databasesNotRead: "the server has no configured connection" };
        const params = resolveEndpoint(parseConnectionString(server.connectionString));
        const databases: DatabaseLimitFacts[] = [];
        for (const name of await listUserDatabases(params, maxDatabasesRead)) {
          databases.push(await readDatabaseLimitFacts(params, name));
        }
        return { ...base, databases };
      } catch (error) {
        const why = isAppError(error) ? `${error.message} (${error.code})` : String(error);
        return { ...base, databasesNotRead: `the databases could not be read: ${why}` };
      }
    },
  };
}
