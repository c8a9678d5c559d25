/**
 * What Azure Backup for PostgreSQL does not back up, and how onboarding answers it: each limit
 * with the documentation that states it, and the rule that turns what was read of a server and
 * its databases into refusals (a 4xx before anything starts) and warnings (in the answer).
 *
 * @remarks Pure: the facts are read elsewhere (Resource Manager for the server, a connection for
 * the databases). A fact that could not be read is never taken as fine or as bad: the limit is
 * answered with a "not checked" warning saying why.
 */
import type { ErrorCode } from "../errorCodes.js";

/** The limits onboarding checks. */
export type ServiceLimitName =
  "serverSize" | "readReplica" | "serviceOwnedDatabase" | "largeByteaValue";

/** One documented limit: what it refuses with, and where it is written. */
export interface ServiceLimit {
  readonly name: ServiceLimitName;
  /** The code a refusal is answered with. */
  readonly code: ErrorCode;
  /** The documented reason, quoted or paraphrased. */
  readonly reason: string;
  /** Where the reason is documented. */
  readonly documentation: string;
}

/** Azure Backup's support matrix for Flexible Server (vaulted backups). */
export const flexibleServerSupportMatrix =
  "https://learn.microsoft.com/azure/backup/backup-azure-database-postgresql-flex-support-matrix";

/** Azure Backup's support matrix for Single Server databases. */
export const singleServerSupportMatrix =
  "https://learn.microsoft.com/azure/backup/backup-azure-database-postgresql-support-matrix";

/** The largest server Azure Backup supports for a Flexible Server, in GiB (1 TB). */
export const flexibleServerMaxGiB = 1024;

/** The largest database Azure Backup supports on a Single Server, in GiB (400 GB). */
export const singleServerMaxDatabaseGiB = 400;

/**
 * The largest BYTEA value a logical dump writes: `pg_dump` writes BYTEA in hex, two characters a
 * byte, and PostgreSQL holds no field over 1 GB, so a value of half that or more cannot be dumped.
 */
export const maxDumpableByteaBytes = 512 * 1024 * 1024 - 1;

/** Roles of the service whose databases Flexible Server backups leave out. */
export const serviceOwnerRoles: readonly string[] = ["azuresu", "azure_pg_admin"];

/** The limits, each with its reason and documentation: the one home of both. */
export const serviceLimits: Readonly<Record<ServiceLimitName, ServiceLimit>> = {
  serverSize: {
    name: "serverSize",
    code: "SERVER_TOO_LARGE_FOR_BACKUP",
    reason:
      "Vaulted backups are supported for a server size up to 1 TB; a backup configured on a larger server fails (Flexible Server). The maximum supported database size is 400 GB, a hard limit for a Single Server.",
    documentation: flexibleServerSupportMatrix,
  },
  readReplica: {
    name: "readReplica",
    code: "READ_REPLICA_NOT_PROTECTABLE",
    reason:
      "A read replica is a read-only copy its primary keeps up to date, not a server Azure Backup configures protection on: back up the primary, which holds the same data.",
    documentation:
      "https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-read-replicas",
  },
  serviceOwnedDatabase: {
    name: "serviceOwnedDatabase",
    code: "DATABASE_OWNED_BY_SERVICE_ROLE",
    reason:
      "Backups for PostgreSQL Flexible servers exclude databases owned by azuresu or azure_pg_admin: databases with these owners can't be backed up or restored.",
    documentation: flexibleServerSupportMatrix,
  },
  largeByteaValue: {
    name: "largeByteaValue",
    code: "BYTEA_VALUE_TOO_LARGE",
    reason:
      "Backups are logical dumps (pg_dump): a BYTEA value is written in hex, twice its size, and PostgreSQL holds no field over 1 GB, so a value of 512 MiB or more fails the dump.",
    documentation: "https://www.postgresql.org/docs/current/limits.html",
  },
};

/** What Resource Manager (or the local server) tells of the server; absent fields were not stated. */
export interface ServerLimitFacts {
  /** Provisioned storage, GiB. */
  readonly storageSizeGiB?: number;
  /** Bytes the server's databases take, where a connection measured them. */
  readonly dataBytes?: number;
  /**
   * The server's role in replication as stated: Flexible Server `None`, `Primary`,
   * `AsyncReplica`, `GeoAsyncReplica`; Single Server `None`, `Master`, `Replica`.
   */
  readonly replicationRole?: string;
  /** A replica's primary, where stated. */
  readonly primaryServerId?: string;
}

/** The largest BYTEA value found, and where. */
export interface LargestByteaValue {
  readonly bytes: number;
  readonly table: string;
  readonly column: string;
}

