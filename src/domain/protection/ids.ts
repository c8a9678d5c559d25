/**
 * ARM-style resource ids for what pgprotect protects and where it keeps backups: PostgreSQL
 * servers and databases, Backup vaults and their children (policies, backup instances, jobs,
 * recovery points). The local provider mints ids of the same shape under a local subscription, so
 * they look, parse and compare exactly like Azure's.
 *
 * @remarks ARM ids compare case-insensitively (`Microsoft.DataProtection/Backupvaults` and
 * `backupVaults` name the same thing); use {@link sameResourceId}, never `===`.
 */
import { InvalidInputError } from "../errors.js";

/** The subscription every local resource lives in (a fixed, recognisable GUID). */
export const LOCAL_SUBSCRIPTION_ID = "00000000-0000-0000-0000-00000000cafe";
/** The resource group every local resource lives in. */
export const LOCAL_RESOURCE_GROUP = "pgprotect-local";
/** The location reported for local resources. */
export const LOCAL_LOCATION = "local";
/** The Key Vault name local secret URIs use unless told otherwise. */
export const LOCAL_KEY_VAULT_NAME = "pgprotect-local";

/** Resource provider namespace of PostgreSQL servers. */
export const POSTGRESQL_PROVIDER = "Microsoft.DBforPostgreSQL";
/** Resource provider namespace of Backup vaults. */
export const DATA_PROTECTION_PROVIDER = "Microsoft.DataProtection";

/** How a PostgreSQL server is modelled: a Single Server (per-database protection) or a Flexible Server (whole server). */
export type ServerKind = "servers" | "flexibleServers";

/** The subscription and resource group a resource sits in. */
export interface ResourceScope {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
}

/** The local scope: {@link LOCAL_SUBSCRIPTION_ID} / {@link LOCAL_RESOURCE_GROUP}. */
export const LOCAL_SCOPE: ResourceScope = {
  subscriptionId: LOCAL_SUBSCRIPTION_ID,
  resourceGroup: LOCAL_RESOURCE_GROUP,
};

/** One `type/name` pair of an ARM id below the provider namespace. */
export interface ResourceIdSegment {
  readonly type: string;
  readonly name: string;
}

/** A parsed ARM resource id: scope, provider namespace and the `type/name` chain. */
export interface ParsedResourceId extends ResourceScope {
  readonly provider: string;
  /** Outermost first: `[{type:"servers",name:"s1"},{type:"databases",name:"db"}]`. */
  readonly segments: readonly ResourceIdSegment[];
}

/** A PostgreSQL server id, parsed. */
export interface ServerRef extends ResourceScope {
  readonly kind: ServerKind;
  readonly serverName: string;
}

/** A PostgreSQL database id, parsed. */
export interface DatabaseRef extends ServerRef {
  readonly databaseName: string;
}

/** A Backup vault id, parsed. */
export interface VaultRef extends ResourceScope {
  readonly vaultName: string;
}

/** The names in a Backup vault's child types, as ARM spells them in paths. */
export type VaultChildType = "backupPolicies" | "backupInstances" | "backupJobs";

/** A vault child id (policy, backup instance, job), parsed. */
export interface VaultChildRef extends VaultRef {
  readonly childType: VaultChildType;
  readonly childName: string;
}

/** A recovery point id, parsed. */
export interface RecoveryPointRef extends VaultRef {
  readonly backupInstanceName: string;
  readonly recoveryPointId: string;
}

const invalidId = (id: string, expected: string): InvalidInputError =>
  new InvalidInputError("INVALID_RESOURCE_ID", `'${id}' is not ${expected}`, [
    { path: "$.id", code: "INVALID_RESOURCE_ID", message: `expected ${expected}` },
  ]);

/** A name segment must not carry a path separator or be empty; everything else ARM accepts here. */
function checkName(name: string, what: string): string {
  if (name.length === 0 || name.includes("/")) {
    throw new InvalidInputError("INVALID_RESOURCE_NAME", `Invalid ${what} name '${name}'`, [
      {
        path: "$.name",
        code: "INVALID_RESOURCE_NAME",
        message: `${what} name must be non-empty and contain no '/'`,
      },
    ]);
  }
  return name;
}

/**
 * The last segment of a resource id: the name of what it names (`…/backupPolicies/daily` is
 * `daily`). Any id is read, ARM-shaped or not; one with no segment at all (`""`, `"/"`) has none.
 */
export function lastSegment(id: string): string | undefined {
  return id
    .split("/")
    .filter((part) => part !== "")
    .at(-1);
}

