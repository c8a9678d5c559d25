/**
 * The user stories "protect a datasource" and "protect every database of a server": check what
 * can be checked cheaply, then start the protection once under the id derived from the target.
 *
 * @remarks Facts that are cheap to check are checked before anything starts, with the same
 * functions the orchestration's activities use, so a request that cannot succeed is a 4xx problem
 * and leaves nothing behind. The orchestration checks them again: it also starts from events and
 * plans, and things change in between.
 */
import { AppError, isAppError, NotFoundError } from "../domain/errors.js";
import { DATABASE_DATASOURCE_TYPE } from "../domain/protection/naming.js";
import type { ServiceLimitWarning } from "../domain/protection/serviceLimits.js";
import {
  legacyServerProtectionInstanceId,
  serverProtectionInstanceId,
} from "../domain/protection/operationIds.js";
import { orchestrationNames } from "../orchestrations/names.js";
import type { ProtectDatasourceInput } from "../orchestrations/protectDatasource.js";
import type { ProtectServerInput } from "../orchestrations/protectServer.js";
import type { EventLogger, RequestCorrelation } from "../observability/eventLogger.js";
import { logEvents } from "../observability/logEvents.js";
import type { DirectoryServer } from "../providers/ports.js";
import type { ApplicationDependencies } from "./dependencies.js";
import type { OrchestrationPort } from "./orchestrationPort.js";
import {
  checkDatasourceAccess,
  checkPolicyFits,
  checkServerWideLimits,
  checkServiceLimits,
  fromServer,
  resolveDatasource,
} from "./protectionChecks.js";
import {
  datasourceProtection,
  isForServer,
  startProtectionOnce,
  type ProtectionSettings,
  type ProtectionStart,
} from "./protectionOperations.js";
import { existingVaultId } from "./vaults.js";

/** What protection reads: the settings, the provider and the vaults. */
export type ProtectDependencies = Pick<ApplicationDependencies, "config" | "provider" | "vaults">;

/** A request to protect one datasource, named by id or by server (and database) name. */
export interface ProtectDatasourceRequest {
  readonly datasourceId?: string | undefined;
  readonly serverName?: string | undefined;
  readonly databaseName?: string | undefined;
  readonly vaultName?: string | undefined;
  readonly policyName: string;
  readonly secretUri?: string | undefined;
  /** Who asked, recorded with the operation. */
  readonly requestedBy?: string | undefined;
  /** The asking request's invocation and trace, carried into the operation's logs. */
  readonly correlation?: RequestCorrelation | undefined;
}

/** A request to protect every database of a server, one secret reaching them all. */
export interface ProtectServerRequest {
  readonly serverName: string;
  readonly vaultName?: string | undefined;
  readonly policyName: string;
  readonly secretUri?: string | undefined;
  readonly maxConcurrency?: number | undefined;
  readonly requestedBy?: string | undefined;
  readonly correlation?: RequestCorrelation | undefined;
}

/** A protection started or found, and what it protects. */
export type ProtectionAnswer = ProtectionStart & {
  /** What the answer names besides the operation, e.g. `{ datasourceId }`. */
  readonly subject: Readonly<Record<string, unknown>>;
  /** The service's limits the datasource comes near or that could not be checked (a new start only). */
  readonly warnings?: readonly ServiceLimitWarning[];
};

/** The vault asked for, which must exist; a 404 names how to make it. */
function vaultOf(deps: ProtectDependencies, request: ProtectionSettingsRequest): Promise<string> {
  return existingVaultId(
    deps,
    request.vaultName,
    "$.vaultName",
    (name) =>
      `Name an existing vault (GET /api/backup-instances shows them; locally, create one with pgprotect local vault create ${name} and store the policy ${request.policyName} in it), or leave vaultName out to use the default vault`,
  );
}

/** What a protection request asks for, besides its target. */
type ProtectionSettingsRequest = Pick<
  ProtectDatasourceRequest,
  "vaultName" | "policyName" | "secretUri"
>;

