/**
 * The local resource directory: configured PostgreSQL servers and their databases, with ids shaped
 * like Azure's under the local subscription. A database's tags live in PostgreSQL itself, as a
 * JSON object in `COMMENT ON DATABASE`, so a DBA can tag with SQL:
 *
 * ```sql
 * COMMENT ON DATABASE sales IS '{"backup": "weekly-policy", "owner": "team-a"}';
 * ```
 *
 * New databases and tag changes are reported as resource-write changes after a watermark; the
 * last observed state and a bounded change log persist in the state folder.
 */
import path from "node:path";
import { InvalidInputError, NotFoundError } from "../../domain/errors.js";
import { SCRATCH_DATABASE_PREFIX } from "../../domain/drills/drill.js";
import {
  parseConnectionString,
  type PostgresConnectionParams,
} from "../../domain/protection/connectionString.js";
import {
  formatDatabaseId,
  formatServerId,
  LOCAL_LOCATION,
  LOCAL_SCOPE,
  parseResourceId,
  POSTGRESQL_PROVIDER,
  resourceIdKey,
  type ResourceScope,
  type ServerKind,
} from "../../domain/protection/ids.js";
import type {
  DirectoryDatabase,
  DirectoryServer,
  ResourceChangePage,
  ResourceDirectoryPort,
  ResourceTags,
  ResourceWriteChange,
} from "../ports.js";
import { ProviderErrorCodes } from "../ports.js";
import { readJsonFile, writeJsonAtomic } from "../atomicFiles.js";
import { clientConfig, quoteIdent, quoteLiteral, withClient } from "./pgConnection.js";

/** One configured PostgreSQL server. */
export interface LocalServerConfig {
  /** Server name in ids (3-63 lowercase letters, digits, dashes). */
  readonly name: string;
  /** Connection string of a user that may list databases and read and write their comments. */
  readonly connectionString: string;
  /** `servers` (default: databases protected one by one) or `flexibleServers` (whole server). */
  readonly kind?: ServerKind;
  /** Tags of the server itself. */
  readonly tags?: ResourceTags;
}

/** Options of {@link LocalResourceDirectory}. */
export interface LocalResourceDirectoryOptions {
  readonly servers: readonly LocalServerConfig[];
  /** The state folder; the change log lives in `directory/changes.json` inside it. */
  readonly stateDir: string;
  readonly scope?: ResourceScope;
  readonly now?: () => Date;
  /** Changes kept for late readers. */
  readonly changeLogLimit?: number;
}

interface ResolvedServer {
  readonly config: LocalServerConfig;
  readonly params: PostgresConnectionParams;
  readonly resource: DirectoryServer;
}

/** A server or database as one observation saw it. */
interface ObservedResource {
  readonly id: string;
  readonly operationName: string;
  readonly tags: ResourceTags;
}

interface ChangeLogFile {
  readonly sequence: number;
  /** Lower-cased id -> the tags last seen, as canonical JSON. */
  readonly seen: Record<string, string>;
  readonly log: readonly (ResourceWriteChange & { readonly sequence: number })[];
}

const SERVER_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

