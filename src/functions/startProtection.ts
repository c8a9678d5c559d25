import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import * as df from "durable-functions";
import type { DurableClient } from "durable-functions";
import { z } from "zod";
import {
  checkDatasourceAccess,
  checkPolicyFits,
  resolveDatasource,
} from "../activities/protectionChecks.js";
import { appDependencies, type AppDependencies } from "../composition.js";
import { AppError, isAppError, NotFoundError } from "../domain/errors.js";
import { parseVaultId, sameResourceId } from "../domain/protection/ids.js";
import {
  assertName,
  databaseNameRule,
  policyNameRule,
  vaultNameRule,
} from "../domain/protection/names.js";
import {
  legacyProtectionInstanceId,
  legacyServerProtectionInstanceId,
  serverProtectionInstanceId,
} from "../domain/protection/operationIds.js";
import { DATABASE_DATASOURCE_TYPE } from "../domain/protection/naming.js";
import { vaultsToSearch } from "../http/backupLookup.js";
import { json, withProblemDetails } from "../http/handler.js";
import { findInstance, protectionIsLiveOrSucceeded } from "../http/durableStatus.js";
import {
  findExistingProtection,
  isForDatasource,
  isForServer,
  protectionConflict,
  settingDifferences,
  type ExistingOperation,
  type ProtectionSettings,
} from "../http/existingProtection.js";
import { authorize } from "../http/principal.js";
import { readBody } from "../http/requestBody.js";
import { orchestrationNames } from "../orchestrations/names.js";
import {
  protectionInstanceId,
  type ProtectDatasourceInput,
} from "../orchestrations/protectDatasource.js";
import type { ProtectServerInput } from "../orchestrations/protectServer.js";
import type { DirectoryServer } from "../providers/ports.js";

/** The most databases `protectServer` protects at once, whatever a caller asks for. */
const maxServerConcurrency = 32;

/** The body of `POST /api/protections`. */
export const startProtectionBody = z
  .object({
    datasourceId: z.string().min(1).optional(),
    serverName: z.string().min(1).optional(),
    databaseName: z.string().min(1).optional(),
    vaultName: z.string().min(1).optional(),
    policyName: z.string().min(1),
    secretUri: z.string().url().optional(),
    allDatabases: z
      .boolean()
      .optional()
      .describe(
        "Protect every database of the Single Server-style server `serverName`, each as its own datasource, with one secret (`secretUri`) that reaches them all. Not for a Flexible Server: it is protected whole.",
      ),
    maxConcurrency: z
      .number()
      .int()
      .min(1)
      .max(maxServerConcurrency)
      .optional()
      .describe("With `allDatabases`: how many databases are protected at once (default 4)."),
  })
  .refine(
    (body) => body.allDatabases === true || body.datasourceId !== undefined || body.serverName,
    {
      message: "name the datasource by datasourceId, or by serverName (and databaseName)",
      path: ["datasourceId"],
    },
  )
  .refine((body) => body.allDatabases !== true || body.serverName !== undefined, {
    message: "allDatabases protects the databases of serverName: name the server",
    path: ["serverName"],
  })
  .refine(
    (body) =>
      body.allDatabases !== true ||
      (body.databaseName === undefined && body.datasourceId === undefined),
    {
      message:
        "allDatabases protects every database of serverName: leave databaseName and datasourceId out, or protect that one datasource without allDatabases",
      path: ["allDatabases"],
    },
  )
  .refine((body) => body.maxConcurrency === undefined || body.allDatabases === true, {
    message: "maxConcurrency applies only with allDatabases",
    path: ["maxConcurrency"],
  });

/** A checked `POST /api/protections` body. */
export type StartProtectionBody = z.infer<typeof startProtectionBody>;

/** The Durable client calls a start makes. */
export type ProtectionStarter = Pick<DurableClient, "getStatus" | "startNew">;

/** The durable instance that protects every database of a server (see `domain/protection/operationIds.ts`). */
export { serverProtectionInstanceId };

/**
 * The vault a request names (or the default one), when it exists.
 *
 * @remarks A vault exists when it is one the app covers, as the listing endpoints see them: a
 * configured vault, or (local provider, none configured) the default vault and every vault made
 * by `pgprotect local vault create`.
 * @throws NotFoundError `VaultNotFound`, or `VAULT_NOT_CONFIGURED` for a name outside the
 * configured vaults.
 */
async function existingVault(
  deps: AppDependencies,
  vaultName: string | undefined,
  policyName: string,
): Promise<string> {
  const vaultId = deps.vaults.resolve(vaultName);
  // The vault as it spells itself: `PGPROTECT-VAULT` is the vault `pgprotect-vault`.
  const known = (await vaultsToSearch(deps)).find((id) => sameResourceId(id, vaultId));
  if (known) return known;
  const name = parseVaultId(vaultId).vaultName;
  throw new NotFoundError("VaultNotFound", `There is no vault '${name}'`, {
    recommendedAction: `Name an existing vault (GET /api/backup-instances shows them; locally, create one with pgprotect local vault create ${name} and store the policy ${policyName} in it), or leave vaultName out to use the default vault`,
  });
}