/** The settings a repeat is compared on: the vault (which must exist), the policy and the secret. */
async function settingsOf(
  deps: ProtectDependencies,
  request: ProtectionSettingsRequest,
): Promise<ProtectionSettings> {
  const vaultId = await vaultOf(deps, request);
  return { vaultId, policyName: request.policyName, secretUri: request.secretUri };
}

/** The vault, once the policy is known to exist there and to protect `datasourceType`. */
async function vaultWithPolicy(
  deps: ProtectDependencies,
  request: ProtectionSettingsRequest,
  datasourceType: string,
): Promise<string> {
  const vaultId = await vaultOf(deps, request);
  await checkPolicyFits(deps.provider.backup, vaultId, request.policyName, datasourceType);
  return vaultId;
}

/**
 * Protects one datasource through `protectDatasource`.
 *
 * @throws NotFoundError `DATASOURCE_NOT_FOUND`, `VAULT_NOT_FOUND`, `POLICY_NOT_FOUND`, `SECRET_NOT_FOUND`;
 * AppError `POLICY_DATASOURCE_TYPE_MISMATCH`, `SECRET_REQUIRED`, a broken service limit (422, see
 * {@link checkServiceLimits}), and the refusals of {@link startProtectionOnce}.
 */
export async function protectDatasource(
  deps: ProtectDependencies,
  orchestrations: OrchestrationPort,
  request: ProtectDatasourceRequest,
): Promise<ProtectionAnswer> {
  const datasource = await resolveDatasource(deps.provider.directory, request);
  const { datasourceId } = datasource;
  let warnings: ServiceLimitWarning[] = [];
  const started = await startProtectionOnce(orchestrations, {
    ...datasourceProtection(datasourceId),
    settings: () => settingsOf(deps, request),
    input: async () => {
      const vaultId = await vaultWithPolicy(deps, request, datasource.datasourceType);
      await checkDatasourceAccess(deps.provider.secrets, datasource, request.secretUri);
      warnings = await checkServiceLimits(deps.provider.limits, datasource, request.secretUri);
      return {
        datasource: { datasourceId },
        vaultId,
        policyName: request.policyName,
        ...(request.secretUri ? { secretUri: request.secretUri } : {}),
        ...(request.requestedBy ? { requestedBy: request.requestedBy } : {}),
        ...(request.correlation ? { correlation: request.correlation } : {}),
      } satisfies ProtectDatasourceInput;
    },
  });
  return {
    ...started,
    subject: { datasourceId },
    ...(started.started && warnings.length > 0 ? { warnings } : {}),
  };
}

/**
 * The server whose databases are to be protected one by one.
 *
 * @throws NotFoundError `DATASOURCE_NOT_FOUND`; AppError `ALL_DATABASES_ON_FLEXIBLE_SERVER` (400)
 * for a Flexible Server, whose backups are of the whole server.
 */
async function serverWithDatabases(
  deps: ProtectDependencies,
  serverName: string,
): Promise<DirectoryServer> {
  let server: DirectoryServer;
  try {
    server = await deps.provider.directory.resolveServer(serverName);
  } catch (error) {
    // The directory's "not found" is generic: name what is missing as the single form does.
    if (!isAppError(error) || error.httpStatus !== 404) throw error;
    throw new NotFoundError("DATASOURCE_NOT_FOUND", error.message, {
      cause: error,
      recommendedAction: `Check the server name '${serverName}'`,
    });
  }
  if (server.kind === "flexibleServers") {
    throw new AppError(
      "ALL_DATABASES_ON_FLEXIBLE_SERVER",
      `'${server.name}' is a Flexible Server: it is backed up whole, as one datasource, not database by database`,
      {
        httpStatus: 400,
        problems: [
          {
            path: "$.allDatabases",
            code: "ALL_DATABASES_ON_FLEXIBLE_SERVER",
            message: "a Flexible Server has no per-database protection",
          },
        ],
        recommendedAction: `Protect the server itself: POST /api/protections with {"serverName":"${server.name}","policyName":"..."} and no allDatabases, with a policy for Microsoft.DBforPostgreSQL/flexibleServers`,
      },
    );
  }
  return server;
}

