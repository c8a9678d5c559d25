/**
 * The checks a protection makes before any work starts: the datasource exists, the policy exists
 * and fits it, and a database's secret exists and holds a connection string. The activities run
 * them inside `protectDatasource` (which also starts from events and plans), and
 * `POST /api/protections` runs the same functions first, so a request that cannot succeed is
 * answered at once and starts nothing. Each throws an {@link AppError} with a stable code.
 */
import { AppError, isAppError, NotFoundError } from "../domain/errors.js";
import { parseConnectionString } from "../domain/protection/connectionString.js";
import { parseVaultId } from "../domain/protection/ids.js";
import {
  datasourceTargetOf,
  DATABASE_DATASOURCE_TYPE,
  FLEXIBLE_SERVER_DATASOURCE_TYPE,
} from "../domain/protection/naming.js";
import {
  ProviderErrorCodes,
  type BackupPolicyPort,
  type DirectoryDatabase,
  type DirectoryServer,
  type MissingRole,
  type MissingSecretPermissions,
  type ResourceDirectoryPort,
  type SecretPort,
  type ServiceLimitFactsPort,
  type VaultAccessPort,
} from "../providers/ports.js";
import type { DatasourceRef, ResolvedDatasource } from "../domain/protection/datasource.js";
import type { ErrorCode } from "../domain/errorCodes.js";
import {
  answerServerWideLimits,
  answerServiceLimits,
  type ServiceLimitRefusal,
  type ServiceLimitWarning,
} from "../domain/protection/serviceLimits.js";

const isNotFound = (error: unknown): boolean => isAppError(error) && error.httpStatus === 404;

/** A directory database as the orchestrations see it. */
export function fromDatabase(database: DirectoryDatabase): ResolvedDatasource {
  return {
    datasourceId: database.id,
    kind: "database",
    datasourceType: DATABASE_DATASOURCE_TYPE,
    serverName: database.serverName,
    databaseName: database.name,
    friendlyName: `${database.serverName}/${database.name}`,
    location: database.location,
    tags: database.tags,
  };
}

/** A directory server (a whole Flexible Server) as the orchestrations see it. */
export function fromServer(server: DirectoryServer): ResolvedDatasource {
  return {
    datasourceId: server.id,
    kind: "server",
    datasourceType: FLEXIBLE_SERVER_DATASOURCE_TYPE,
    serverName: server.name,
    friendlyName: server.name,
    location: server.location,
    tags: server.tags,
  };
}

/**
 * Finds a datasource by id or by names.
 *
 * @throws NotFoundError `DATASOURCE_NOT_FOUND`; AppError `DATASOURCE_UNNAMED` (400) when the
 * reference names nothing; InvalidInputError `INVALID_RESOURCE_ID` for an id that is no datasource.
 */
export async function resolveDatasource(
  directory: ResourceDirectoryPort,
  ref: DatasourceRef,
): Promise<ResolvedDatasource> {
  let serverName: string;
  let databaseName: string | undefined;
  if (ref.datasourceId) {
    const target = datasourceTargetOf(ref.datasourceId);
    serverName =
      target.datasourceType === DATABASE_DATASOURCE_TYPE
        ? target.database.serverName
        : target.server.serverName;
    databaseName =
      target.datasourceType === DATABASE_DATASOURCE_TYPE ? target.database.databaseName : undefined;
  } else if (ref.serverName) {
    serverName = ref.serverName;
    databaseName = ref.databaseName;
  } else {
    throw new AppError(
      "DATASOURCE_UNNAMED",
      "Name the datasource by datasourceId, or by serverName (and databaseName)",
      { httpStatus: 400 },
    );
  }
  try {
    return databaseName === undefined
      ? fromServer(await directory.resolveServer(serverName))
      : fromDatabase(await directory.resolveDatabase(serverName, databaseName));
  } catch (error) {
    // The directory's "not found" is generic; callers need to know it is the datasource that is missing.
    if (!isNotFound(error)) throw error;
    throw new NotFoundError("DATASOURCE_NOT_FOUND", (error as Error).message, {
      cause: error,
      recommendedAction:
        databaseName === undefined
          ? `Check the server name '${serverName}'`
          : `Check the server name '${serverName}' and the database name '${databaseName}' (create the database first)`,
    });
  }
}

/**
 * Checks the vault can reach the datasource: for a database, that its secret exists and holds a
 * usable connection string (the value is read, never logged); a Flexible Server uses the vault's
 * identity.
 *
 * @returns the checks that passed, for display.
 * @throws AppError `SECRET_REQUIRED` (400) without a secretUri, `SECRET_NOT_FOUND` (404) for a missing secret;
 * InvalidInputError for a secret that is no PostgreSQL connection string.
 */