/**
 * Starts an orchestration under a derived instance id unless that instance is running or has
 * succeeded, and answers 202 with its status URL either way.
 */
async function startOnce(
  request: HttpRequest,
  client: ProtectionStarter,
  start: {
    readonly name: string;
    readonly instanceId: string;
    /** What is protected, for messages. */
    readonly label: string;
    /** What the answer names besides the operation, e.g. `{ datasourceId }`. */
    readonly subject: Record<string, unknown>;
    /** The ids earlier versions gave the same target's operation. */
    readonly legacyInstanceIds: readonly string[];
    /** Whether an operation's recorded input is for this very target. */
    readonly isSameTarget: (input: unknown) => boolean;
    /**
     * The settings this request asks for, compared with an existing operation's.
     *
     * @throws NotFoundError `VaultNotFound`: a vault that does not exist is a 404, repeat or not.
     */
    readonly settings: () => Promise<ProtectionSettings>;
    /**
     * Runs the checks that may refuse the request and builds the orchestration's input; only
     * when a new run is to start, so an operation under way is answered whatever changed since.
     */
    readonly prepare: () => Promise<unknown>;
  },
): Promise<HttpResponseInit> {
  const { instanceId, subject } = start;
  const statusUrl = new URL(`/api/protections/${instanceId}`, request.url).toString();
  const answerExisting = async ({ instanceId: id, status }: ExistingOperation) => {
    // A repeat asking for other settings is not the same request: say what differs.
    const differences = settingDifferences(status.input, await start.settings());
    if (differences.length > 0)
      throw protectionConflict({ instanceId: id, status }, start.label, differences);
    const url = new URL(`/api/protections/${id}`, request.url).toString();
    return json(
      202,
      { id, ...subject, status: status.runtimeStatus, statusUrl: url, existing: true },
      { location: url },
    );
  };

  const existing = await findExistingProtection(
    client,
    [instanceId, ...start.legacyInstanceIds],
    start.isSameTarget,
  );
  if (existing) return answerExisting(existing);

  const input = await start.prepare();
  try {
    await client.startNew(start.name, { instanceId, input });
  } catch (error) {
    // A concurrent request for the same target started it first: answer that operation.
    const raced = await findInstance(client as DurableClient, instanceId);
    if (protectionIsLiveOrSucceeded(raced) && start.isSameTarget(raced.input))
      return answerExisting({ instanceId, status: raced });
    throw new AppError(
      "PROTECTION_START_FAILED",
      `The protection of ${start.label} could not start: ${(error as Error).message}`,
      {
        httpStatus: 503,
        retryable: true,
        cause: error,
      },
    );
  }
  return json(
    202,
    { id: instanceId, ...subject, status: "Pending", statusUrl, existing: false },
    { location: statusUrl },
  );
}

/** Protects one datasource through `protectDatasource`. */
async function startDatasourceProtection(
  request: HttpRequest,
  client: ProtectionStarter,
  deps: AppDependencies,
  body: StartProtectionBody,
  requestedBy: string | undefined,
): Promise<HttpResponseInit> {
  const datasource = await resolveDatasource(deps.provider.directory, body);
  const { datasourceId } = datasource;
  return startOnce(request, client, {
    name: orchestrationNames.protectDatasource,
    instanceId: protectionInstanceId(datasourceId),
    label: datasourceId,
    subject: { datasourceId },
    legacyInstanceIds: [legacyProtectionInstanceId(datasourceId)],
    isSameTarget: (input) => isForDatasource(input, datasourceId),
    settings: async () => ({
      vaultId: await existingVault(deps, body.vaultName, body.policyName),
      policyName: body.policyName,
      secretUri: body.secretUri,
    }),
    prepare: async () => {
      const vaultId = await existingVault(deps, body.vaultName, body.policyName);
      await checkPolicyFits(
        deps.provider.backup,
        vaultId,
        body.policyName,
        datasource.datasourceType,
      );
      await checkDatasourceAccess(deps.provider.secrets, datasource, body.secretUri);
      return {
        datasource: { datasourceId },
        vaultId,
        policyName: body.policyName,
        ...(body.secretUri ? { secretUri: body.secretUri } : {}),
        ...(requestedBy ? { requestedBy } : {}),
      } satisfies ProtectDatasourceInput;
    },
  });
}