/** Formats any ARM id from its parts. */
export function formatResourceId(parts: ParsedResourceId): string {
  const chain = parts.segments
    .map((s) => `${checkName(s.type, "type")}/${checkName(s.name, s.type)}`)
    .join("/");
  return `/subscriptions/${parts.subscriptionId}/resourceGroups/${parts.resourceGroup}/providers/${parts.provider}/${chain}`;
}

/**
 * Parses an ARM resource id of the form
 * `/subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}/{name}[/{type}/{name}...]`.
 *
 * @throws InvalidInputError `INVALID_RESOURCE_ID` when the id has another shape.
 */
export function parseResourceId(id: string): ParsedResourceId {
  const parts = id.split("/");
  // A leading "/" yields an empty first element; a trailing "/" an empty last one.
  if (parts[0] !== "" || parts.some((p, i) => i > 0 && p === ""))
    throw invalidId(id, "an ARM resource id");
  const [, subsKey, subscriptionId, rgKey, resourceGroup, providersKey, provider, ...rest] = parts;
  if (
    subsKey?.toLowerCase() !== "subscriptions" ||
    rgKey?.toLowerCase() !== "resourcegroups" ||
    providersKey?.toLowerCase() !== "providers" ||
    subscriptionId === undefined ||
    resourceGroup === undefined ||
    provider === undefined ||
    rest.length === 0 ||
    rest.length % 2 !== 0
  ) {
    throw invalidId(id, "an ARM resource id");
  }
  const segments: ResourceIdSegment[] = [];
  for (let i = 0; i < rest.length; i += 2) {
    segments.push({ type: rest[i] as string, name: rest[i + 1] as string });
  }
  return { subscriptionId, resourceGroup, provider, segments };
}

/**
 * The form of an ARM id under which two ids are equal exactly when they name the same resource:
 * subscription, resource group, provider, types and Azure names lower-cased (Azure ignores their
 * case), and a PostgreSQL database's name kept exactly as it is (PostgreSQL does not: `Demo` and
 * `demo` are two databases). Text that is not an ARM id is its own key.
 */
export function resourceIdKey(id: string): string {
  let parsed: ParsedResourceId;
  try {
    parsed = parseResourceId(id);
  } catch {
    return id;
  }
  const postgres = eq(parsed.provider, POSTGRESQL_PROVIDER);
  const chain = parsed.segments
    .map((segment, index) => {
      const exact = postgres && index > 0 && eq(segment.type, "databases");
      return `${segment.type.toLowerCase()}/${exact ? segment.name : segment.name.toLowerCase()}`;
    })
    .join("/");
  return `/subscriptions/${parsed.subscriptionId.toLowerCase()}/resourcegroups/${parsed.resourceGroup.toLowerCase()}/providers/${parsed.provider.toLowerCase()}/${chain}`;
}

/**
 * True when two ARM ids name the same resource: ARM compares ids without regard to case, except
 * the name of a PostgreSQL database, which PostgreSQL compares exactly (see {@link resourceIdKey}).
 */
export function sameResourceId(a: string, b: string): boolean {
  return resourceIdKey(a) === resourceIdKey(b);
}

const eq = (a: string | undefined, b: string): boolean => a?.toLowerCase() === b.toLowerCase();

/** Formats a PostgreSQL server id. */
export function formatServerId(ref: ServerRef): string {
  return formatResourceId({
    ...ref,
    provider: POSTGRESQL_PROVIDER,
    segments: [{ type: ref.kind, name: ref.serverName }],
  });
}

/** Formats a PostgreSQL database id (`.../servers/{s}/databases/{db}` or `.../flexibleServers/{s}/databases/{db}`). */
export function formatDatabaseId(ref: DatabaseRef): string {
  return formatResourceId({
    ...ref,
    provider: POSTGRESQL_PROVIDER,
    segments: [
      { type: ref.kind, name: ref.serverName },
      { type: "databases", name: ref.databaseName },
    ],
  });
}

function serverKindOf(type: string | undefined): ServerKind | undefined {
  if (eq(type, "servers")) return "servers";
  if (eq(type, "flexibleServers")) return "flexibleServers";
  return undefined;
}

/** Parses a PostgreSQL server id. @throws InvalidInputError `INVALID_RESOURCE_ID`. */
export function parseServerId(id: string): ServerRef {
  const parsed = parseResourceId(id);
  const [server] = parsed.segments;
  const kind = serverKindOf(server?.type);
  if (
    !eq(parsed.provider, POSTGRESQL_PROVIDER) ||
    parsed.segments.length !== 1 ||
    !kind ||
    !server
  ) {
    throw invalidId(id, "a PostgreSQL server id");
  }
  return {
    subscriptionId: parsed.subscriptionId,
    resourceGroup: parsed.resourceGroup,
    kind,
    serverName: server.name,
  };
}

