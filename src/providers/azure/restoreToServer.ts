/**
 * Restore to a server in Azure: the dump a restore as files left in a blob container is
 * downloaded, loaded with `pg_restore` into a new database under a temporary name, verified
 * against the dump itself the way local restores are (row counts and content checksums of every
 * table, large objects, sequences), and only then renamed to the name the caller asked for. A
 * failure drops the temporary database: the caller gets a verified database or none.
 *
 * @remarks The temporary name is derived from the load's id, so a retry (the activity runs again
 * after a crash) drops what its earlier attempt left and starts over; a load that was already
 * renamed into place is recognised by the comment it left on the database and answered as it is.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TokenCredential } from "@azure/identity";
import { BlobServiceClient, ContainerClient } from "@azure/storage-blob";
import { ErrorCodes } from "../../domain/errorCodes.js";
import { AppError, NotFoundError } from "../../domain/errors.js";
import {
  libpqEnvironment,
  parseConnectionString,
  type PostgresConnectionParams,
} from "../../domain/protection/connectionString.js";
import type { RestoreVerificationSummary } from "../../domain/protection/types.js";
import {
  clientConfig,
  postgresBinDir,
  quoteIdent,
  quoteLiteral,
  runTool,
  serverMajorOf,
  toolSessionOptions,
  ToolFailedError,
  verificationSummary,
  verifyRestoredDatabase,
  withClient,
} from "../postgresTools.js";
import {
  ProviderErrorCodes,
  type LoadedDatabase,
  type LoadRestoredFilesRequest,
  type RestoreToServerPort,
  type SecretPort,
} from "../ports.js";
import { containerNameOf } from "./containerUrl.js";

/** Options of {@link createRestoreToServer}. */
export interface RestoreToServerOptions {
  /** Reads the target server's connection string. */
  readonly secrets: Pick<SecretPort, "getSecret">;
  /** Reads the container (the app's identity needs Storage Blob Data Reader on it). */
  readonly credential: TokenCredential;
  /**
   * A connection string of the containers' storage account, used instead of the identity (an
   * account with shared keys, or the Azurite emulator).
   */
  readonly storageConnectionString?: string;
  /** Folder of `pg_restore` and `psql`; found like the local provider finds it when absent. */
  readonly binDir?: string;
  /** Where the dump is downloaded to; the system's temporary folder by default. */
  readonly workDir?: string;
}

/** The longest database name PostgreSQL keeps (NAMEDATALEN - 1). */
const maxDatabaseName = 63;

/** The name a load's database has until it is verified: the target's, marked with the load. */
export function temporaryDatabaseName(databaseName: string, loadId: string): string {
  const tag = createHash("sha256").update(loadId).digest("hex").slice(0, 10);
  const suffix = `_restoring_${tag}`;
  return `${databaseName.slice(0, maxDatabaseName - suffix.length)}${suffix}`;
}

/** What a finished load leaves on its database, so that a retry knows it for its own. */
function loadMarker(loadId: string): string {
  return `pgprotect restore ${loadId}`;
}