export async function checkDatasourceAccess(
  secrets: SecretPort,
  datasource: Pick<ResolvedDatasource, "kind" | "friendlyName">,
  secretUri: string | undefined,
): Promise<string[]> {
  if (datasource.kind === "server") return ["the vault's managed identity reads the server"];
  if (!secretUri) {
    throw new AppError(
      "SECRET_REQUIRED",
      `Protecting the database ${datasource.friendlyName} needs secretUri: a secret holding its connection string`,
      {
        httpStatus: 400,
        recommendedAction:
          "Store the connection string as a secret (locally: pgprotect local secret set NAME) and pass its URI as secretUri",
      },
    );
  }
  if (!(await secrets.secretExists(secretUri))) {
    throw new AppError("SECRET_NOT_FOUND", `The secret ${secretUri} does not exist`, {
      httpStatus: 404,
      recommendedAction:
        "Create the secret with the database's connection string (locally: pgprotect local secret set NAME), then retry",
    });
  }
  parseConnectionString(await secrets.getSecret(secretUri));
  return ["the secret exists", "the secret holds a PostgreSQL connection string"];
}

/**
 * Checks the Backup vault's identity holds the roles it needs on the datasource and, when
 * `autoGrant` is set, grants the missing ones. Assignments take minutes to apply; the
 * orchestration's validateForBackup retries cover that.
 *
 * @param secretUri - a Single Server database's secret: its key vault must let the identity read
 * secrets too, through "Key Vault Secrets User" (a role, granted like the others) or `get` and
 * `list` in its access policy (checked, never granted: that writes the key vault itself).
 * @returns the checks that passed, the roles granted and what was left to the service's
 * validation, for display.
 * @throws AppError `MISSING_REQUIRED_PERMISSIONS` (403) naming each missing role and its
 * scope, when roles are missing and may not be granted, and each key vault whose access policy
 * lacks secret permissions, with the command that adds them.
 */
export async function checkVaultRoles(
  access: VaultAccessPort,
  vaultId: string,
  datasource: Pick<ResolvedDatasource, "datasourceId" | "friendlyName">,
  autoGrant: boolean,
  secretUri?: string,
): Promise<string[]> {
  const vaultName = parseVaultId(vaultId).vaultName;
  const holds = `the vault ${vaultName}'s identity holds its roles on ${datasource.friendlyName}`;
  if (autoGrant) {
    // The grant reads the assignments first and writes only the missing ones.
    const report = await access.grantMissingRoles(vaultId, datasource.datasourceId, secretUri);
    const granted = report.roles.map(
      (role) => `granted the vault ${vaultName}'s identity '${role.roleName}' on ${role.scope}`,
    );
    if (report.secretPermissions.length > 0) {
      throw missingPermissionsError(vaultName, datasource, [], report.secretPermissions, granted);
    }
    return [...(granted.length === 0 ? [holds] : granted), ...report.unchecked];
  }
  const report = await access.missingRoles(vaultId, datasource.datasourceId, secretUri);
  if (report.roles.length === 0 && report.secretPermissions.length === 0) {
    return [holds, ...report.unchecked];
  }
  throw missingPermissionsError(vaultName, datasource, report.roles, report.secretPermissions, []);
}

/** The 403 naming what the vault's identity lacks, and how to give it. */
function missingPermissionsError(
  vaultName: string,
  datasource: Pick<ResolvedDatasource, "friendlyName">,
  roles: readonly MissingRole[],
  secretPermissions: readonly MissingSecretPermissions[],
  granted: readonly string[],
): AppError {
  const roleList = roles.map((role) => `'${role.roleName}' on ${role.scope}`).join("; ");
  const lacks = [
    ...(roleList ? [roleList] : []),
    ...secretPermissions.map(
      (gap) =>
        `secret permissions ${gap.permissions.join(", ")} in the access policy of the key vault ${gap.keyVaultId}`,
    ),
  ].join("; ");
  const actions = [
    ...(roleList
      ? [
          `Assign ${roleList} to the managed identity of the Backup vault ${vaultName} (or set AUTO_GRANT_ROLE_ASSIGNMENTS=true to let pgprotect grant them)`,
        ]
      : []),
    ...secretPermissions.map((gap) => {
      const keyVaultName = gap.keyVaultId.split("/").at(-1) ?? gap.keyVaultId;
      const subscription = /^\/subscriptions\/([^/]+)/i.exec(gap.keyVaultId)?.[1];
      return `${roleList ? "add" : "Add"} get and list secret permissions for the managed identity of the Backup vault ${vaultName} to the access policy of the key vault ${keyVaultName}, which pgprotect does not change: az keyvault set-policy --name ${keyVaultName} --object-id ${gap.principalId} --secret-permissions get list${subscription ? ` --subscription ${subscription}` : ""}`;
    }),
  ];
  return new AppError(
    ProviderErrorCodes.missingRequiredPermissions,
    `The Backup vault ${vaultName}'s managed identity lacks ${lacks}, needed to back up ${datasource.friendlyName}${granted.length > 0 ? ` (meanwhile ${granted.join("; ")})` : ""}`,
    {
      httpStatus: 403,
      retryable: false,
      recommendedAction: `${actions.join("; ")}, then retry; ${secretPermissions.length > 0 ? "role assignments and access policies" : "assignments"} can take a few minutes to apply`,
    },
  );
}