/** What a connection tells of one database. */
export interface DatabaseLimitFacts {
  readonly name: string;
  /** The role owning the database. */
  readonly owner: string;
  /** Bytes the database takes (`pg_database_size`). */
  readonly sizeBytes?: number;
  /** The largest BYTEA value among those read; absent when no BYTEA column has values. */
  readonly largestBytea?: LargestByteaValue;
  /** Tables whose BYTEA values were sampled, not all read (large tables), by name. */
  readonly byteaSampledTables: readonly string[];
}

/** Everything onboarding read (or could not read) about a datasource. */
export interface ServiceLimitFacts {
  /** Which provider backs the datasource up: the service's limits, or `pg_dump`'s alone. */
  readonly provider: "azure" | "local";
  readonly datasourceKind: "server" | "database";
  readonly serverKind: "flexibleServers" | "servers";
  /** The datasource as the answer names it. */
  readonly friendlyName: string;
  /** What the server states; absent when it could not be read (see `serverNotRead`). */
  readonly server?: ServerLimitFacts;
  readonly serverNotRead?: string;
  /** The databases read through a connection; absent when none could be (see `databasesNotRead`). */
  readonly databases?: readonly DatabaseLimitFacts[];
  readonly databasesNotRead?: string;
}

/** A limit a datasource breaks: the onboarding is refused with it. */
export interface ServiceLimitRefusal {
  readonly limit: ServiceLimitName;
  readonly code: ErrorCode;
  readonly message: string;
  readonly recommendedAction: string;
  readonly reason: string;
  readonly documentation: string;
}

/** A limit the answer warns about: near it, partly checked, or not checked at all. */
export interface ServiceLimitWarning {
  readonly limit: ServiceLimitName;
  /** Whether the limit could be checked at all. */
  readonly checked: boolean;
  readonly message: string;
  readonly reason: string;
  readonly documentation: string;
}

/** What onboarding answers about the service's limits. */
export interface ServiceLimitAnswer {
  readonly refusals: readonly ServiceLimitRefusal[];
  readonly warnings: readonly ServiceLimitWarning[];
}

/**
 * The limits of a server as a whole. Protecting every database of a server (`allDatabases`) is
 * refused for these; the others are answered database by database, each database that breaks one
 * left out of the protection.
 */
export const serverWideLimits: readonly ServiceLimitName[] = ["readReplica", "serverSize"];

/**
 * The answer about the server as a whole, for protecting every database of it: what
 * {@link answerServiceLimits} says of the {@link serverWideLimits} alone.
 */
export function answerServerWideLimits(facts: ServiceLimitFacts): ServiceLimitAnswer {
  const answer = answerServiceLimits(facts);
  const serverWide = (entry: { readonly limit: ServiceLimitName }) =>
    serverWideLimits.includes(entry.limit);
  return {
    refusals: answer.refusals.filter(serverWide),
    warnings: answer.warnings.filter(serverWide),
  };
}

const GiB = 1024 ** 3;

const replicaRoles = new Set(["asyncreplica", "geoasyncreplica", "replica"]);