/** Creates the port. */
export function createRestoreToServer(options: RestoreToServerOptions): RestoreToServerPort {
  let binDir: Promise<string> | undefined;
  const bin = (): Promise<string> =>
    (binDir ??= options.binDir ? Promise.resolve(options.binDir) : postgresBinDir());
  const container = (containerUrl: string): ContainerClient =>
    options.storageConnectionString
      ? BlobServiceClient.fromConnectionString(options.storageConnectionString).getContainerClient(
          containerNameOf(containerUrl),
        )
      : new ContainerClient(containerUrl, options.credential);

  return {
    async listRestoredDatabases(request: {
      readonly containerUrl: string;
      readonly filePrefix: string;
    }): Promise<string[]> {
      const databases: string[] = [];
      for await (const blob of container(request.containerUrl).listBlobsFlat({
        prefix: request.filePrefix,
      })) {
        const database = restoredDatabaseOf(blob.name, request.filePrefix);
        if (database !== undefined) databases.push(database);
      }
      return databases.sort();
    },

    async loadRestoredFiles(request: LoadRestoredFilesRequest): Promise<LoadedDatabase> {
      const params = parseConnectionString(await options.secrets.getSecret(request.secretUri));
      const server = `${params.host ?? "localhost"}:${params.port ?? 5432}`;
      const admin = clientConfig(params, params.database ?? "postgres");
      const finished = await finishedLoad(admin, request);
      if (finished) return { ...finished, server };

      const blobs = container(request.containerUrl);
      const blobName = await pickDump(blobs, request);
      const temporary = temporaryDatabaseName(request.databaseName, request.loadId);
      const work = await mkdtemp(path.join(options.workDir ?? tmpdir(), "pgprotect-restore-"));
      try {
        const started = Date.now();
        const dumpFile = path.join(work, "restore.dump");
        await blobs.getBlobClient(blobName).downloadToFile(dumpFile);
        const dumpBytes = (await stat(dumpFile)).size;
        const downloaded = Date.now();

        const serverMajor = await withClient(
          admin,
          `Creating database '${temporary}'`,
          async (client) => {
            const major = serverMajorOf(
              (await client.query<{ server_version_num: string }>("SHOW server_version_num"))
                .rows[0]?.server_version_num,
            );
            // Only this load's own leftover has this name: a crashed attempt's, dropped to start over.
            await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(temporary)} WITH (FORCE)`);
            await client.query(`CREATE DATABASE ${quoteIdent(temporary)}`);
            return major;
          },
        ).catch((error: unknown) => {
          throw createRefused(error, params, temporary);
        });

        const tools = await bin();
        let verification: RestoreVerificationSummary;
        let loaded = 0;
        try {
          const connection = libpqEnvironment(params, temporary);
          await runTool(
            path.join(tools, "pg_restore"),
            [
              "--no-owner",
              "--no-acl",
              "--exit-on-error",
              "--no-password",
              "-d",
              temporary,
              dumpFile,
            ],
            {
              env: {
                ...connection,
                ...toolSessionOptions(connection.PGOPTIONS ?? process.env.PGOPTIONS, serverMajor),
              },
            },
          );
          loaded = Date.now();
          const report = await verifyRestoredDatabase(tools, dumpFile, params, temporary, {
            ...(serverMajor === undefined ? {} : { serverMajor }),
          });
          verification = verificationSummary(report);
          if (!report.verified) {
            throw new AppError(
              ProviderErrorCodes.restoreVerificationFailed,
              `The data loaded into '${request.databaseName}' differ from the restored dump: ${report.mismatches.slice(0, 5).join("; ")}; the database was dropped`,
              {
                httpStatus: 500,
                recommendedAction:
                  "Restore the recovery point again; if it differs again, load the dump by hand and compare",
              },
            );
          }
          await withClient(admin, `Renaming database '${temporary}'`, async (client) => {
            // Marked before the rename: a crash between the two leaves either a temporary database
            // (a retry drops it) or the target with its marker (a retry answers it), never a
            // target without one, which a retry would refuse as somebody else's database.
            await client.query(
              `COMMENT ON DATABASE ${quoteIdent(temporary)} IS ${quoteLiteral(
                `${loadMarker(request.loadId)} ${JSON.stringify({ blobName, dumpBytes, verification })}`,
              )}`,
            );
            await client.query(
              `ALTER DATABASE ${quoteIdent(temporary)} RENAME TO ${quoteIdent(request.databaseName)}`,
            );
          });
        } catch (error) {
          // Nothing half-written stays behind.
          await withClient(admin, `Dropping database '${temporary}'`, (client) =>
            client.query(`DROP DATABASE IF EXISTS ${quoteIdent(temporary)} WITH (FORCE)`),
          ).catch(() => undefined);
          throw loadFailure(error, request.databaseName);
        }
        const verified = Date.now();
        return {
          databaseName: request.databaseName,
          server,
          blobName,
          dumpBytes,
          verification,
          seconds: {
            download: (downloaded - started) / 1000,
            load: (loaded - downloaded) / 1000,
            verify: (verified - loaded) / 1000,
          },
        };
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    },
  };
}

/**
 * The load as it finished earlier, when the target database exists and is this load's; a target
 * that exists and is not refuses the load.
 */
async function finishedLoad(
  admin: ReturnType<typeof clientConfig>,
  request: LoadRestoredFilesRequest,
): Promise<Omit<LoadedDatabase, "server"> | undefined> {
  const row = await withClient(admin, `Looking for database '${request.databaseName}'`, (client) =>
    client
      .query<{ comment: string | null }>(
        "SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1",
        [request.databaseName],
      )
      .then((r) => r.rows[0]),
  );
  if (!row) return undefined;
  const marker = `${loadMarker(request.loadId)} `;
  if (row.comment?.startsWith(marker)) {
    const recorded = JSON.parse(row.comment.slice(marker.length)) as Pick<
      LoadedDatabase,
      "blobName" | "dumpBytes" | "verification"
    >;
    return {
      databaseName: request.databaseName,
      ...recorded,
      seconds: { download: 0, load: 0, verify: 0 },
    };
  }
  throw new AppError(
    ErrorCodes.RESTORE_TARGET_EXISTS,
    `The server has a database '${request.databaseName}' already; a restore never overwrites one`,
    { httpStatus: 409, recommendedAction: "Restore under a new database name" },
  );
}

/**
 * The database a restore's file holds, read from its name: `{prefix}_{database}.dump`, as the
 * service writes one file per database of a whole server; `undefined` for any other name.
 */
export function restoredDatabaseOf(blobName: string, filePrefix: string): string | undefined {
  if (!blobName.startsWith(`${filePrefix}_`) || !blobName.endsWith(".dump")) return undefined;
  const database = blobName.slice(filePrefix.length + 1, -".dump".length);
  return database === "" ? undefined : database;
}

/** The blob holding the dump to load: the one of the database asked, or the only one. */
async function pickDump(
  blobs: ContainerClient,
  request: LoadRestoredFilesRequest,
): Promise<string> {
  const names: string[] = [];
  for await (const blob of blobs.listBlobsFlat({ prefix: request.filePrefix }))
    names.push(blob.name);
  return chooseDump(names, request);
}

/**
 * Of the blobs a restore wrote under a prefix, the dump to load: the one whose name reads as the
 * database asked ({@link restoredDatabaseOf}, the rule the drill's plan lists databases by), or,
 * when none does, the only one whose name contains it; without a database asked, the only blob.
 *
 * @throws NotFoundError `RESTORED_FILES_NOT_FOUND` when none fits; AppError
 * `RESTORED_FILES_AMBIGUOUS` when several do.
 */
export function chooseDump(
  names: readonly string[],
  request: Pick<LoadRestoredFilesRequest, "filePrefix" | "containerUrl" | "sourceDatabaseName">,
): string {
  const wanted = request.sourceDatabaseName;
  // A file that names its database exactly wins over a looser match (a name that only contains
  // it), as `orders` must not also pick `orders_archive`.
  const exact = wanted
    ? names.filter((name) => restoredDatabaseOf(name, request.filePrefix) === wanted)
    : [];
  const rest = (name: string): string => name.slice(request.filePrefix.length);
  const candidates = !wanted
    ? names
    : exact.length > 0
      ? exact
      : names.filter((name) => rest(name).includes(wanted));
  if (candidates.length === 1 && candidates[0] !== undefined) return candidates[0];
  if (candidates.length === 0) {
    throw new NotFoundError(
      ErrorCodes.RESTORED_FILES_NOT_FOUND,
      `No file under '${request.filePrefix}'${wanted ? ` of database '${wanted}'` : ""} is in the container ${request.containerUrl}`,
      {
        recommendedAction: wanted
          ? `Name a database the files hold: ${names.map(rest).join(", ") || "none"}`
          : "Check the restore job: it wrote no file into the container",
      },
    );
  }
  throw new AppError(
    ErrorCodes.RESTORED_FILES_AMBIGUOUS,
    `The restore wrote ${candidates.length} dumps (${candidates.join(", ")}); name the database to load`,
    { httpStatus: 409, recommendedAction: "Send sourceDatabaseName with the database to load" },
  );
}

/** The failure of creating the temporary database, said in terms of what the user can change. */
function createRefused(
  error: unknown,
  params: PostgresConnectionParams,
  temporary: string,
): unknown {
  if ((error as { code?: string }).code !== "42501") return error;
  const user = params.user ?? "the secret's user";
  return new AppError(
    ProviderErrorCodes.missingDbPermissions,
    `Restoring to the server needs a new database ('${temporary}'), and the user '${user}' may not create one`,
    {
      httpStatus: 400,
      cause: error,
      recommendedAction: `Grant the user the right to create databases (ALTER ROLE ${quoteIdent(user)} CREATEDB), or use a secret whose user has it`,
    },
  );
}

/** A failed load as the catalogue names it. */
function loadFailure(error: unknown, databaseName: string): unknown {
  if (!(error instanceof ToolFailedError)) return error;
  const refused = /password authentication failed|permission denied/i.test(error.stderr);
  return new AppError(
    refused ? ProviderErrorCodes.missingDbPermissions : ProviderErrorCodes.restoreFailed,
    `pg_restore into '${databaseName}' failed: ${error.message}; the partly loaded database was dropped`,
    { httpStatus: refused ? 400 : 500, cause: error },
  );
}
