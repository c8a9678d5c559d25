/**
 * The resource directory over Azure: PostgreSQL servers and their tags from Resource Graph,
 * databases from Resource Manager (they are proxy resources, which Resource Graph does not list).
 *
 * @remarks Resource-write events carry no tags, so tags are always read here. Databases carry no
 * tags of their own in Azure; a database reports its server's. Changes are found by comparing
 * snapshots: the watermark holds a fingerprint of every server id and its tags (a few bytes per
 * server), so no state is kept between calls.
 */
import { createHash } from "node:crypto";
import type { Client } from "@azure-rest/core-client";
import { InvalidInputError, NotFoundError } from "../../domain/errors.js";
import { formatServerId, parseDatabaseId, parseServerId } from "../../domain/protection/ids.js";
import type {
  DirectoryDatabase,
  DirectoryServer,
  ResourceChangePage,
  ResourceDirectoryPort,
  ResourceTags,
  ResourceWriteChange,
} from "../ports.js";
import type { ServerLimitFacts } from "../../domain/protection/serviceLimits.js";
import { armErrorFromResponse, armErrorFromThrown } from "./armErrors.js";
import { listAll } from "./dataProtection/paginateHelper.js";
import { kustoString, type ResourceGraphClient } from "./resourceGraph.js";

/** api-versions of the PostgreSQL resource providers' database lists. */
export const postgresApiVersions = {
  flexibleServers: "2024-08-01",
  servers: "2017-12-01",
} as const;

/** Databases the service creates for itself on every Flexible Server. */
const systemDatabases = new Set(["azure_maintenance", "azure_sys"]);

const SERVERS_QUERY =
  "resources | where type in~ ('microsoft.dbforpostgresql/flexibleservers','microsoft.dbforpostgresql/servers')";

interface ServerRow {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly location: string;
  readonly tags?: Record<string, string> | null;
}

interface DatabaseOutput {
  readonly id?: string;
  readonly name?: string;
}

/** The parts of a server's answer (`flexibleServers` 2024-08-01, `servers` 2017-12-01) read here. */
interface ServerOutput {
  readonly properties?: {
    readonly storage?: { readonly storageSizeGB?: number };
    readonly storageProfile?: { readonly storageMB?: number };
    readonly replicationRole?: string;
    readonly sourceServerResourceId?: string;
    readonly masterServerId?: string;
  };
}