function gib(bytes: number): string {
  return `${(bytes / GiB).toFixed(1)} GiB`;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

/**
 * Answers each limit for what was read: a refusal where a fact breaks it, a warning where a fact
 * comes near it, was only sampled, or could not be read.
 *
 * @remarks The local provider backs up with its own `pg_dump`, which has none of Azure Backup's
 * size, replica or owner rules: only the BYTEA limit (a `pg_dump` limit) applies there, and a
 * database owned by the service's roles (a copy of an Azure server) is refused alike, so that
 * what works locally works in Azure.
 */
export function answerServiceLimits(facts: ServiceLimitFacts): ServiceLimitAnswer {
  const refusals: ServiceLimitRefusal[] = [];
  const warnings: ServiceLimitWarning[] = [];
  const refuse = (name: ServiceLimitName, message: string, recommendedAction: string) => {
    const limit = serviceLimits[name];
    refusals.push({
      limit: name,
      code: limit.code,
      message,
      recommendedAction,
      reason: limit.reason,
      documentation: limit.documentation,
    });
  };
  const warn = (name: ServiceLimitName, checked: boolean, message: string) => {
    const limit = serviceLimits[name];
    warnings.push({
      limit: name,
      checked,
      message,
      reason: limit.reason,
      documentation: limit.documentation,
    });
  };
  const azure = facts.provider === "azure";
  const who = facts.friendlyName;

  if (azure) answerServer();
  answerDatabases();
  return { refusals, warnings };

  function answerServer(): void {
    const server = facts.server;
    if (!server) {
      const why = facts.serverNotRead ?? "the server could not be read";
      warn("serverSize", false, `The size of ${who}'s server was not checked: ${why}`);
      warn(
        "readReplica",
        false,
        `Whether ${who}'s server is a read replica was not checked: ${why}`,
      );
      return;
    }
    if (server.replicationRole === undefined) {
      warn(
        "readReplica",
        false,
        `Whether ${who}'s server is a read replica was not checked: Resource Manager's answer states no replication role`,
      );
    } else if (replicaRoles.has(server.replicationRole.toLowerCase())) {
      refuse(
        "readReplica",
        `${who}'s server is a read replica (replication role ${server.replicationRole}); Azure Backup protects its primary`,
        server.primaryServerId
          ? `Protect the primary server ${server.primaryServerId} instead`
          : "Protect the replica's primary server instead",
      );
    }
    const flexible = facts.serverKind === "flexibleServers";
    if (
      flexible &&
      server.dataBytes !== undefined &&
      server.dataBytes > flexibleServerMaxGiB * GiB
    ) {
      refuse(
        "serverSize",
        `${who} holds ${gib(server.dataBytes)} of data, over the 1 TB Azure Backup supports for a Flexible Server`,
        "Keep this server on its own automated backups (point-in-time restore), or move databases to another server so that each stays under 1 TB",
      );
    } else if (server.storageSizeGiB === undefined) {
      warn(
        "serverSize",
        false,
        `The size of ${who}'s server was not checked: Resource Manager's answer states no storage size`,
      );
    } else if (flexible && server.storageSizeGiB > flexibleServerMaxGiB) {
      warn(
        "serverSize",
        true,
        `${who} has ${server.storageSizeGiB} GiB of storage, over the 1 TB Azure Backup supports: its backups fail once its data grows past 1 TB`,
      );
    } else if (!flexible && server.storageSizeGiB > singleServerMaxDatabaseGiB) {
      warn(
        "serverSize",
        true,
        `${who}'s server has ${server.storageSizeGiB} GiB of storage: a database over 400 GB cannot be backed up`,
      );
    }
  }

  function answerDatabases(): void {
    const databases = facts.databases;
    if (!databases) {
      const why = facts.databasesNotRead ?? "no connection to the databases";
      if (azure) warn("serviceOwnedDatabase", false, `Database owners were not checked: ${why}`);
      warn("largeByteaValue", false, `BYTEA values were not checked: ${why}`);
      return;
    }
    const serviceOwned = databases.filter((db) =>
      serviceOwnerRoles.includes(db.owner.toLowerCase()),
    );
    if (serviceOwned.length > 0 && facts.datasourceKind === "database") {
      const [db] = serviceOwned;
      refuse(
        "serviceOwnedDatabase",
        `The database ${who} is owned by ${db?.owner}, a role Azure Backup's backups exclude`,
        `Give the database another owner (ALTER DATABASE "${db?.name}" OWNER TO <your admin role>), then retry`,
      );
    } else if (serviceOwned.length > 0) {
      warn(
        "serviceOwnedDatabase",
        true,
        `${who}'s backups leave out ${serviceOwned.map((db) => `${db.name} (owned by ${db.owner})`).join(", ")}: give them another owner to have them backed up`,
      );
    }
    if (azure && facts.datasourceKind === "database" && facts.serverKind === "servers") {
      const tooLarge = databases.find(
        (db) => db.sizeBytes !== undefined && db.sizeBytes > singleServerMaxDatabaseGiB * GiB,
      );
      if (tooLarge?.sizeBytes !== undefined) {
        refuse(
          "serverSize",
          `The database ${who} takes ${gib(tooLarge.sizeBytes)}, over the 400 GB Azure Backup supports on a Single Server`,
          "Back this database up with its server's own backups, or split it below 400 GB",
        );
      }
    }
    const oversized = databases.filter(
      (db) => db.largestBytea !== undefined && db.largestBytea.bytes > maxDumpableByteaBytes,
    );
    for (const db of oversized) {
      const value = db.largestBytea as LargestByteaValue;
      refuse(
        "largeByteaValue",
        `A BYTEA value of ${mib(value.bytes)} in ${db.name}.${value.table}.${value.column} is too large for a logical dump to write`,
        `Keep values of ${value.table}.${value.column} under 512 MiB (store large files in Blob Storage and keep their URL), then retry`,
      );
    }
    const sampled = databases.flatMap((db) =>
      db.byteaSampledTables.map((table) => `${db.name}.${table}`),
    );
    if (oversized.length === 0 && sampled.length > 0) {
      warn(
        "largeByteaValue",
        true,
        `BYTEA values were sampled, not all read, in ${sampled.join(", ")}: a value of 512 MiB or more among those not read would still fail the dump`,
      );
    }
  }
}
