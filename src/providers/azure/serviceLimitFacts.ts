/**
 * The service's limit facts in Azure: the server's properties from Resource Manager, and a
 * Single Server database's owner, size and BYTEA values through its connection-string secret.
 * A Flexible Server is reached by the vault's identity alone: pgprotect holds no connection to
 * it, so its databases are not read and the answer says so.
 */
import { isAppError } from "../../domain/errors.js";
import type { ResolvedDatasource } from "../../domain/protection/datasource.js";
import { parseConnectionString } from "../../domain/protection/connectionString.js";
import { parseDatabaseId, parseServerId } from "../../domain/protection/ids.js";
import type { ServiceLimitFacts } from "../../domain/protection/serviceLimits.js";
import type { SecretPort, ServiceLimitFactsPort } from "../ports.js";
import { readDatabaseLimitFacts } from "../postgresLimitFacts.js";
import type { AzureResourceDirectory } from "./azureResourceDirectory.js";

/** Why a fact could not be read, in words for the answer. */
function whyNot(error: unknown): string {
  return isAppError(error) ? `${error.message} (${error.code})` : (error as Error).message;
}

/** The limit facts over Resource Manager and the databases' secrets. */
export function createAzureServiceLimitFacts(
  directory: Pick<AzureResourceDirectory, "serverLimitFacts">,
  secrets: Pick<SecretPort, "getSecret">,
): ServiceLimitFactsPort {
  return {
    async readFacts(datasource: ResolvedDatasource, secretUri?: string, scope?: "serverOnly") {
      const database = datasource.kind === "database";
      const serverKind = database
        ? parseDatabaseId(datasource.datasourceId).kind
        : parseServerId(datasource.datasourceId).kind;
      const serverId = database
        ? datasource.datasourceId.replace(/\/databases\/[^/]+$/i, "")
        : datasource.datasourceId;
      const base = {
        provider: "azure",
        datasourceKind: datasource.kind,
        serverKind,
        friendlyName: datasource.friendlyName,
      } as const;
      let server: Pick<ServiceLimitFacts, "server" | "serverNotRead">;
      try {
        server = { server: await directory.serverLimitFacts({ id: serverId, kind: serverKind }) };
      } catch (error) {
        server = { serverNotRead: `Resource Manager did not answer: ${whyNot(error)}` };
      }
      if (scope === "serverOnly") {
        return { ...base, ...server, databasesNotRead: "only the server was asked" };
      }
      if (!database || !secretUri || !datasource.databaseName) {
        return {
          ...base,
          ...server,
          databasesNotRead:
            "a Flexible Server is reached by the Backup vault's identity, and pgprotect holds no connection to its databases",
        };
      }
      try {
        const params = parseConnectionString(await secrets.getSecret(secretUri));
        const facts = await readDatabaseLimitFacts(params, datasource.databaseName);
        return { ...base, ...server, databases: [facts] };
      } catch (error) {
        return {
          ...base,
          ...server,
          databasesNotRead: `the database could not be read with its secret's connection string: ${whyNot(error)}`,
        };
      }
    },
  };
}