/**
 * The server whose databases are to be protected one by one.
 *
 * @throws NotFoundError `DatasourceNotFound`; AppError `ALL_DATABASES_ON_FLEXIBLE_SERVER` (400)
 * for a Flexible Server, whose backups are of the whole server.
 */
async function serverWithDatabases(
  deps: AppDependencies,
  serverName: string,
): Promise<DirectoryServer> {
  let server: DirectoryServer;
  try {
    server = await deps.provider.directory.resolveServer(serverName);
  } catch (error) {
    // The directory's "not found" is generic: name what is missing as the single form does.
    if (!isAppError(error) || error.httpStatus !== 404) throw error;
    throw new NotFoundError("DatasourceNotFound", error.message, {
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
 * not a Flexible Server, the vault and the policy exist and the policy protects databases, and
 * the one secret the databases share exists and holds a connection string.
 */
async function startServerProtection(
  request: HttpRequest,
  client: ProtectionStarter,
  deps: AppDependencies,
  body: StartProtectionBody & { readonly serverName: string },
  requestedBy: string | undefined,
): Promise<HttpResponseInit> {
  const server = await serverWithDatabases(deps, body.serverName);
  const { secretUri } = body;
  return startOnce(request, client, {
    name: orchestrationNames.protectServer,
    instanceId: serverProtectionInstanceId(server.id),
    label: `every database of ${server.id}`,
    subject: { serverId: server.id, serverName: server.name, allDatabases: true },
    legacyInstanceIds: [legacyServerProtectionInstanceId(server.id)],
    isSameTarget: (input) => isForServer(input, server.name),
    settings: async () => ({
      vaultId: await existingVault(deps, body.vaultName, body.policyName),
      policyName: body.policyName,
      secretUri,
    }),
    prepare: async () => {
      const vaultId = await existingVault(deps, body.vaultName, body.policyName);
      await checkPolicyFits(
        deps.provider.backup,
        vaultId,
        body.policyName,
        DATABASE_DATASOURCE_TYPE,
      );
      if (!secretUri) {
        // Without it every database's protection would fail alike, each in its own orchestration.
        throw new AppError(
          "SecretNotFound",
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
      return {
        serverName: server.name,
        vaultId,
        policyName: body.policyName,
        secretUri,
        ...(body.maxConcurrency !== undefined ? { maxConcurrency: body.maxConcurrency } : {}),
        ...(deps.config.PROTECT_SERVER_CHILD_TIMEOUT_MINUTES !== undefined
          ? { childTimeoutMinutes: deps.config.PROTECT_SERVER_CHILD_TIMEOUT_MINUTES }
          : {}),
        ...(requestedBy ? { requestedBy } : {}),
      } satisfies ProtectServerInput;
    },
  });
}

/**
 * Answers `POST /api/protections` with the Durable client and dependencies given, so that tests
 * can pass their own.
 */
export async function answerStartProtection(
  request: HttpRequest,
  client: ProtectionStarter,
  deps: AppDependencies,
): Promise<HttpResponseInit> {
  const requestedBy = authorize(request, "Backup.Operator", deps.config.WEBSITE_AUTH_ENABLED);
  const body = await readBody(request, startProtectionBody);
  if (body.vaultName !== undefined) assertName(vaultNameRule, body.vaultName, "$.vaultName");
  assertName(policyNameRule, body.policyName, "$.policyName");
  if (body.databaseName !== undefined)
    assertName(databaseNameRule, body.databaseName, "$.databaseName");
  return body.allDatabases === true && body.serverName !== undefined
    ? startServerProtection(
        request,
        client,
        deps,
        { ...body, serverName: body.serverName },
        requestedBy,
      )
    : startDatasourceProtection(request, client, deps, body, requestedBy);
}

/**
 * `POST /api/protections`: protect a datasource or, with `allDatabases`, every database of a
 * server. Answers 202 with a status URL. The operation's id is derived from the datasource (or
 * the server), so asking again answers the same operation while it runs or has succeeded, and
 * never creates a second backup instance; after a failure it runs again.
 *
 * @remarks Facts that are cheap to check are checked before anything starts, with the same
 * functions the orchestration's activities use, so a request that cannot succeed is a 4xx problem
 * and leaves nothing behind: the datasource or server (`DatasourceNotFound`; a Flexible Server
 * with `allDatabases` is `ALL_DATABASES_ON_FLEXIBLE_SERVER`), the vault (`VaultNotFound`), the
 * policy (`PolicyNotFound`, `PolicyDatasourceTypeMismatch`) and, for databases, the secret
 * (`SecretNotFound`). The orchestration checks them again: it also starts from events and plans,
 * and things change in between.
 */
export async function startProtection(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  return answerStartProtection(request, df.getClient(context), await appDependencies());
}

app.http("startProtection", {
  route: "protections",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: withProblemDetails(startProtection),
});