/** Parses a PostgreSQL database id. @throws InvalidInputError `INVALID_RESOURCE_ID`. */
export function parseDatabaseId(id: string): DatabaseRef {
  const parsed = parseResourceId(id);
  const [server, database] = parsed.segments;
  const kind = serverKindOf(server?.type);
  if (
    !eq(parsed.provider, POSTGRESQL_PROVIDER) ||
    parsed.segments.length !== 2 ||
    !kind ||
    !server ||
    !database ||
    !eq(database.type, "databases")
  ) {
    throw invalidId(id, "a PostgreSQL database id");
  }
  return {
    subscriptionId: parsed.subscriptionId,
    resourceGroup: parsed.resourceGroup,
    kind,
    serverName: server.name,
    databaseName: database.name,
  };
}

/** Formats a Backup vault id. */
export function formatVaultId(ref: VaultRef): string {
  return formatResourceId({
    ...ref,
    provider: DATA_PROTECTION_PROVIDER,
    segments: [{ type: "backupVaults", name: ref.vaultName }],
  });
}

/** Parses a Backup vault id. @throws InvalidInputError `INVALID_RESOURCE_ID`. */
export function parseVaultId(id: string): VaultRef {
  const parsed = parseResourceId(id);
  const [vault] = parsed.segments;
  if (
    !eq(parsed.provider, DATA_PROTECTION_PROVIDER) ||
    parsed.segments.length !== 1 ||
    !vault ||
    !eq(vault.type, "backupVaults")
  ) {
    throw invalidId(id, "a Backup vault id");
  }
  return {
    subscriptionId: parsed.subscriptionId,
    resourceGroup: parsed.resourceGroup,
    vaultName: vault.name,
  };
}

/** Formats the id of a vault's policy, backup instance or job. */
export function formatVaultChildId(ref: VaultChildRef): string {
  return formatResourceId({
    ...ref,
    provider: DATA_PROTECTION_PROVIDER,
    segments: [
      { type: "backupVaults", name: ref.vaultName },
      { type: ref.childType, name: ref.childName },
    ],
  });
}

const vaultChildTypes: readonly VaultChildType[] = [
  "backupPolicies",
  "backupInstances",
  "backupJobs",
];

/** Parses the id of a vault's policy, backup instance or job. @throws InvalidInputError `INVALID_RESOURCE_ID`. */
export function parseVaultChildId(id: string, expected?: VaultChildType): VaultChildRef {
  const parsed = parseResourceId(id);
  const [vault, child] = parsed.segments;
  const childType = vaultChildTypes.find((t) => eq(child?.type, t));
  if (
    !eq(parsed.provider, DATA_PROTECTION_PROVIDER) ||
    parsed.segments.length !== 2 ||
    !vault ||
    !child ||
    !eq(vault.type, "backupVaults") ||
    !childType ||
    (expected !== undefined && childType !== expected)
  ) {
    throw invalidId(id, `a Backup vault ${expected ?? "child"} id`);
  }
  return {
    subscriptionId: parsed.subscriptionId,
    resourceGroup: parsed.resourceGroup,
    vaultName: vault.name,
    childType,
    childName: child.name,
  };
}

/** Formats a recovery point id (`.../backupInstances/{bi}/recoveryPoints/{rp}`). */
export function formatRecoveryPointId(ref: RecoveryPointRef): string {
  return formatResourceId({
    ...ref,
    provider: DATA_PROTECTION_PROVIDER,
    segments: [
      { type: "backupVaults", name: ref.vaultName },
      { type: "backupInstances", name: ref.backupInstanceName },
      { type: "recoveryPoints", name: ref.recoveryPointId },
    ],
  });
}

/** Parses a recovery point id. @throws InvalidInputError `INVALID_RESOURCE_ID`. */
export function parseRecoveryPointId(id: string): RecoveryPointRef {
  const parsed = parseResourceId(id);
  const [vault, instance, point] = parsed.segments;
  if (
    !eq(parsed.provider, DATA_PROTECTION_PROVIDER) ||
    parsed.segments.length !== 3 ||
    !vault ||
    !instance ||
    !point ||
    !eq(vault.type, "backupVaults") ||
    !eq(instance.type, "backupInstances") ||
    !eq(point.type, "recoveryPoints")
  ) {
    throw invalidId(id, "a recovery point id");
  }
  return {
    subscriptionId: parsed.subscriptionId,
    resourceGroup: parsed.resourceGroup,
    vaultName: vault.name,
    backupInstanceName: instance.name,
    recoveryPointId: point.name,
  };
}