/**
 * Protects every database of a server through `protectServer`, which runs one
 * `protectDatasource` per database under that database's own instance id.
 *
 * @remarks The checks that hold for every database run once, up front: the server exists and is
 * not a Flexible Server, the vault and the policy exist and the policy protects databases, the
 * one secret the databases share exists and holds a connection string, and the server breaks none
 * of the service's limits of a server as a whole (a read replica, its size). The limits of a
 * database are checked by the orchestration, database by database: one that breaks a limit is
 * left out, with its reason in the summary, and the others are protected.
 *
 * @throws as {@link protectDatasource}, with a broken server-wide limit answered as 422 alike.
 */
export async function protectServer(
  deps: ProtectDependencies,
  orchestrations: OrchestrationPort,
  request: ProtectServerRequest,
): Promise<ProtectionAnswer> {
  const server = await serverWithDatabases(deps, request.serverName);
  const { secretUri } = request;
  let warnings: ServiceLimitWarning[] = [];
  const started = await startProtectionOnce(orchestrations, {
    name: orchestrationNames.protectServer,
    instanceId: serverProtectionInstanceId(server.id),
    legacyInstanceIds: [legacyServerProtectionInstanceId(server.id)],
    label: `every database of ${server.id}`,
    isSameTarget: (input) => isForServer(input, server.name),
    settings: () => settingsOf(deps, request),
    input: async () => {
      const vaultId = await vaultWithPolicy(deps, request, DATABASE_DATASOURCE_TYPE);
      if (!secretUri) {
        // Without it every database's protection would fail alike, each in its own orchestration.
        throw new AppError(
          "SECRET_REQUIRED",
          `Protecting the databases of ${server.name} needs secretUri: a secret holding a connection string to the server, used for each database`,
          {
            httpStatus: 400,
            recommendedAction:
              "Store the connection string as a secret (locally: pgprotect local secret set NAME) and pass its URI as secretUri",
          },
        );
      }
      await checkDatasourceAccess(
        deps.provider.secrets,
        { kind: "database", friendlyName: `${server.name} (every database)` },
        secretUri,
      );
      warnings = await checkServerWideLimits(deps.provider.limits, fromServer(server));
      return {
        serverName: server.name,
        vaultId,
        policyName: request.policyName,
        secretUri,
        ...(request.maxConcurrency !== undefined ? { maxConcurrency: request.maxConcurrency } : {}),
        ...(deps.config.PROTECT_SERVER_CHILD_TIMEOUT_MINUTES !== undefined
          ? { childTimeoutMinutes: deps.config.PROTECT_SERVER_CHILD_TIMEOUT_MINUTES }
          : {}),
        ...(request.requestedBy ? { requestedBy: request.requestedBy } : {}),
        ...(request.correlation ? { correlation: request.correlation } : {}),
      } satisfies ProtectServerInput;
    },
  });
  return {
    ...started,
    subject: { serverId: server.id, serverName: server.name, allDatabases: true },
    ...(started.started && warnings.length > 0 ? { warnings } : {}),
  };
}

/** Logs a protection request's answer under the operation it started or found. */
export function logProtectionAnswer(
  log: EventLogger,
  answer: ProtectionAnswer,
  requestedBy?: string,
): void {
  const { subject } = answer;
  const target = [subject["datasourceId"], subject["serverId"]].find(
    (value): value is string => typeof value === "string",
  );
  log.with({ operationId: answer.instanceId }).emit(logEvents.protectionRequested, {
    target: target ?? answer.instanceId,
    orchestration:
      subject["allDatabases"] === true
        ? orchestrationNames.protectServer
        : orchestrationNames.protectDatasource,
    status: answer.started ? "Pending" : answer.status.runtimeStatus,
    existing: !answer.started,
    requestedBy,
  });
  if (answer.warnings?.length) {
    log.with({ operationId: answer.instanceId }).emit(logEvents.protectionLimitsWarned, {
      target: target ?? answer.instanceId,
      limits: answer.warnings.filter((w) => w.checked).map((w) => w.limit),
      unchecked: answer.warnings.filter((w) => !w.checked).map((w) => w.limit),
    });
  }
}
