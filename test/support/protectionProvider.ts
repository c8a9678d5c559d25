/**
 * A provider in memory holding just what a protection request reads before anything starts:
 * servers, their databases, the vault's policies and one secret.
 */
import { NotFoundError } from "../../src/domain/errors.js";
import type { BackupPolicy } from "../../src/domain/policy/types.js";
import { formatDatabaseId, formatServerId, LOCAL_SCOPE } from "../../src/domain/protection/ids.js";
import type { DirectoryServer, Provider } from "../../src/providers/ports.js";

/** What the provider knows: its servers, the policies in every vault and the one secret's URI. */
export interface ProtectionWorld {
  readonly servers: readonly DirectoryServer[];
  readonly policies: Readonly<Record<string, BackupPolicy>>;
  readonly secretUri: string;
}

/**
 * A provider whose servers are `world.servers` (any database name exists on a Single Server of
 * the name asked), whose vaults hold `world.policies` and whose only secret is `world.secretUri`.
 */
export function protectionProvider(world: ProtectionWorld): Provider {
  return {
    directory: {
      resolveServer: async (name: string) => {
        const found = world.servers.find((s) => s.name === name);
        if (!found)
          throw new NotFoundError("RESOURCE_NOT_FOUND", `Server '${name}' is not configured`);
        return found;
      },
      resolveDatabase: async (serverName: string, databaseName: string) => ({
        id: formatDatabaseId({ ...LOCAL_SCOPE, kind: "servers", serverName, databaseName }),
        name: databaseName,
        serverId: formatServerId({ ...LOCAL_SCOPE, kind: "servers", serverName }),
        serverName,
        location: "local",
        tags: {},
      }),
    },
    backup: {
      getPolicy: async (_vault: string, name: string) => {
        const properties = world.policies[name];
        if (!properties) throw new NotFoundError("RESOURCE_NOT_FOUND", "no such policy");
        return { name, properties };
      },
    },
    secrets: {
      secretExists: async (uri: string) => uri === world.secretUri,
      getSecret: async () => "postgresql://admin:secret@pg1.example:5432/postgres",
    },
  } as unknown as Provider;
}