function finite(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** The limit facts a server's answer states; a Single Server states its storage in MB. */
export function serverLimitFactsOf(
  kind: DirectoryServer["kind"],
  body: ServerOutput,
): ServerLimitFacts {
  const properties = body.properties ?? {};
  const storageMb = finite(properties.storageProfile?.storageMB);
  const storageSizeGiB =
    kind === "flexibleServers"
      ? finite(properties.storage?.storageSizeGB)
      : storageMb === undefined
        ? undefined
        : storageMb / 1024;
  const replicationRole = text(properties.replicationRole);
  const primaryServerId = text(properties.sourceServerResourceId ?? properties.masterServerId);
  return {
    ...(storageSizeGiB !== undefined ? { storageSizeGiB } : {}),
    ...(replicationRole !== undefined ? { replicationRole } : {}),
    ...(primaryServerId !== undefined ? { primaryServerId } : {}),
  };
}

/** Options of {@link AzureResourceDirectory}. */
export interface AzureResourceDirectoryOptions {
  readonly graph: ResourceGraphClient;
  /** A Resource Manager client (the Data Protection client serves: it sends any path). */
  readonly arm: Client;
  /** Subscriptions whose servers the directory sees. */
  readonly subscriptions: readonly string[];
  readonly now?: () => Date;
}

function fingerprint(text: string): string {
  return createHash("sha256").update(text).digest("base64url").slice(0, 12);
}

function tagsFingerprint(tags: ResourceTags): string {
  return fingerprint(JSON.stringify(Object.entries(tags).sort(([a], [b]) => a.localeCompare(b))));
}

function toServer(row: ServerRow): DirectoryServer {
  return {
    id: row.id,
    name: row.name,
    kind: row.type.toLowerCase().endsWith("/flexibleservers") ? "flexibleServers" : "servers",
    location: row.location,
    tags: row.tags ?? {},
  };
}

/** The resource directory over Azure. */
export class AzureResourceDirectory implements ResourceDirectoryPort {
  private readonly now: () => Date;

  constructor(private readonly options: AzureResourceDirectoryOptions) {
    this.now = options.now ?? (() => new Date());
  }

  private async servers(where = ""): Promise<DirectoryServer[]> {
    const rows = await this.options.graph.query<ServerRow>(
      this.options.subscriptions,
      `${SERVERS_QUERY}${where} | project id, name, type, location, tags | order by id asc`,
      "Looking up PostgreSQL servers in Resource Graph",
    );
    return rows.map(toServer);
  }

  async resolveServer(serverName: string): Promise<DirectoryServer> {
    const found = await this.servers(` | where name =~ ${kustoString(serverName)}`);
    // Flexible Server names are unique across Azure; a Single Server of the same name is older.
    const server = found.find((s) => s.kind === "flexibleServers") ?? found[0];
    if (!server) {
      throw new NotFoundError(
        "RESOURCE_NOT_FOUND",
        `No PostgreSQL server named '${serverName}' in the configured subscriptions`,
        {
          recommendedAction:
            "Check the server name and that the app's identity can read its subscription",
        },
      );
    }
    return server;
  }

  private async serverById(serverId: string): Promise<DirectoryServer> {
    const [server] = await this.servers(` | where id =~ ${kustoString(serverId)}`);
    if (!server) throw new NotFoundError("RESOURCE_NOT_FOUND", `Server ${serverId} was not found`);
    return server;
  }

  private databasesPath(server: DirectoryServer): string {
    return `${server.id}/databases`;
  }

  private toDatabase(server: DirectoryServer, db: DatabaseOutput): DirectoryDatabase {
    const name = db.name ?? "";
    return {
      id: db.id ?? `${server.id}/databases/${name}`,
      name,
      serverId: server.id,
      serverName: server.name,
      location: server.location,
      tags: server.tags,
    };
  }

  async resolveDatabase(serverName: string, databaseName: string): Promise<DirectoryDatabase> {
    const server = await this.resolveServer(serverName);
    const operation = "Reading the PostgreSQL database";
    let response;
    try {
      response = await this.options.arm
        .pathUnchecked(`${this.databasesPath(server)}/${encodeURIComponent(databaseName)}`)
        .get({ queryParameters: { "api-version": postgresApiVersions[server.kind] } });
    } catch (thrown) {
      throw armErrorFromThrown(thrown, operation);
    }
    if (response.status !== "200") {
      throw armErrorFromResponse(
        { status: response.status, headers: response.headers, body: response.body },
        operation,
      );
    }
    return this.toDatabase(server, response.body as DatabaseOutput);
  }

  /**
   * What Resource Manager states of a server that the service's limits need: its storage size
   * and its role in replication. Fields the answer leaves out (all are optional in the
   * PostgreSQL resource provider's contract) are left out here too.
   *
   * @throws AppError from Resource Manager (404 `RESOURCE_NOT_FOUND` for a server gone).
   */
  async serverLimitFacts(server: Pick<DirectoryServer, "id" | "kind">): Promise<ServerLimitFacts> {
    const operation = "Reading the PostgreSQL server's properties";
    let response;
    try {
      response = await this.options.arm
        .pathUnchecked(server.id)
        .get({ queryParameters: { "api-version": postgresApiVersions[server.kind] } });
    } catch (thrown) {
      throw armErrorFromThrown(thrown, operation);
    }
    if (response.status !== "200") {
      throw armErrorFromResponse(
        { status: response.status, headers: response.headers, body: response.body },
        operation,
      );
    }
    return serverLimitFactsOf(server.kind, (response.body as ServerOutput | undefined) ?? {});
  }

  async getTags(resourceId: string): Promise<ResourceTags> {
    // A database id has two more path parts than its server's; databases have no tags of their own.
    const serverId =
      resourceId.split("/").length > 9
        ? formatServerId(parseDatabaseId(resourceId))
        : formatServerId(parseServerId(resourceId));
    return (await this.serverById(serverId)).tags;
  }

  async listServers(): Promise<DirectoryServer[]> {
    return this.servers();
  }

  async listDatabases(serverId?: string): Promise<DirectoryDatabase[]> {
    const servers = serverId ? [await this.serverById(serverId)] : await this.servers();
    const databases: DirectoryDatabase[] = [];
    for (const server of servers) {
      const operation = `Listing the databases of ${server.name}`;
      let first;
      try {
        first = await this.options.arm
          .pathUnchecked(this.databasesPath(server))
          .get({ queryParameters: { "api-version": postgresApiVersions[server.kind] } });
      } catch (thrown) {
        throw armErrorFromThrown(thrown, operation);
      }
      const items = await listAll<DatabaseOutput>(this.options.arm, first, operation);
      databases.push(
        ...items
          .filter((db) => !systemDatabases.has(db.name ?? ""))
          .map((db) => this.toDatabase(server, db)),
      );
    }
    return databases;
  }

  async changesSince(watermark?: string): Promise<ResourceChangePage> {
    const seen = watermark === undefined ? undefined : this.readWatermark(watermark);
    const servers = await this.servers();
    const eventTime = this.now().toISOString();
    const next: Record<string, string> = {};
    const changes: ResourceWriteChange[] = [];
    for (const server of servers) {
      const key = fingerprint(server.id.toLowerCase());
      const tags = tagsFingerprint(server.tags);
      next[key] = tags;
      const before = seen?.[key];
      if (before === tags) continue;
      changes.push({
        eventType: "Microsoft.Resources.ResourceWriteSuccess",
        resourceId: server.id,
        operationName: `Microsoft.DBforPostgreSQL/${server.kind}/write`,
        reason: before === undefined ? "created" : "tagsChanged",
        eventTime,
        tags: server.tags,
      });
    }
    return {
      changes,
      watermark: Buffer.from(JSON.stringify({ v: 1, s: next })).toString("base64url"),
    };
  }

  private readWatermark(watermark: string): Record<string, string> {
    try {
      const parsed = JSON.parse(Buffer.from(watermark, "base64url").toString("utf8")) as {
        v?: number;
        s?: Record<string, string>;
      };
      if (parsed.v === 1 && parsed.s && typeof parsed.s === "object") return parsed.s;
    } catch {
      // Reported below.
    }
    throw new InvalidInputError(
      "INVALID_WATERMARK",
      "The watermark is not one this directory gave out",
      [
        {
          path: "$.watermark",
          code: "INVALID_WATERMARK",
          message: "pass the watermark of an earlier page",
        },
      ],
    );
  }
}