/** Parses a database comment into tags: a JSON object's entries; anything else means no tags. */
export function tagsFromComment(comment: string | null | undefined): ResourceTags {
  if (!comment) return {};
  let value: unknown;
  try {
    value = JSON.parse(comment);
  } catch {
    return {};
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
}

/** Tags as canonical JSON (sorted keys), to compare tag sets. */
function canonicalTags(tags: ResourceTags): string {
  return JSON.stringify(
    Object.fromEntries(Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  );
}

/** Local servers and databases, with tags kept in `COMMENT ON DATABASE`. */
export class LocalResourceDirectory implements ResourceDirectoryPort {
  readonly #servers: readonly ResolvedServer[];
  readonly #changeFile: string;
  readonly #now: () => Date;
  readonly #limit: number;
  #queue: Promise<unknown> = Promise.resolve();
  /** Lower-cased ids of servers that could not be listed in the last observation. */
  #unreachable = new Set<string>();

  constructor(options: LocalResourceDirectoryOptions) {
    const scope = options.scope ?? LOCAL_SCOPE;
    const names = new Set<string>();
    this.#servers = options.servers.map((config) => {
      if (!SERVER_NAME.test(config.name) || names.has(config.name)) {
        throw new InvalidInputError(
          "CONFIG_INVALID",
          `Invalid or repeated server name '${config.name}'`,
          [
            {
              path: "servers.name",
              code: "CONFIG_INVALID",
              message: "use 3-63 lowercase letters, digits and dashes, once each",
            },
          ],
        );
      }
      names.add(config.name);
      const kind = config.kind ?? "servers";
      return {
        config,
        params: parseConnectionString(config.connectionString),
        resource: {
          id: formatServerId({ ...scope, kind, serverName: config.name }),
          name: config.name,
          kind,
          location: LOCAL_LOCATION,
          tags: config.tags ?? {},
        },
      };
    });
    this.#changeFile = path.join(path.resolve(options.stateDir), "directory", "changes.json");
    this.#now = options.now ?? (() => new Date());
    this.#limit = options.changeLogLimit ?? 10_000;
  }

  /** Connection parameters of a configured server (for the vault's own use). */
  serverConnection(serverName: string): PostgresConnectionParams {
    return this.#server(serverName).params;
  }

  async resolveServer(serverName: string): Promise<DirectoryServer> {
    return this.#server(serverName).resource;
  }

  async resolveDatabase(serverName: string, databaseName: string): Promise<DirectoryDatabase> {
    const server = this.#server(serverName);
    const database = (await this.#databasesOf(server)).find((d) => d.name === databaseName);
    if (!database)
      throw this.#notFound(`Database '${databaseName}' was not found on server '${serverName}'`);
    return database;
  }

  async getTags(resourceId: string): Promise<ResourceTags> {
    const parsed = parseResourceId(resourceId);
    const [serverSegment, databaseSegment, extra] = parsed.segments;
    if (
      parsed.provider.toLowerCase() !== POSTGRESQL_PROVIDER.toLowerCase() ||
      !serverSegment ||
      extra
    ) {
      throw this.#notFound(
        `'${resourceId}' is not a PostgreSQL server or database this directory knows`,
      );
    }
    const server = this.#serverById(resourceId, serverSegment.name);
    if (!databaseSegment) return server.resource.tags;
    return (await this.resolveDatabase(server.config.name, databaseSegment.name)).tags;
  }

  async listServers(): Promise<DirectoryServer[]> {
    return this.#servers.map((s) => s.resource);
  }

  async listDatabases(serverId?: string): Promise<DirectoryDatabase[]> {
    const servers =
      serverId === undefined
        ? this.#servers
        : [this.#serverById(serverId, parseResourceId(serverId).segments[0]?.name ?? "")];
    const all: DirectoryDatabase[] = [];
    for (const server of servers) all.push(...(await this.#databasesOf(server)));
    return all;
  }

  /**
   * Replaces a database's tags (writes its comment), as a DBA would with `COMMENT ON DATABASE`.
   */
  async setDatabaseTags(
    serverName: string,
    databaseName: string,
    tags: ResourceTags,
  ): Promise<void> {
    const server = this.#server(serverName);
    await withClient(
      clientConfig(server.params, "postgres"),
      `Tagging database '${databaseName}'`,
      async (client) => {
        // COMMENT takes no bind parameters; the literal is quoted instead.
        await client.query(
          `COMMENT ON DATABASE ${quoteIdent(databaseName)} IS ${quoteLiteral(JSON.stringify(tags))}`,
        );
      },
    );
  }

  async changesSince(watermark?: string): Promise<ResourceChangePage> {
    const after = watermark === undefined ? 0 : Number(watermark);
    if (!Number.isSafeInteger(after) || after < 0) {
      throw new InvalidInputError(
        "INVALID_WATERMARK",
        `'${watermark}' is not a watermark from this directory`,
        [
          {
            path: "$.watermark",
            code: "INVALID_WATERMARK",
            message: "pass the watermark of an earlier page",
          },
        ],
      );
    }
    const { state, current } = await this.#observe();
    if (watermark === undefined) {
      // A first reader has no history: everything that exists now is news to it.
      return {
        changes: current.map((r) => this.#change(r.id, r.operationName, "created", r.tags)),
        watermark: String(state.sequence),
      };
    }
    const changes = state.log
      .filter((entry) => entry.sequence > after)
      .map(({ sequence: _sequence, ...change }) => change);
    return { changes, watermark: String(state.sequence) };
  }

  /** Compares what exists now with what was seen last, and appends the differences to the log. */
  #observe(): Promise<{ state: ChangeLogFile; current: ObservedResource[] }> {
    const run = async (): Promise<{ state: ChangeLogFile; current: ObservedResource[] }> => {
      const previous = (await readJsonFile<ChangeLogFile>(this.#changeFile)) ?? {
        sequence: 0,
        seen: {},
        log: [],
      };
      const current = await this.#currentResources();
      let sequence = previous.sequence;
      const seen: Record<string, string> = { ...previous.seen };
      const added: (ResourceWriteChange & { sequence: number })[] = [];
      for (const resource of current) {
        // Exactly this database: `Demo` and `demo` are two (see resourceIdKey).
        const key = resourceIdKey(resource.id);
        const tags = canonicalTags(resource.tags);
        const before = previous.seen[key];
        if (before === tags) continue;
        sequence += 1;
        added.push({
          ...this.#change(
            resource.id,
            resource.operationName,
            before === undefined ? "created" : "tagsChanged",
            resource.tags,
          ),
          sequence,
        });
        seen[key] = tags;
      }
      // A dropped database is forgotten, so that one created again under its name is news.
      const present = new Set(current.map((r) => resourceIdKey(r.id)));
      for (const key of Object.keys(seen))
        if (!present.has(key) && !this.#unreachable.has(key.split("/databases/")[0] ?? ""))
          delete seen[key];
      const next: ChangeLogFile = {
        sequence,
        seen,
        log: [...previous.log, ...added].slice(-this.#limit),
      };
      if (added.length > 0 || Object.keys(seen).length !== Object.keys(previous.seen).length) {
        await writeJsonAtomic(this.#changeFile, next);
      }
      return { state: next, current };
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #currentResources(): Promise<ObservedResource[]> {
    const resources: ObservedResource[] = [];
    const unreachable = new Set<string>();
    for (const server of this.#servers) {
      const type = `${POSTGRESQL_PROVIDER}/${server.resource.kind}`;
      resources.push({
        id: server.resource.id,
        operationName: `${type}/write`,
        tags: server.resource.tags,
      });
      try {
        for (const database of await this.#databasesOf(server)) {
          resources.push({
            id: database.id,
            operationName: `${type}/databases/write`,
            tags: database.tags,
          });
        }
      } catch {
        // A server that is down has not lost its databases; they are judged when it answers again.
        unreachable.add(server.resource.id.toLowerCase());
      }
    }
    this.#unreachable = unreachable;
    return resources;
  }

  #change(
    resourceId: string,
    operationName: string,
    reason: ResourceWriteChange["reason"],
    tags: ResourceTags,
  ): ResourceWriteChange {
    return {
      eventType: "Microsoft.Resources.ResourceWriteSuccess",
      resourceId,
      operationName,
      reason,
      eventTime: this.#now().toISOString(),
      tags,
    };
  }

  async #databasesOf(server: ResolvedServer): Promise<DirectoryDatabase[]> {
    const rows = await withClient(
      clientConfig(server.params, server.params.database ?? "postgres"),
      `Listing databases of '${server.config.name}'`,
      async (client) =>
        (
          await client.query<{ datname: string; comment: string | null }>(
            `SELECT datname, shobj_description(oid, 'pg_database') AS comment
             FROM pg_database WHERE datallowconn AND NOT datistemplate
               AND NOT starts_with(datname, $1) ORDER BY datname`,
            // A restore drill's scratch database is nobody's to protect or list.
            [SCRATCH_DATABASE_PREFIX],
          )
        ).rows,
    );
    const scope = parseResourceId(server.resource.id);
    return rows.map((row) => ({
      id: formatDatabaseId({
        ...scope,
        kind: server.resource.kind,
        serverName: server.config.name,
        databaseName: row.datname,
      }),
      name: row.datname,
      serverId: server.resource.id,
      serverName: server.config.name,
      location: LOCAL_LOCATION,
      tags: tagsFromComment(row.comment),
    }));
  }

  #server(serverName: string): ResolvedServer {
    const server = this.#servers.find((s) => s.config.name === serverName.toLowerCase());
    if (!server) throw this.#notFound(`Server '${serverName}' is not configured`);
    return server;
  }

  #serverById(resourceId: string, serverName: string): ResolvedServer {
    const server = this.#servers.find((s) => s.config.name === serverName.toLowerCase());
    const serverId = parseResourceId(resourceId);
    if (
      !server ||
      serverId.subscriptionId.toLowerCase() !==
        parseResourceId(server.resource.id).subscriptionId.toLowerCase() ||
      serverId.resourceGroup.toLowerCase() !==
        parseResourceId(server.resource.id).resourceGroup.toLowerCase() ||
      serverId.segments[0]?.type.toLowerCase() !== server.resource.kind.toLowerCase()
    ) {
      throw this.#notFound(`'${resourceId}' is not a server this directory knows`);
    }
    return server;
  }

  #notFound(message: string): NotFoundError {
    return new NotFoundError(ProviderErrorCodes.resourceNotFound, message);
  }
}