/**
 * Checks the policy exists in the vault and protects this kind of datasource.
 *
 * @returns a sentence saying so, for display.
 * @throws AppError `POLICY_NOT_FOUND` (404, naming the PUT that creates it) or
 * `POLICY_DATASOURCE_TYPE_MISMATCH` (400).
 */
export async function checkPolicyFits(
  policies: BackupPolicyPort,
  vaultId: string,
  policyName: string,
  datasourceType: string,
): Promise<string> {
  const policy = await policies.getPolicy(vaultId, policyName).catch((error: unknown) => {
    if (isNotFound(error)) {
      throw new AppError("POLICY_NOT_FOUND", `The vault has no policy '${policyName}'`, {
        httpStatus: 404,
        recommendedAction: `Create it first: PUT /api/vaults/${parseVaultId(vaultId).vaultName}/policies/${policyName}`,
      });
    }
    throw error;
  });
  const types = policy.properties.datasourceTypes.map((t) => t.toLowerCase());
  if (!types.includes(datasourceType.toLowerCase())) {
    throw new AppError(
      "POLICY_DATASOURCE_TYPE_MISMATCH",
      `The policy '${policyName}' protects ${policy.properties.datasourceTypes.join(", ")}, not ${datasourceType}`,
      {
        httpStatus: 400,
        recommendedAction: "Choose a policy made for this kind of datasource",
      },
    );
  }
  return `policy ${policyName} protects ${datasourceType}`;
}

/**
 * Checks the datasource against the service's documented limits (server size, read replicas,
 * databases owned by the service's roles, BYTEA values too large to dump) with what the provider
 * can read of it.
 *
 * @param secretUri - a database's secret, already checked: its connection reads the database.
 * @returns the warnings for the answer: limits come near, only sampled, or not checked.
 * @throws AppError with the first broken limit's code (422), its message citing the documented
 * reason and link, every broken limit listed in `problems`.
 */
export async function checkServiceLimits(
  limits: ServiceLimitFactsPort | undefined,
  datasource: ResolvedDatasource,
  secretUri: string | undefined,
): Promise<ServiceLimitWarning[]> {
  if (!limits) return [];
  const answer = answerServiceLimits(await limits.readFacts(datasource, secretUri));
  const [first] = answer.refusals;
  if (first) throw serviceLimitError(first, answer.refusals);
  return [...answer.warnings];
}

/**
 * Checks a server whose every database is to be protected against the limits of a server as a
 * whole (a read replica, its size), with what the provider can read of the server itself.
 *
 * @returns the warnings about those limits, for the answer.
 * @throws AppError with the first broken limit's code (422), as {@link checkServiceLimits} does.
 */
export async function checkServerWideLimits(
  limits: ServiceLimitFactsPort | undefined,
  server: ResolvedDatasource,
): Promise<ServiceLimitWarning[]> {
  if (!limits) return [];
  const answer = answerServerWideLimits(await limits.readFacts(server, undefined, "serverOnly"));
  const [first] = answer.refusals;
  if (first) throw serviceLimitError(first, answer.refusals);
  return [...answer.warnings];
}

/** Why a database of a server was left out of the server's protection. */
export interface DatabaseLimitRefusal {
  readonly databaseName: string;
  /** The first broken limit's code. */
  readonly code: ErrorCode;
  /** Every broken limit, each with its documented reason and link. */
  readonly message: string;
  readonly recommendedAction: string;
}

/**
 * Checks one database of a server against the service's limits, as protecting it alone would.
 *
 * @returns why it must be left out, or `undefined` when it may be protected (warnings included:
 * a limit that could not be checked does not leave a database out).
 */
export async function databaseLimitRefusal(
  limits: ServiceLimitFactsPort | undefined,
  database: ResolvedDatasource,
  secretUri: string | undefined,
): Promise<DatabaseLimitRefusal | undefined> {
  if (!limits) return undefined;
  const answer = answerServiceLimits(await limits.readFacts(database, secretUri));
  const [first] = answer.refusals;
  if (!first) return undefined;
  const error = serviceLimitError(first, answer.refusals);
  return {
    databaseName: database.databaseName ?? database.friendlyName,
    code: first.code,
    message: error.message,
    recommendedAction: error.recommendedAction ?? first.recommendedAction,
  };
}

/** The refusal of a datasource that breaks the service's limits. */
function serviceLimitError(
  first: ServiceLimitRefusal,
  refusals: readonly ServiceLimitRefusal[],
): AppError {
  const cited = (refusal: ServiceLimitRefusal) =>
    `${refusal.message}. ${refusal.reason} (${refusal.documentation})`;
  return new AppError(first.code, refusals.map(cited).join(" "), {
    httpStatus: 422,
    retryable: false,
    problems: refusals.map((refusal) => ({
      path: "$",
      code: refusal.code,
      message: cited(refusal),
    })),
    recommendedAction: refusals.map((refusal) => refusal.recommendedAction).join("; "),
  });
}
