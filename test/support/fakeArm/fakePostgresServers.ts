/**
 * The PostgreSQL resource provider's server GET for the fake Resource Manager: a server's
 * resource with the properties a test gives it (storage, replication role), or none of the
 * optional ones, as the provider's contract allows (`Microsoft.DBforPostgreSQL` flexibleServers
 * 2024-08-01: `properties`, `storage`, `replicationRole` are all optional; servers 2017-12-01
 * alike).
 */

/** Properties a test gives a fake server, in the provider's own shape. */
export interface FakeServerProperties {
  /** Flexible Server: `properties.storage.storageSizeGB`. */
  readonly storageSizeGB?: number;
  /** Single Server: `properties.storageProfile.storageMB`. */
  readonly storageMB?: number;
  /** `None`, `Primary`, `AsyncReplica`, `GeoAsyncReplica` (Single Server: `Master`, `Replica`). */
  readonly replicationRole?: string;
  /** A Flexible Server replica's primary. */
  readonly sourceServerResourceId?: string;
  /** A Single Server replica's master (`properties.masterServerId`). */
  readonly masterServerId?: string;
}

/** A fake server as the fake Resource Manager knows it. */
export interface FakeServerRecord {
  readonly id: string;
  readonly name: string;
  readonly kind: "servers" | "flexibleServers";
  readonly location: string;
  readonly tags: Record<string, string>;
}

/** The answer of `GET {serverId}` with the api-version the provider expects. */
export interface FakeServerAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** Whether a path is a PostgreSQL server's own (not one of its children). */
export function isPostgresServerPath(pathname: string): boolean {
  return /\/providers\/microsoft\.dbforpostgresql\/(flexibleservers|servers)\/[^/]+$/i.test(
    pathname,
  );
}

/** The server properties tests set, by lower-cased server id. */
export class FakePostgresServers {
  readonly #properties = new Map<string, FakeServerProperties>();

  /** Gives a server the properties its GET answers with. */
  set(serverId: string, properties: FakeServerProperties): void {
    this.#properties.set(serverId.toLowerCase(), properties);
  }

  /** Answers `GET {serverId}`: the resource, without the optional properties nobody set. */
  answer(
    method: string,
    url: URL,
    server: FakeServerRecord | undefined,
    onViolation: (message: string) => void,
  ): FakeServerAnswer {
    const expected = server?.kind === "servers" ? "2017-12-01" : "2024-08-01";
    if (method !== "GET" || url.searchParams.get("api-version") !== expected) {
      onViolation(
        `${method} ${url.pathname} with api-version ${url.searchParams.get("api-version")}, expected GET with ${expected}`,
      );
      return {
        status: 400,
        body: { error: { code: "InvalidApiVersionParameter", message: "Unsupported api-version" } },
      };
    }
    if (!server) {
      return {
        status: 404,
        body: { error: { code: "ResourceNotFound", message: "The Resource was not found." } },
      };
    }
    const given = this.#properties.get(server.id.toLowerCase());
    const properties =
      given === undefined
        ? undefined
        : {
            ...(given.storageSizeGB !== undefined
              ? { storage: { storageSizeGB: given.storageSizeGB } }
              : {}),
            ...(given.storageMB !== undefined
              ? { storageProfile: { storageMB: given.storageMB } }
              : {}),
            ...(given.replicationRole !== undefined
              ? { replicationRole: given.replicationRole }
              : {}),
            ...(given.sourceServerResourceId !== undefined
              ? { sourceServerResourceId: given.sourceServerResourceId }
              : {}),
            ...(given.masterServerId !== undefined ? { masterServerId: given.masterServerId } : {}),
          };
    return {
      status: 200,
      body: {
        id: server.id,
        name: server.name,
        type: `Microsoft.DBforPostgreSQL/${server.kind}`,
        location: server.location,
        tags: server.tags,
        ...(properties ? { properties } : {}),
      },
    };
  }
}
